// The container side of a launch. The child starts in its new namespaces
// (mount always; pid, uts, ipc, net, cgroup, time as planned) as real root,
// with every signal of interest blocked (the parent blocked them before
// clone). It builds the container, then stays as the stub init (PID 1) while
// a second process becomes the payload.
//
// ctrun is single-threaded when it clones, so the child may allocate; it
// never returns into the parent's code and ends with _exit.
#include "launch/child.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "launch/ids.h"
#include "launch/privilege.h"
#include "launch/protocol.h"
#include "mount/build.h"

namespace ctrun::launch {
namespace {

[[noreturn]] void die(int sock, const Failure& f, int status = 125) {
  send_message(sock, failure_message(f, status));
  _exit(status);
}

// Reads a small regular file of the container (after pivot_root, so any
// symlink resolves inside it). O_NONBLOCK: a FIFO planted at /etc/passwd
// must not hang the launch.
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

// The container's console: a pty of the container's own devpts instance,
// bound onto /dev/console; the master goes to the parent for the relay.
bool open_console(int sock, std::string& slave_path, Failure& f) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || unlockpt(master) < 0) {
    f = {"open the container's /dev/ptmx", errno, "process.terminal", {}};
    return false;
  }
  char name[PATH_MAX];
  if (ptsname_r(master, name, sizeof name) != 0) {
    f = {"find the container's pty", errno, "process.terminal", {}};
    return false;
  }
  slave_path = name;
  // The caller's window size, set before the payload exists: a size that the
  // relay set later would reach a running payload as a spurious SIGWINCH.
  struct winsize ws {};
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_PATH);
  int tree = slave < 0 ? -1 : open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0 || move_mount(tree, "", AT_FDCWD, "/dev/console", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    f = {"bind the container's pty onto /dev/console", errno, "process.terminal", {}};
    return false;
  }
  close(tree);
  close(slave);
  Message m;
  m.step = Step::terminal;
  bool ok = send_message(sock, m, master);
  close(master);
  if (!ok) {
    f = {"hand the terminal to ctrun", EPIPE, "process.terminal", {}};
    return false;
  }
  return true;
}

// systemd.notify: container. The socket the payload reports to, bound in
// the container's /run/host, which then becomes read-only (sending to a
// socket needs no writable mount); the fd goes to the parent, which reads it.
bool open_notify_socket(int sock, Failure& f) {
  const char* path = plan::NotifyPlan::kGuestSocket;
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (s < 0 || setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
      bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || chmod(path, 0666) < 0) {
    f = {"create the notify socket " + std::string(path), errno, "systemd.notify", {}};
    return false;
  }
  int tree = open_tree(AT_FDCWD, "/run/host", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr ro {};
  ro.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0 ||
      move_mount(tree, "", AT_FDCWD, "/run/host", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    f = {"make /run/host read-only", errno, "systemd.notify", {}};
    return false;
  }
  close(tree);
  Message m;
  m.step = Step::notify_socket;
  bool ok = send_message(sock, m, s);
  close(s);
  if (!ok) {
    f = {"hand the notify socket to ctrun", EPIPE, "systemd.notify", {}};
    return false;
  }
  return true;
}

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

// The payload's own steps, in its own process under the stub init. Failures
// go to the stub through `report` (a CLOEXEC pipe: EOF means execve worked).
[[noreturn]] void payload_main(const plan::LaunchPlan& p, const Identity& id, const std::string& console,
                               int report) {
  auto fail = [&](Failure f, int status = 125) {
    Message m = failure_message(f, status);
    ssize_t n = write(report, &m, sizeof m);
    (void)n;
    _exit(status);
  };
  const plan::ExecPlan& e = p.exec;

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);

  // A session of its own: the payload can never reach the caller's terminal
  // as its controlling tty (TIOCSTI injection, CVE-2017-5226).
  if (setsid() < 0) fail({"start a session", errno, {}, {}});
  if (!console.empty()) {
    int tty = open(console.c_str(), O_RDWR);
    if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) < 0) fail({"make the pty the controlling terminal", errno, "process.terminal", {}});
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
      fail({"set the " + r.name + " limit", err, "process.rlimits." + r.name, detail});
    }
  }
  if (e.oom_score_adjust != 0) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    std::string v = std::to_string(e.oom_score_adjust);
    if (fd < 0 || write(fd, v.data(), v.size()) < 0) {
      fail({"set oom_score_adj to " + v, errno, "process.oom_score_adjust", {}});
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
  if (seccomp_early && !load_seccomp(e.seccomp.compiled, f)) fail(f);
  if (!keep_caps_across_setuid(root, e.caps, f)) fail(f);
  if (setgroups(id.groups.size(), id.groups.data()) < 0) fail({"set the supplementary groups", errno, "process.supplementary_groups", {}});
  // EINVAL in a user namespace: the id has no mapping.
  auto id_failure = [&](const char* kind, unsigned value, const char* key, const char* map) {
    int err = errno;
    std::string detail = err == EINVAL && p.userns.create
                             ? std::string(kind) + " " + std::to_string(value) + " is not mapped in " + map
                             : std::string();
    std::string what = std::string("set the ") + (kind[0] == 'u' ? "user" : "group") + " id to " + std::to_string(value);
    fail({what, err, key, detail});
  };
  if (setgid(id.gid) < 0) id_failure("gid", id.gid, "process.group", "user_namespace.gid_map");
  if (setuid(id.uid) < 0) id_failure("uid", id.uid, "process.user", "user_namespace.uid_map");
  // setuid cleared the death signal; with a shared pid namespace nothing else
  // would take the payload down with ctrun.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!set_capabilities(root, e.caps, f)) fail(f);
  if (e.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    fail({"set no_new_privileges", errno, "process.no_new_privileges", {}});
  }
  if (chdir(e.cwd.c_str()) < 0) fail({"change to the directory " + e.cwd, errno, "process.cwd", {}});
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr || cwd[0] != '/') {
    fail({"change to the directory " + e.cwd, 0, "process.cwd", "it is outside the container's root"});
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
  if (e.seccomp.enabled && !seccomp_early && !load_seccomp(e.seccomp.compiled, f)) fail(f);
  int err = exec_search(e, argv.data(), envp.data());
  fail({"execute " + e.argv[0], err, "process.args", {}}, exec_status(err));
  _exit(125);
}

// PID 1 of the container: forwards signals to the payload, reaps every
// zombie, reports the payload's end to the parent and then exits, which
// takes the rest of the pid namespace down with it.
[[noreturn]] void stub_init(int sock, pid_t payload, int report) {
  Message m;
  ssize_t n;
  do n = read(report, &m, sizeof m);
  while (n < 0 && errno == EINTR);
  close(report);
  bool exec_failed = n == static_cast<ssize_t>(sizeof m);
  if (!exec_failed) {
    Message running;
    running.step = Step::payload_running;
    send_message(sock, running);
  }
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD}) sigaddset(&set, s);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  while (true) {
    int status;
    pid_t dead;
    while ((dead = waitpid(-1, &status, WNOHANG)) > 0) {
      if (dead != payload) continue;
      if (exec_failed) {
        send_message(sock, m);
        _exit(m.status);
      }
      Message done;
      done.step = Step::payload_exited;
      done.status = status;
      send_message(sock, done);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    if (dead < 0 && errno == ECHILD) _exit(125);
    struct signalfd_siginfo si;
    if (sfd < 0 || read(sfd, &si, sizeof si) != sizeof si) continue;
    if (si.ssi_signo != SIGCHLD) kill(payload, static_cast<int>(si.ssi_signo));
  }
}

}  // namespace

bool setup_container(const plan::LaunchPlan& p, const std::vector<int>& join_fds, int root_tree, sys::Kernel& k,
                     Failure& f) {
  // In a new user namespace the parent has written the maps by now: become
  // its root, so that what the container creates belongs to a mapped id.
  if (p.userns.create) {
    if (int rc = k.become_root(); rc < 0) {
      if (root_tree >= 0) k.close_fd(root_tree);
      f = {"become root in the user namespace", -rc, "user_namespace.uid_map", {}};
      return false;
    }
  }
  // Join before building the tree: sysfs shows the network namespace it is
  // mounted in, mqueue the ipc namespace.
  for (size_t i = 0; i < p.joins.size(); ++i) {
    const auto& j = p.joins[i];
    if (j.type == CLONE_NEWPID) continue;  // the parent joined it before clone
    if (int rc = k.set_namespace(join_fds[i], j.type); rc < 0) {
      f = {"join the " + j.name + " namespace " + j.path, -rc, j.key, {}};
      return false;
    }
  }
  if (!mount::build_root(p, k, f, root_tree)) return false;
  if (!p.hostname.empty()) {
    if (int rc = k.set_hostname(p.hostname); rc < 0) {
      f = {"set the host name to " + p.hostname, -rc, "hostname", {}};
      return false;
    }
  }
  if (p.loopback_up) {
    if (int rc = k.loopback_up(); rc < 0) {
      f = {"bring up the loopback interface", -rc, "network.mode", {}};
      return false;
    }
  }
  return true;
}

void child_main(const plan::LaunchPlan& p, int sock, const std::vector<int>& join_fds,
                const std::vector<std::string>& cgroup_tasks) {
  // If ctrun dies, so does the container. The parent may have died before
  // this line: then the host_ready read below sees EOF.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Out of the caller's session and process group: signals of the caller's
  // terminal (^C, SIGWINCH) reach ctrun alone, which decides what the
  // container gets, instead of hitting the stub init a second time.
  setsid();
  Message go;
  int root_tree = -1;
  if (!recv_message(sock, go, &root_tree) || go.step != Step::host_ready) _exit(125);

  Failure f;
  // Into the v1 cgroups, still as the host's root (in a user namespace too:
  // the files are host root's); then a cgroup namespace makes them its root.
  for (const auto& tasks : cgroup_tasks) {
    int fd = open(tasks.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) die(sock, {"join the cgroup " + tasks, errno, "resources", {}});
    close(fd);
  }
  if ((p.clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
    die(sock, {"create the cgroup namespace", errno, "namespaces.cgroup", {}});
  }
  if (!setup_container(p, join_fds, root_tree, sys::real_kernel(), f)) die(sock, f);
  for (int fd : join_fds) close(fd);

  std::string console;
  if (p.terminal && !open_console(sock, console, f)) die(sock, f);
  if (p.notify.mode == plan::NotifyPlan::Mode::container && !open_notify_socket(sock, f)) die(sock, f);

  Identity id;
  if (!resolve_identity(read_small_file("/etc/passwd"), read_small_file("/etc/group"), p.exec, id, f)) die(sock, f);

  // The parent builds the network meanwhile; the payload starts on it.
  if (p.network.active()) {
    Message ready;
    if (!recv_message(sock, ready) || ready.step != Step::network_ready) _exit(125);
  }

  // The stub and the payload keep only the container's bounding set.
  if (!drop_bounding(p.exec.caps.bounding, f)) die(sock, f);
  // The stub runs ctrun's code: a payload that is root in the container must
  // not reach it through /proc/1/mem or /proc/1/exe (CVE-2019-5736). Set
  // before the fork, so that there is no moment when a running payload
  // could attach to a dumpable stub; the payload's execve makes it dumpable.
  prctl(PR_SET_DUMPABLE, 0);
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) die(sock, {"create a pipe", errno, {}, {}});
  pid_t payload = fork();
  if (payload < 0) die(sock, {"start the payload", errno, {}, {}});
  if (payload == 0) {
    close(report[0]);
    close(sock);
    payload_main(p, id, console, report[1]);
  }
  close(report[1]);
  stub_init(sock, payload, report[0]);
}

}  // namespace ctrun::launch
