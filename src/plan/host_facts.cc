// The host facts the plan depends on, read once at start-up, and the part
// of planning that reads files.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "plan/plan.h"

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
  struct utsname u {};
  if (uname(&u) == 0) h.kernel_release = u.release;
  return h;
}

bool prepare(LaunchPlan& p, const HostFacts& host, Diagnostics& diags) {
  SeccompPlan& sc = p.exec.seccomp;
  if (!sc.enabled) return true;
  seccomp::Profile profile;
  if (!seccomp::load_profile(sc.profile, profile, diags)) return false;
  seccomp::Context ctx;
  ctx.caps = p.exec.caps.bounding;
  ctx.kernel_release = host.kernel_release;
  ctx.allow = sc.allow;
  ctx.deny = sc.deny;
  ctx.where = sc.where;
  return seccomp::compile(profile, ctx, sc.compiled, diags);
}

}  // namespace ctrun::plan
