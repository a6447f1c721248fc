#include "cgroup/mount_guard.h"

#include <fcntl.h>
#include <linux/btf.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fd.h"
#include "cgroup/bpf_insn.h"

namespace ctrun::cgroup {
namespace {

constexpr const char* kHook = "bpf_lsm_sb_kern_mount";

template <typename T>
bool read_at(std::string_view blob, size_t at, T& out) {
  if (at > blob.size() || blob.size() - at < sizeof(T)) return false;
  std::memcpy(&out, blob.data() + at, sizeof(T));
  return true;
}

// How many bytes follow a btf_type of this kind (BTF's stable format,
// Documentation/bpf/btf.rst); -1 for a kind this code does not know.
long trailing_bytes(uint32_t kind, uint32_t vlen) {
  switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: return 4;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: return 0;
    case BTF_KIND_ARRAY: return sizeof(btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: return static_cast<long>(vlen * sizeof(btf_member));
    case BTF_KIND_ENUM: return static_cast<long>(vlen * sizeof(btf_enum));
    case BTF_KIND_FUNC_PROTO: return static_cast<long>(vlen * sizeof(btf_param));
    case BTF_KIND_DATASEC: return static_cast<long>(vlen * sizeof(btf_var_secinfo));
    case BTF_KIND_ENUM64: return static_cast<long>(vlen * sizeof(btf_enum64));
    default: return -1;
  }
}

std::string read_all(int fd) {
  std::string out;
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 14];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

bool find_guard_targets(std::string_view btf, GuardTargets& out, std::string& why) {
  btf_header h{};
  if (!read_at(btf, 0, h) || h.magic != BTF_MAGIC) {
    why = "the kernel's BTF is not BTF (bad magic)";
    return false;
  }
  size_t types = size_t{h.hdr_len} + h.type_off, strings = size_t{h.hdr_len} + h.str_off;
  if (types + h.type_len > btf.size() || strings + h.str_len > btf.size()) {
    why = "the kernel's BTF is truncated";
    return false;
  }
  auto name = [&](uint32_t off) -> std::string_view {
    if (off >= h.str_len) return {};
    std::string_view s = btf.substr(strings + off, h.str_len - off);
    return s.substr(0, s.find('\0'));
  };
  out = {};
  size_t at = types, end = types + h.type_len;
  for (uint32_t id = 1; at < end; ++id) {
    btf_type t{};
    if (!read_at(btf, at, t) || at + sizeof t > end) {
      why = "the kernel's BTF is truncated";
      return false;
    }
    uint32_t kind = BTF_INFO_KIND(t.info), vlen = BTF_INFO_VLEN(t.info);
    long extra = trailing_bytes(kind, vlen);
    if (extra < 0) {
      why = "the kernel's BTF has a type kind this ctrun does not know (" + std::to_string(kind) + ")";
      return false;
    }
    if (kind == BTF_KIND_FUNC && out.hook_id == 0 && name(t.name_off) == kHook) out.hook_id = id;
    if (kind == BTF_KIND_STRUCT && out.magic_offset < 0 && name(t.name_off) == "super_block") {
      for (uint32_t i = 0; i < vlen; ++i) {
        btf_member m{};
        if (!read_at(btf, at + sizeof t + i * sizeof m, m)) break;
        if (name(m.name_off) != "s_magic") continue;
        uint32_t bits = BTF_INFO_KFLAG(t.info) ? BTF_MEMBER_BIT_OFFSET(m.offset) : m.offset;
        if (bits % 8 == 0) out.magic_offset = static_cast<int32_t>(bits / 8);
      }
    }
    at += sizeof t + static_cast<size_t>(extra);
  }
  if (out.hook_id == 0) {
    why = std::string("the kernel has no BPF LSM hook ") + kHook + " (Linux 5.7 or later with CONFIG_BPF_LSM)";
    return false;
  }
  if (out.magic_offset < 0 || out.magic_offset > INT16_MAX) {
    why = "the kernel's BTF has no struct super_block with s_magic";
    return false;
  }
  return true;
}

std::vector<bpf_insn> mount_guard_program(int32_t magic_offset) {
  return {
      // r1: the hook's arguments as u64s; the first is the super block.
      insn(BPF_LDX | BPF_DW | BPF_MEM, 2, 1, 0, 0),
      // s_magic (an unsigned long), read through the typed pointer.
      insn(BPF_LDX | BPF_DW | BPF_MEM, 2, 2, static_cast<int16_t>(magic_offset), 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
      insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 1, CGROUP_SUPER_MAGIC),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
}

std::string active_lsms() {
  UniqueFd fd(open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC));
  if (!fd) {
    // securityfs is not mounted here: a mount of it that is never attached
    // anywhere (gone with its fd) shows the same file.
    UniqueFd fs(static_cast<int>(syscall(SYS_fsopen, "securityfs", FSOPEN_CLOEXEC)));
    if (!fs || syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return {};
    UniqueFd mnt(static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY)));
    if (!mnt) return {};
    fd.reset(openat(mnt.get(), "lsm", O_RDONLY | O_CLOEXEC));
  }
  if (!fd) return {};
  std::string text = read_all(fd.get());
  return text.substr(0, text.find('\n'));
}

int load_mount_guard(std::string& why) {
  std::string lsms = active_lsms();
  if (("," + lsms + ",").find(",bpf,") == std::string::npos) {
    why = lsms.empty() ? "the active LSMs cannot be read (no securityfs)"
                       : "the bpf LSM is not active on this host (lsm=" + lsms + "; it needs bpf in the kernel's lsm= list)";
    return -1;
  }
  UniqueFd btf_fd(open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!btf_fd || fstat(btf_fd.get(), &st) < 0) {
    why = std::string("the kernel has no BTF (/sys/kernel/btf/vmlinux: ") + std::strerror(errno) + ")";
    return -1;
  }
  // 5 MB or so: mapped where the kernel allows it (6.15 and later), else read.
  GuardTargets t;
  size_t size = static_cast<size_t>(st.st_size);
  void* map = size ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, btf_fd.get(), 0) : MAP_FAILED;
  bool found = map != MAP_FAILED
                   ? find_guard_targets(std::string_view(static_cast<const char*>(map), size), t, why)
                   : find_guard_targets(read_all(btf_fd.get()), t, why);
  if (map != MAP_FAILED) munmap(map, size);
  if (!found) return -1;
  std::vector<bpf_insn> prog = mount_guard_program(t.magic_offset);
  char log[2048] = {};
  union bpf_attr load {};
  load.prog_type = BPF_PROG_TYPE_LSM;
  load.expected_attach_type = BPF_LSM_CGROUP;
  load.attach_btf_id = t.hook_id;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>("GPL");  // LSM programs must be GPL-compatible
  load.log_buf = reinterpret_cast<uint64_t>(log);
  load.log_size = sizeof log;
  load.log_level = 1;
  std::memcpy(load.prog_name, "ctrun_mnt_guard", sizeof "ctrun_mnt_guard");  // 16 bytes with its NUL
  int fd = static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load));
  if (fd < 0) {
    int err = errno;
    why = std::string("the kernel refuses the BPF LSM program: ") + std::strerror(err);
    if (err == EINVAL) why += " (BPF_LSM_CGROUP needs Linux 6.0)";
    if (log[0]) why += std::string(": ") + log;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return -1;
  }
  return fd;
}

int attach_mount_guard(int prog_fd, int cgroup_fd) {
  union bpf_attr attach {};
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attach.attach_type = BPF_LSM_CGROUP;
  // Other LSM programs below (a nested manager's) run as well, never instead.
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  return syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0 ? -errno : 0;
}

}  // namespace ctrun::cgroup
