// ctrun check: what this host's kernel and system give a container, found
// by trying each thing (in throwaway children and namespaces), not by
// reading version numbers. Leaves nothing behind.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/units.h"
#include "caps/names.h"
#include "caps/sets.h"
#include "cgroup/host.h"
#include "cgroup/mount_guard.h"
#include "net/rtnl.h"
#include "ops/ops.h"
#include "plan/plan.h"
#include "systemd/scope.h"
#include <linux/capability.h>
#include <algorithm>

namespace ctrun::ops {
namespace {

struct Item {
  std::string name;
  bool ok = false;
  bool required = false;  // ctrun cannot run a container without it
  std::string detail;
};

std::string errno_text(int err) { return strerrorname_np(err) ? strerrorname_np(err) : std::to_string(err); }

// Runs fn in a child (which may unshare freely) and returns its errno (0: ok).
int in_child(const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  if (pid < 0) return errno;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

// A system call that exists answers bad arguments with something else than ENOSYS.
bool has_syscall(long nr, long a = 0, long b = 0, long c = 0) {
  errno = 0;
  long rc = syscall(nr, a, b, c, 0, 0);
  return rc >= 0 || errno != ENOSYS;
}

std::string first_line(const std::string& path) {
  std::string t = cgroup::read_text(path);
  return t.substr(0, t.find('\n'));
}

std::vector<Item> probe_host() {
  std::vector<Item> items;
  auto add = [&](std::string name, bool ok, bool required, std::string detail = {}) {
    items.push_back({std::move(name), ok, required, std::move(detail)});
  };
  struct utsname u {};
  uname(&u);
  add("kernel", true, false, u.release);

  const std::pair<const char*, int> namespaces[] = {{"mount", CLONE_NEWNS},      {"pid", CLONE_NEWPID},
                                                    {"uts", CLONE_NEWUTS},       {"ipc", CLONE_NEWIPC},
                                                    {"net", CLONE_NEWNET},       {"cgroup", CLONE_NEWCGROUP},
                                                    {"time", CLONE_NEWTIME},     {"user", CLONE_NEWUSER}};
  for (const auto& [name, flag] : namespaces) {
    int err = in_child([flag = flag] { return unshare(flag) == 0 ? 0 : errno; });
    bool required = std::string(name) == "mount";
    add(std::string("namespace.") + name, err == 0, required, err ? errno_text(err) : "");
  }
  add("syscall.clone3", has_syscall(SYS_clone3, 0, 0), true);
  {
    UniqueFd self(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
    add("syscall.pidfd_open", self.valid(), true, self ? "" : errno_text(errno));
    int err = self ? in_child([fd = self.get()] { return setns(fd, CLONE_NEWUTS) == 0 ? 0 : errno; }) : ENOSYS;
    add("setns.pidfd", err == 0, false, err ? errno_text(err) : "");
  }
  add("syscall.close_range", syscall(SYS_close_range, ~0U - 1, ~0U, 0) == 0 || errno != ENOSYS, true);
  add("syscall.openat2", has_syscall(SYS_openat2, AT_FDCWD, 0, 0), true);
  {
    UniqueFd fs(static_cast<int>(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC)));
    add("mount_api", fs.valid(), true, fs ? "" : errno_text(errno));
  }
  add("syscall.mount_setattr", has_syscall(SYS_mount_setattr, -1, 0, 0), true, "idmapped mounts need it too");
  {
    UniqueFd m(memfd_create("ctrun-check", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    std::string noexec = first_line("/proc/sys/vm/memfd_noexec");
    add("memfd.sealing", m && fcntl(m.get(), F_ADD_SEALS, F_SEAL_WRITE) == 0, false,
        noexec.empty() ? "" : "vm.memfd_noexec=" + noexec);
  }
  add("seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0, true);
  {
    caps::CapSet known = 0;
    for (const auto& n : caps::all_capability_names()) {
      if (auto c = caps::parse_capability(n)) known |= caps::bit(*c);
    }
    caps::CapSet missing = ~caps::own_bounding() & known;
    add("capabilities.bounding", true, false, missing ? "lacks " + caps::format(missing) : "all");
  }
  {
    struct rlimit nofile {}, nproc {};
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_NPROC, &nproc);
    auto v = [](rlim_t r) { return r == RLIM_INFINITY ? std::string("unlimited") : std::to_string(r); };
    add("rlimits.hard", true, false, "nofile " + v(nofile.rlim_max) + ", nproc " + v(nproc.rlim_max));
  }
  {
    // fsopen loads the module when the kernel has it as one (/proc/filesystems
    // lists it only once loaded).
    UniqueFd fs(static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
    std::string fss = cgroup::read_text("/proc/filesystems");
    add("filesystem.overlay", fs || fss.find("\toverlay\n") != std::string::npos, false);
  }

  cgroup::Host host = cgroup::read_host();
  add("cgroup.mode", host.mode != cgroup::Host::Mode::none, true, cgroup::mode_name(host.mode));
  if (!host.unified.empty()) {
    std::string ctrls;
    for (const auto& c : host.v2_controllers) ctrls += (ctrls.empty() ? "" : " ") + c;
    add("cgroup2.controllers", true, false, ctrls.empty() ? "none" : ctrls);
    std::string own;
    std::string self = cgroup::read_text("/proc/self/cgroup");
    if (auto pos = self.find("0::"); pos != std::string::npos) own = self.substr(pos + 3, self.find('\n', pos) - pos - 3);
    std::string dir = host.unified + own;
    struct stat st;
    add("cgroup2.kill", stat((dir + "/cgroup.kill").c_str(), &st) == 0 || own == "/", false);
    add("cgroup2.freeze", stat((dir + "/cgroup.freeze").c_str(), &st) == 0 || own == "/", false);
    std::string opts = cgroup::read_text("/proc/self/mountinfo");
    add("cgroup2.nsdelegate", opts.find("nsdelegate") != std::string::npos, false);
  }
  if (!host.v1.empty()) {
    std::string ctrls;
    for (const auto& [c, path] : host.v1) ctrls += (ctrls.empty() ? "" : " ") + c;
    add("cgroup1.controllers", true, false, ctrls);
  }

  // Link kinds, tried in a network namespace of a child's own.
  for (const char* kind : {"veth", "bridge", "macvlan", "ipvlan"}) {
    int err = in_child([kind] {
      if (unshare(CLONE_NEWNET) < 0) return errno;
      net::Rtnl r;
      if (int rc = r.open(); rc < 0) return -rc;
      UniqueFd ns(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
      if (int rc = r.add_veth("ck0", "ck1", ns.get(), 0); rc < 0) return -rc;
      if (std::string(kind) == "veth") return 0;
      if (std::string(kind) == "bridge") {
        int rc = r.add_link("bridge", "ckbr");
        return rc < 0 ? -rc : 0;
      }
      int lower = r.index_of("ck0");
      int rc = r.add_lower(kind, "ck2", lower, ns.get(), std::string(kind) == "macvlan" ? 4 : 0);
      return rc < 0 ? -rc : 0;
    });
    add(std::string("link.") + kind, err == 0, false, err ? errno_text(err) : "");
  }
  struct stat st;
  add("device.fuse", stat("/dev/fuse", &st) == 0, false);
  add("device.tun", stat("/dev/net/tun", &st) == 0, false);
  std::string lsm = cgroup::active_lsms();
  add("lsm", true, false, lsm.empty() ? "none readable" : lsm);
  {
    // Loaded and let go (nothing attached): what a container with
    // CAP_SYS_ADMIN on a cgroup v1 host gets (see cgroup/mount_guard.h).
    std::string why = "this host has no cgroup2 hierarchy to attach it to";
    UniqueFd guard(host.unified.empty() ? -1 : cgroup::load_mount_guard(why));
    add("mount_guard", guard.valid(), false, guard ? "BPF LSM on sb_kern_mount, refuses cgroup v1 mounts" : why);
  }
  std::string pid1 = first_line("/proc/1/comm");
  add("systemd.pid1", pid1 == "systemd", false, pid1);
  add("systemd.bus", access("/run/dbus/system_bus_socket", F_OK) == 0, false);
  if (const char* unit = std::getenv("INVOCATION_ID")) add("systemd.own_unit", true, false, unit);
  return items;
}

bool probe_ok(const std::vector<Item>& items, const std::string& name) {
  for (const auto& i : items) {
    if (i.name == name) return i.ok;
  }
  return false;
}

}  // namespace

int check(bool as_json) {
  std::vector<Item> items = probe_host();
  const Item* missing = nullptr;
  for (const auto& i : items) {
    if (i.required && !i.ok && !missing) missing = &i;
  }
  if (as_json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& i : items) j.push_back({{"item", i.name}, {"ok", i.ok}, {"required", i.required}, {"detail", i.detail}});
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& i : items) {
      std::printf("%-24s %-4s %s%s\n", i.name.c_str(), i.ok ? "yes" : "no", i.detail.c_str(),
                  i.required && !i.ok ? " (required)" : "");
    }
  }
  if (missing) {
    std::fprintf(stderr, "ctrun: this host lacks %s, which ctrun needs\n", missing->name.c_str());
    return kNotRunning;
  }
  return 0;
}

int check_manifest(const plan::LaunchPlan& p, bool as_json) {
  std::vector<Item> host = probe_host();
  std::vector<std::pair<std::string, std::string>> problems;
  auto need = [&](const std::string& item, const std::string& key, const std::string& what) {
    if (!probe_ok(host, item)) problems.emplace_back(key, what);
  };
  // cgroups: every controller a limit needs.
  const cgroup::Host& cg = p.cgroup_host;
  for (const auto& s : p.cgroups.settings) {
    bool has = p.cgroups.v2 ? std::find(cg.v2_controllers.begin(), cg.v2_controllers.end(), s.controller) !=
                                  cg.v2_controllers.end()
                            : cg.has_v1(s.controller);
    if (!has) {
      problems.emplace_back(s.key, "this host's cgroups have no " + s.controller + " controller");
      continue;
    }
    // v1: the file itself (memory.memsw.* only with swap accounting, say),
    // at the hierarchy's root. Two are never shown there: pids.max (the
    // controller is the proof) and BFQ's weight (its statistics are).
    if (!p.cgroups.v2) {
      std::string root = cg.v1.at(s.controller);
      auto at_root = [&](const std::string& f) {
        std::string proof = f == "pids.max" ? "cgroup.procs" : f == "blkio.bfq.weight" ? "blkio.bfq.io_service_bytes" : f;
        return access((root + "/" + proof).c_str(), F_OK) == 0;
      };
      bool any = std::any_of(s.files.begin(), s.files.end(), at_root);
      if (!any) problems.emplace_back(s.key, "this host's " + s.controller + " cgroups have no " + s.files.front());
    }
  }
  // (Capabilities beyond ctrun's own bounding set are the plan's errors, reported before this.)
  if (p.clone_flags & CLONE_NEWUSER) need("namespace.user", "namespaces.user", "this host does not let ctrun make user namespaces");
  if (p.clone_flags & CLONE_NEWTIME) need("namespace.time", "namespaces.time", "this kernel has no time namespaces");
  if (p.root.kind == plan::RootPlan::Kind::ephemeral) need("filesystem.overlay", "rootfs.ephemeral", "this kernel has no overlayfs");
  if (p.systemd_scope && access("/run/dbus/system_bus_socket", F_OK) != 0) {
    problems.emplace_back("systemd.register", "a scope needs systemd's bus, and this host has none");
  }
  // Under ctrun@NAME.service (where the unit file exists): systemd must
  // give ctrun the container's whole stop.timeout, and a second for its
  // own clean-up, before it kills it.
  if (access("/run/dbus/system_bus_socket", F_OK) == 0) {
    std::string unit = "ctrun@" + p.name + ".service";
    auto limit = systemd::service_stop_timeout_us(unit);
    if (limit && *limit != UINT64_MAX && *limit < p.stop_timeout_us + 1000000) {
      problems.emplace_back("stop.timeout", format_duration_us(p.stop_timeout_us) + " and ctrun's clean-up do not fit in " +
                                                unit + "'s TimeoutStopSec=" + format_duration_us(*limit) +
                                                ": systemd would kill ctrun before the container has stopped");
    }
  }
  // The network: the link kind, and the host's interfaces it names.
  const plan::NetworkPlan& n = p.network;
  if (n.active()) {
    net::Rtnl r;
    bool open = r.open() == 0;
    auto exists = [&](const std::string& ifname, net::LinkInfo& l) { return open && r.link(ifname, l) == 0; };
    net::LinkInfo l;
    if (!n.host_if.empty()) need("link.veth", "network.mode", "this kernel has no veth");
    if (!n.bridge.empty()) {
      if (!exists(n.bridge, l)) problems.emplace_back("network.bridge", "there is no interface " + n.bridge + " on the host");
      else if (l.kind != "bridge") problems.emplace_back("network.bridge", n.bridge + " is not a bridge");
    }
    if (!n.kind.empty()) {
      need("link." + n.kind, "network.mode", "this kernel has no " + n.kind);
      if (!exists(n.parent, l)) problems.emplace_back("network.parent", "there is no interface " + n.parent + " on the host");
    }
    for (size_t i = 0; i < n.interfaces.size(); ++i) {
      if (!exists(n.interfaces[i], l)) {
        problems.emplace_back("network.interfaces[" + std::to_string(i) + "]",
                              "there is no interface " + n.interfaces[i] + " on the host");
      }
    }
  }
  if (as_json) {
    nlohmann::json j = {{"ok", problems.empty()}, {"problems", nlohmann::json::array()}};
    for (const auto& [k, v] : problems) j["problems"].push_back({{"key", k}, {"problem", v}});
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& [k, v] : problems) std::printf("%s: %s\n", k.c_str(), v.c_str());
  }
  if (!problems.empty()) {
    std::fprintf(stderr, "ctrun: %s cannot run on this host: %s\n", p.name.c_str(), problems.front().first.c_str());
    return kNotRunning;
  }
  if (!as_json) std::printf("%s can run on this host\n", p.name.c_str());
  return 0;
}

}  // namespace ctrun::ops
