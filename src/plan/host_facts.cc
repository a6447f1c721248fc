// The host facts the plan depends on, read once at start-up, and the part
// of planning that reads files.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <sstream>

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
  h.system_bus = h.cgroups.systemd_pid1 && access("/run/dbus/system_bus_socket", F_OK) == 0;
  // Started by systemd as a service (ExecStart=ctrun ...): the unit, when
  // ctrun is the only process in its cgroup (a shell wrapping ctrun, or a
  // test runner's many containers, would share it).
  if (std::getenv("INVOCATION_ID") && !h.cgroups.unified.empty()) {
    std::string own;
    std::istringstream lines(cgroup::read_text("/proc/self/cgroup"));
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind("0::", 0) == 0) own = l.substr(3);
    }
    std::string unit = own.substr(own.find_last_of('/') + 1);
    std::string procs = cgroup::read_text(h.cgroups.unified + own + "/cgroup.procs");
    if (unit.size() > 8 && unit.compare(unit.size() - 8, 8, ".service") == 0 &&
        procs == std::to_string(getpid()) + "\n") {
      h.own_unit = unit;
      h.own_cgroup = own;
    }
  }
  return h;
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
