#include "launch/payload.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "base/digest.h"
#include "base/timeline.h"
#include "launch/privilege.h"

namespace ctrun::launch {
namespace {

int exec_status(int err) { return err == ENOENT || err == ENOTDIR ? 127 : 126; }

// execvpe without the caller's PATH: the search uses the container's PATH.
int exec_search(const plan::ExecPlan& e, char* const argv[], char* const envp[]) {
  const std::string& cmd = e.argv[0];
  if (cmd.find('/') != std::string::npos) {
    execve(cmd.c_str(), argv, envp);
    return errno;
  }
  int err = ENOENT;
  size_t pos = 0;
  const std::string& path = e.path_var;
  while (pos <= path.size()) {
    size_t colon = path.find(':', pos);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(pos, colon - pos);
    pos = colon + 1;
    std::string full = (dir.empty() ? "." : dir) + "/" + cmd;
    execve(full.c_str(), argv, envp);
    // Keep the most telling error: "found but not executable" beats "not here".
    if (errno != ENOENT && errno != ENOTDIR) err = errno;
  }
  return err;
}

}  // namespace

std::string read_small_file(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {};
  struct stat st;
  std::string out;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (1 << 20)) {
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string seccomp_digest(const plan::SeccompPlan& s) {
  if (!s.enabled) return "unconfined";
  std::string bytes = "flags " + std::to_string(s.compiled.flags) + "\n";
  for (const auto& prog : s.compiled.filters) {
    bytes += "filter " + std::to_string(prog.size()) + "\n";
    bytes.append(reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter));
  }
  return sha256_hex(bytes.data(), bytes.size());
}

void become_payload(const plan::ExecPlan& e, const Identity& id, bool userns, int tty, const FailFn& fail) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);

  // A session of its own: the payload can never reach the caller's terminal
  // as its controlling tty (TIOCSTI injection, CVE-2017-5226).
  // (Boot mode's PID 1 is the container's first process, a session leader already.)
  if (setsid() < 0 && getsid(0) != getpid()) fail({"start a session", errno, {}, {}}, 125);
  if (tty >= 0) {
    if (ioctl(tty, TIOCSCTTY, 0) < 0) fail({"make the pty the controlling terminal", errno, "process.terminal", {}}, 125);
    for (int fd = 0; fd < 3; ++fd) dup2(tty, fd);
    if (tty > 2) close(tty);
  }
  for (const auto& r : e.rlimits) {
    struct rlimit rl {r.soft, r.hard};
    if (setrlimit(r.resource, &rl) < 0) {
      int err = errno;
      struct rlimit cur {};
      getrlimit(r.resource, &cur);
      std::string detail;
      if (err == EPERM) {
        detail = "the hard limit cannot be raised above ctrun's own (" + std::to_string(cur.rlim_max) +
                 ") without CAP_SYS_RESOURCE";
      }
      fail({"set the " + r.name + " limit", err, "process.rlimits." + r.name, detail}, 125);
    }
  }
  if (e.oom_score_adjust != 0) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    std::string v = std::to_string(e.oom_score_adjust);
    if (fd < 0 || write(fd, v.data(), v.size()) < 0) {
      fail({"set oom_score_adj to " + v, errno, "process.oom_score_adjust", {}}, 125);
    }
    close(fd);
  }
  umask(e.umask);
  const bool root = id.uid == 0;
  Failure f;
  // Without no_new_privileges only a privileged process may load a filter:
  // then it goes in now, while the payload is still root, and must allow
  // what follows (setuid, capset, execve), as every sane profile does.
  const bool seccomp_early = e.seccomp.enabled && !e.no_new_privileges;
  if (seccomp_early && !load_seccomp(e.seccomp.compiled, f)) fail(f, 125);
  if (!keep_caps_across_setuid(root, e.caps, f)) fail(f, 125);
  if (setgroups(id.groups.size(), id.groups.data()) < 0) {
    int err = errno;
    // A user namespace whose setgroups is "deny" (a joined one may be) keeps
    // the list ctrun emptied before joining it: enough when nothing but the
    // primary group is asked (that is the gid anyway).
    const bool only_primary =
        std::all_of(id.groups.begin(), id.groups.end(), [&](gid_t g) { return g == id.gid; });
    if (!(err == EPERM && userns && only_primary && getgroups(0, nullptr) == 0)) {
      std::string detail = err == EPERM && userns ? "the user namespace denies setgroups (its /proc/PID/setgroups)" : "";
      fail({"set the supplementary groups", err, "process.supplementary_groups", detail}, 125);
    }
  }
  // EINVAL in a user namespace: the id has no mapping.
  auto id_failure = [&](const char* kind, unsigned value, const char* key, const char* map) {
    int err = errno;
    std::string detail =
        err == EINVAL && userns ? std::string(kind) + " " + std::to_string(value) + " is not mapped in " + map : std::string();
    std::string what = std::string("set the ") + (kind[0] == 'u' ? "user" : "group") + " id to " + std::to_string(value);
    fail({what, err, key, detail}, 125);
  };
  if (setgid(id.gid) < 0) id_failure("gid", id.gid, "process.group", "user_namespace.gid_map");
  if (setuid(id.uid) < 0) id_failure("uid", id.uid, "process.user", "user_namespace.uid_map");
  // setuid cleared the death signal; with a shared pid namespace nothing else
  // would take the payload down with ctrun.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!set_capabilities(root, e.caps, f)) fail(f, 125);
  if (e.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    fail({"set no_new_privileges", errno, "process.no_new_privileges", {}}, 125);
  }
  if (chdir(e.cwd.c_str()) < 0) fail({"change to the directory " + e.cwd, errno, "process.cwd", {}}, 125);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr || cwd[0] != '/') {
    fail({"change to the directory " + e.cwd, 0, "process.cwd", "it is outside the container's root"}, 125);
  }

  std::vector<std::string> env = e.env;
  bool has_home = false;
  for (const auto& v : env) has_home = has_home || v.rfind("HOME=", 0) == 0;
  if (!has_home) env.push_back("HOME=" + id.home);
  std::vector<char*> argv, envp;
  for (const auto& a : e.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& v : env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);

  // Nothing of ctrun's may reach the payload: every fd above 2 closes at
  // execve, including the ones ctrun's own caller leaked (CVE-2024-21626).
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // The filter is the very last step: nothing of ctrun's setup has to be
  // allowed by the profile, only execve and the failure report (write).
  if (e.seccomp.enabled && !seccomp_early && !load_seccomp(e.seccomp.compiled, f)) fail(f, 125);
  timeline_mark("p:exec");
  int err = exec_search(e, argv.data(), envp.data());
  fail({"execute " + e.argv[0], err, "process.args", {}}, exec_status(err));
  _exit(125);
}

}  // namespace ctrun::launch
