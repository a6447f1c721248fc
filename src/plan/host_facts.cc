// The host facts the plan depends on, read once at start-up, and the part
// of planning that reads files.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <climits>
#include <cstdlib>
#include <sstream>

#include "cgroup/driver.h"
#include "manifest/yaml_tree.h"
#include "plan/plan.h"
#include "seccomp/cache.h"

namespace ctrun::plan {

HostFacts read_host_facts() {
  HostFacts h;
  h.stdin_is_tty = isatty(STDIN_FILENO) == 1;
  if (const char* t = std::getenv("TERM"); t && *t) h.term = t;
  // Merged /usr: /bin -> usr/bin and friends, as this host has them.
  for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    char buf[PATH_MAX];
    std::string path = std::string("/") + name;
    ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    if (n <= 0) continue;
    std::string target(buf, static_cast<size_t>(n));
    if (target.rfind("usr/", 0) == 0 || target.rfind("/usr/", 0) == 0) h.usr_links.emplace_back(name, target);
  }
  struct stat st;
  if (stat("/usr/lib/os-release", &st) == 0) h.os_release = "/usr/lib/os-release";
  h.bounding = caps::own_bounding();
  h.cgroups = cgroup::read_host();
  struct utsname u {};
  if (uname(&u) == 0) h.kernel_release = u.release;
  if (const char* n = std::getenv("NOTIFY_SOCKET"); n && *n) h.notify_socket = n;
  // The watchdog is ctrun's when WATCHDOG_PID is unset or names it.
  if (const char* w = std::getenv("WATCHDOG_USEC"); w && *w) {
    const char* wp = std::getenv("WATCHDOG_PID");
    if (!wp || std::strtoll(wp, nullptr, 10) == getpid()) h.watchdog_usec = std::strtoull(w, nullptr, 10);
  }
  const char* invocation = std::getenv("INVOCATION_ID");
  h.under_unit = invocation && *invocation;
  h.random_id = random_id128();
  h.system_bus = h.cgroups.systemd_pid1 && access("/run/dbus/system_bus_socket", F_OK) == 0;
  // Started by systemd as a service (ExecStart=ctrun ...): the unit, when
  // ctrun is the only process in its cgroup (a shell wrapping ctrun, or a
  // test runner's many containers, would share it).
  // (The unit's cgroup: cgroup2's, or on legacy hosts name=systemd's.)
  std::string tree = !h.cgroups.unified.empty() ? h.cgroups.unified
                     : h.cgroups.has_v1("name=systemd") ? h.cgroups.v1.at("name=systemd")
                                                          : std::string();
  if (std::getenv("INVOCATION_ID") && !tree.empty()) {
    auto mine = cgroup::own_cgroups(cgroup::read_text("/proc/self/cgroup"));
    std::string own = mine[h.cgroups.unified.empty() ? "name=systemd" : ""];
    std::string unit = own.substr(own.find_last_of('/') + 1);
    std::string procs = cgroup::read_text(tree + own + "/cgroup.procs");
    if (unit.size() > 8 && unit.compare(unit.size() - 8, 8, ".service") == 0 &&
        procs == std::to_string(getpid()) + "\n") {
      h.own_unit = unit;
      h.own_cgroup = own;
    }
  }
  return h;
}

namespace {

// path below root, never leaving it (symlinks resolve inside, as they will
// for the container); -1 with errno.
int open_in_root(int root, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* rel = path.c_str();
  while (*rel == '/') ++rel;
  return static_cast<int>(syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof how));
}

std::string read_in_root(int root, const std::string& path) {
  int fd = open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {};
  struct stat st;
  std::string out;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 65536) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// N of libsystemd-shared-N.so (or -N.M) in a directory of the guest.
int shared_library_version(int root, const std::string& dir) {
  int fd = open_in_root(root, dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return 0;
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return 0;
  }
  int best = 0;
  while (struct dirent* e = readdir(d)) {
    const char* prefix = "libsystemd-shared-";
    if (std::strncmp(e->d_name, prefix, std::strlen(prefix)) != 0) continue;
    best = std::max(best, std::atoi(e->d_name + std::strlen(prefix)));
  }
  closedir(d);
  return best;
}

}  // namespace

void read_guest_facts(const manifest::Manifest& m, HostFacts& host) {
  GuestFacts& g = host.guest;
  std::string root_path = m.rootfs.host ? "/" : m.rootfs.path;
  int root = open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    // The launch names the missing rootfs with its key; nothing to add here.
    return;
  }
  // The init: process.args[0] or /sbin/init; a bare name is searched in PATH.
  std::string init = m.process.args.empty() ? "/sbin/init" : m.process.args.front();
  std::vector<std::string> candidates;
  if (init.find('/') != std::string::npos) {
    candidates.push_back(init);
  } else {
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& [k, v] : m.process.env) {
      if (k == "PATH") path = v;
    }
    std::istringstream dirs(path);
    for (std::string d; std::getline(dirs, d, ':');) {
      if (!d.empty()) candidates.push_back(d + "/" + init);
    }
  }
  g.init_status = 127;
  g.init_problem = init + " does not exist in " + root_path;
  for (const auto& c : candidates) {
    int fd = open_in_root(root, c, O_PATH);
    if (fd < 0) {
      if (errno != ENOENT && errno != ENOTDIR) {
        g.init_problem = init + " cannot be opened in " + root_path + ": " + std::strerror(errno);
      }
      continue;
    }
    struct stat st;
    bool ok = fstat(fd, &st) == 0;
    close(fd);
    if (ok && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
      g.init_problem.clear();
      g.init_status = 0;
      break;
    }
    g.init_status = 126;
    g.init_problem = init + " in " + root_path + " is not an executable file";
  }
  // The guest's systemd, for init.cgroup: auto. Debian keeps it in the
  // multiarch directory.
  for (std::string dir : {"/usr/lib/systemd", "/lib/systemd", "/usr/lib64/systemd"}) {
    g.systemd_version = std::max(g.systemd_version, shared_library_version(root, dir));
  }
  if (int lib = open_in_root(root, "/usr/lib", O_RDONLY | O_DIRECTORY); lib >= 0) {
    if (DIR* d = fdopendir(lib)) {
      while (struct dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.find("-linux-") != std::string::npos) {
          g.systemd_version = std::max(g.systemd_version, shared_library_version(root, "/usr/lib/" + n + "/systemd"));
        }
      }
      closedir(d);
    } else {
      close(lib);
    }
  }
  std::string id = read_in_root(root, "/etc/machine-id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  g.machine_id = parse_id128(id);
  // The journal directories for that ID (or init.machine_id's).
  std::optional<Id128> journal_id = g.machine_id;
  if (!journal_id || is_null(*journal_id)) journal_id = parse_id128(m.init.machine_id);
  if (int d = open_in_root(root, "/var/log/journal", O_RDONLY | O_DIRECTORY); d >= 0) {
    g.guest_journal = true;
    close(d);
  }
  close(root);
  struct stat st;
  g.host_journal = stat("/var/log/journal", &st) == 0 && S_ISDIR(st.st_mode);
  if (journal_id && !is_null(*journal_id)) {
    std::string hex = format_uuid(*journal_id);
    std::erase(hex, '-');
    std::string entry = "/var/log/journal/" + hex;
    if (lstat(entry.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        g.journal_entry = "dir";
      } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(entry.c_str(), target, sizeof target - 1);
        g.journal_entry = "link " + std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
      } else {
        g.journal_entry = "other";
      }
    }
  }
  // The host's identity, for $container_host_*.
  std::string os = cgroup::read_text("/etc/os-release");
  if (os.empty()) os = cgroup::read_text("/usr/lib/os-release");
  std::istringstream lines(os);
  for (std::string l; std::getline(lines, l);) {
    auto eq = l.find('=');
    if (eq == std::string::npos) continue;
    std::string k = l.substr(0, eq), v = l.substr(eq + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    if (k == "ID" || k == "VERSION_ID" || k == "BUILD_ID" || k == "VARIANT_ID") g.host_os.emplace_back(k, v);
  }
}

bool prepare(LaunchPlan& p, const HostFacts& host, Diagnostics& diags, bool use_cache) {
  SeccompPlan& sc = p.exec.seccomp;
  if (!sc.enabled) return true;
  std::string text;
  if (sc.profile == "default") text = seccomp::default_profile_text();
  else if (!manifest::read_source_file(sc.profile, text, diags, 1u << 20)) return false;
  seccomp::Context ctx;
  ctx.caps = p.exec.caps.bounding;
  ctx.kernel_release = host.kernel_release;
  ctx.allow = sc.allow;
  ctx.deny = sc.deny;
  ctx.where = sc.where;
  seccomp::Cache cache(p.state_dir);
  std::string key = seccomp::cache_key(text, ctx);
  if (use_cache && cache.load(key, sc.compiled)) return true;
  seccomp::Profile profile;
  std::string file = sc.profile == "default" ? "<default profile>" : sc.profile;
  if (!seccomp::parse_profile(text, file, profile, diags)) return false;
  profile.source = sc.profile;
  if (!seccomp::compile(profile, ctx, sc.compiled, diags)) return false;
  if (use_cache) cache.store(key, sc.compiled);
  return true;
}

}  // namespace ctrun::plan
