#include "seccomp/cache.h"

#include <elf.h>
#include <link.h>

#include <dirent.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/digest.h"
#include "base/fd.h"
#include "version.h"

namespace ctrun::seccomp {
namespace {

constexpr char kMagic[8] = {'C', 'T', 'B', 'P', 'F', '0', '0', '1'};
constexpr const char* kDir = "@seccomp";
constexpr size_t kMaxEntries = 128;
constexpr size_t kMaxFile = 4u << 20;

void put_u64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& s, const std::string& v) {
  put_u64(s, v.size());
  s += v;
}

class In {
 public:
  explicit In(const std::string& s) : s_(s) {}
  bool u64(uint64_t& v) {
    if (s_.size() - pos_ < sizeof v) return false;
    std::memcpy(&v, s_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool str(std::string& v) {
    uint64_t n;
    if (!u64(n) || s_.size() - pos_ < n) return false;
    v.assign(s_, pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  const std::string& s_;
  size_t pos_ = 0;
};

// An entry's name: the start of the key's sha256.
std::string file_name(const std::string& key) { return sha256_hex(key.data(), key.size()).substr(0, 16) + ".bpf"; }

// The GNU build id of ctrun's own ELF image, read from memory: the same for
// the binary on disk and for the sealed copy `ctrun exec` runs from (whose
// inode is new each time). Empty when the linker left none.
std::string own_build_id() {
  std::string id;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* out) {
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
          const char* end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            const auto* n = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const char* name = p + sizeof(ElfW(Nhdr));
            const char* desc = name + ((n->n_namesz + 3) & ~3U);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
                desc + n->n_descsz <= end) {
              static_cast<std::string*>(out)->assign(desc, n->n_descsz);
              return 1;
            }
            p = desc + ((n->n_descsz + 3) & ~3U);
          }
        }
        return 1;  // the first object is the program itself: look no further
      },
      &id);
  return id;
}

bool safe_dir(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

}  // namespace

std::string cache_key(const std::string& profile_text, const Context& ctx) {
  const scmp_version* v = seccomp_version();
  std::string k;
  put_str(k, CTRUN_VERSION);
  // The binary itself: a rebuilt ctrun (a changed compiler) never reads an
  // older one's entries. Its build id where it has one (the sealed copy of
  // `ctrun exec` shares it), else the file's identity.
  static const std::string build_id = own_build_id();
  if (!build_id.empty()) {
    put_str(k, build_id);
  } else {
    struct stat self {};
    stat("/proc/self/exe", &self);
    put_u64(k, self.st_dev);
    put_u64(k, self.st_ino);
    put_u64(k, static_cast<uint64_t>(self.st_size));
    put_u64(k, static_cast<uint64_t>(self.st_mtim.tv_sec) * 1000000000ULL + static_cast<uint64_t>(self.st_mtim.tv_nsec));
  }
  put_u64(k, v ? (v->major << 16 | v->minor << 8 | v->micro) : 0);
  put_u64(k, seccomp_arch_native());
  put_str(k, ctx.kernel_release);
  put_u64(k, ctx.caps);
  put_u64(k, ctx.shrink);
  put_u64(k, ctx.allow.size());
  for (const auto& a : ctx.allow) put_str(k, a);
  put_u64(k, ctx.deny.size());
  for (const auto& d : ctx.deny) put_str(k, d);
  // The profile by its digest: the key is stored in the entry and read by
  // every start, and the default profile alone is some 20 KB.
  put_str(k, sha256_hex(profile_text.data(), profile_text.size()));
  return k;
}

int Cache::open_dir(bool create) const {
  UniqueFd state(open(state_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!state || !safe_dir(state.get())) return -1;
  if (create && mkdirat(state.get(), kDir, 0700) < 0 && errno != EEXIST) return -1;
  int fd = openat(state.get(), kDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && !safe_dir(fd)) {
    close(fd);
    return -1;
  }
  return fd;
}

bool Cache::load(const std::string& key, Compiled& out) const {
  UniqueFd dir(open_dir(false));
  if (!dir) return false;
  UniqueFd fd(openat(dir.get(), file_name(key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 022) != 0 || st.st_size <= 0 || static_cast<size_t>(st.st_size) > kMaxFile) {
    return false;
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  if (pread(fd.get(), data.data(), data.size(), 0) != st.st_size) return false;
  if (data.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0) return false;
  std::string body = data.substr(sizeof kMagic);
  In in(body);
  std::string stored_key;
  uint64_t flags, rules, syscalls, unknown, narches, nfilters;
  if (!in.str(stored_key) || stored_key != key) return false;
  if (!in.u64(flags) || !in.u64(rules) || !in.u64(syscalls) || !in.u64(unknown) || !in.u64(narches)) return false;
  Compiled c;
  c.flags = static_cast<unsigned>(flags);
  c.rules = rules;
  c.syscalls = syscalls;
  c.unknown_names = unknown;
  for (uint64_t i = 0; i < narches && i < 16; ++i) {
    std::string a;
    if (!in.str(a)) return false;
    c.arches.push_back(a);
  }
  if (!in.u64(nfilters) || nfilters == 0 || nfilters > 8) return false;
  for (uint64_t i = 0; i < nfilters; ++i) {
    std::string raw;
    if (!in.str(raw) || raw.empty() || raw.size() % sizeof(sock_filter) != 0 ||
        raw.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
      return false;
    }
    Program p(raw.size() / sizeof(sock_filter));
    std::memcpy(p.data(), raw.data(), raw.size());
    c.filters.push_back(std::move(p));
  }
  if (!in.done()) return false;
  out = std::move(c);
  return true;
}

void Cache::store(const std::string& key, const Compiled& c) const {
  UniqueFd dir(open_dir(true));
  if (!dir) return;
  // Bounded: past kMaxEntries the cache starts over.
  if (DIR* d = fdopendir(dup(dir.get()))) {
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    closedir(d);
    if (names.size() >= kMaxEntries) {
      for (const auto& n : names) unlinkat(dir.get(), n.c_str(), 0);
    }
  }
  std::string data(kMagic, sizeof kMagic);
  put_str(data, key);
  put_u64(data, c.flags);
  put_u64(data, c.rules);
  put_u64(data, c.syscalls);
  put_u64(data, c.unknown_names);
  put_u64(data, c.arches.size());
  for (const auto& a : c.arches) put_str(data, a);
  put_u64(data, c.filters.size());
  for (const auto& p : c.filters) {
    put_str(data, std::string(reinterpret_cast<const char*>(p.data()), p.size() * sizeof(sock_filter)));
  }
  // Written under a temporary name and renamed: a reader sees all or nothing.
  std::string name = file_name(key);
  std::string tmp = "." + name + "." + std::to_string(getpid());
  UniqueFd fd(openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return;
  bool ok = write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
  fd.reset();
  if (!ok || renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) < 0) unlinkat(dir.get(), tmp.c_str(), 0);
}

}  // namespace ctrun::seccomp
