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
#include <sys/mman.h>
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

#include "base/proctitle.h"
#include "base/timeline.h"
#include "cgroup/mount_guard.h"
#include "launch/ids.h"
#include "launch/payload.h"
#include "launch/privilege.h"
#include "launch/protocol.h"
#include "mount/build.h"

namespace ctrun::launch {
namespace {

[[noreturn]] void die(int sock, const Failure& f, int status = 125) {
  send_message(sock, failure_message(f, status));
  _exit(status);
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

// /run/host read-only, once the notify socket is in it (sending to a
// socket needs no writable mount).
bool seal_run_host(Failure& f) {
  int tree = open_tree(AT_FDCWD, "/run/host", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  struct mount_attr ro {};
  ro.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0 ||
      move_mount(tree, "", AT_FDCWD, "/run/host", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    f = {"make /run/host read-only", errno, {}, {}};
    if (tree >= 0) close(tree);
    return false;
  }
  close(tree);
  return true;
}

// The socket the payload (boot mode: PID 1) reports to, bound in the
// container's /run/host; the fd goes to the parent, which reads it.
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

// The payload's own steps, in its own process under the stub init. Failures
// go to the stub through `report` (a CLOEXEC pipe: EOF means execve worked).
[[noreturn]] void payload_main(const plan::LaunchPlan& p, const Identity& id, const std::string& console,
                               int report) {
  auto fail = [&](const Failure& f, int status) {
    Message m = failure_message(f, status);
    ssize_t n = write(report, &m, sizeof m);
    (void)n;
    _exit(status);
  };
  int tty = -1;
  if (!console.empty() && (tty = open(console.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    fail({"open the pty " + console, errno, "process.terminal", {}}, 125);
  }
  become_payload(p.exec, id, p.userns.active(), tty, fail);
}

struct PayloadStart {
  const plan::LaunchPlan* plan;
  const Identity* id;
  const std::string* console;
  int report_read, report_write, sock;
};

// The payload's first function, on its own stack (clone's).
int payload_entry(void* arg) {
  const auto& s = *static_cast<PayloadStart*>(arg);
  close(s.report_read);
  close(s.sock);
  payload_main(*s.plan, *s.id, *s.console, s.report_write);
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
  // (A joined one: the child was made in it; its map must have a root.)
  if (p.userns.active()) {
    if (int rc = k.become_root(); rc < 0) {
      if (root_tree >= 0) k.close_fd(root_tree);
      std::string detail = p.userns.joined && rc == -EINVAL ? "it maps no root (inside id 0)" : std::string();
      f = {"become root in the user namespace", -rc, p.userns.joined ? "namespaces.user" : "user_namespace.uid_map",
           detail};
      return false;
    }
  }
  // Join before building the tree: sysfs shows the network namespace it is
  // mounted in, mqueue the ipc namespace.
  for (size_t i = 0; i < p.joins.size(); ++i) {
    const auto& j = p.joins[i];
    if (j.type == CLONE_NEWPID) continue;   // the parent joined it before clone
    if (j.type == CLONE_NEWUSER) continue;  // the child was made in it
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
  return true;
}

void child_main(const plan::LaunchPlan& p, int sock, const std::vector<int>& join_fds,
                const std::vector<std::string>& cgroup_tasks, GuardFds guard) {
  // If ctrun dies, so does the container. The parent may have died before
  // this line: then the host_ready read below sees EOF.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The container sees its PID 1 as this, not as ctrun's command line.
  set_command_line("ctrun-init");
  // Out of the caller's session and process group: signals of the caller's
  // terminal (^C, SIGWINCH) reach ctrun alone, which decides what the
  // container gets, instead of hitting the stub init a second time.
  setsid();
  Message go;
  int root_tree = -1;
  if (!recv_message(sock, go, &root_tree) || go.step != Step::host_ready) _exit(125);

  timeline_mark("c:go");
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
  timeline_mark("c:mounted");
  for (int fd : join_fds) close(fd);

  std::string console;
  if (p.terminal && !open_console(sock, console, f)) die(sock, f);
  if (p.notify.guest_socket && !open_notify_socket(sock, f)) die(sock, f);
  if (!seal_run_host(f)) die(sock, f);
  // An init system expects shared propagation (systemd makes / shared
  // itself; its services' private mounts depend on it). Below the slave
  // mount made first, nothing propagates back to the host.
  if (p.boot.enabled && ::mount(nullptr, "/", nullptr, MS_SHARED | MS_REC, nullptr) < 0) {
    die(sock, {"make / shared", errno, "boot", {}});
  }
  // From here on nothing in the container mounts a cgroup v1 hierarchy.
  if (guard.prog >= 0) {
    if (int rc = cgroup::attach_mount_guard(guard.prog, guard.cgroup); rc < 0) {
      die(sock, {"attach the mount guard (BPF_LSM_CGROUP) to the container's cgroup", -rc, "capabilities", {}});
    }
    close(guard.prog);
    close(guard.cgroup);
  }

  Identity id;
  if (!resolve_identity(read_small_file("/etc/passwd"), read_small_file("/etc/group"), p.exec, id, f)) die(sock, f);

  // The parent builds the network meanwhile; the payload starts on it.
  if (p.host_sets_up_network()) {
    Message ready;
    if (!recv_message(sock, ready) || ready.step != Step::network_ready) _exit(125);
  }

  // The stub and the payload keep only the container's bounding set.
  if (!drop_bounding(p.exec.caps.bounding, f)) die(sock, f);
  timeline_mark("c:ready");
  // The stub runs ctrun's code: a payload that is root in the container must
  // not reach it through /proc/1/mem or /proc/1/exe (CVE-2019-5736). Set
  // before the fork, so that there is no moment when a running payload
  // could attach to a dumpable stub; the payload's execve makes it dumpable.
  prctl(PR_SET_DUMPABLE, 0);
  if (p.boot.enabled) {
    // Boot mode: this process (PID 1) becomes the init system; a failure
    // is reported on the sync socket, whose EOF at execve (CLOEXEC) tells
    // the parent that the init runs.
    int tty = -1;
    if ((tty = open(console.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
      die(sock, {"open the console " + console, errno, "boot", {}});
    }
    become_payload(p.exec, id, p.userns.active(), tty, [&](const Failure& failure, int status) {
      send_message(sock, failure_message(failure, status));
      _exit(status);
    });
  }
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) die(sock, {"create a pipe", errno, {}, {}});
  // The payload borrows the stub's memory until its execve (CLONE_VM |
  // CLONE_VFORK, as posix_spawn does): no page tables to copy, no
  // copy-on-write faults on either side; the stub sleeps meanwhile. Its
  // own credentials, limits, fd table, umask and seccomp filter are the
  // payload's alone (no CLONE_FILES, CLONE_FS, CLONE_THREAD), and vfork's
  // child keeps its own oom_score_adj.
  PayloadStart start{&p, &id, &console, report[0], report[1], sock};
  // Its stack, above a guard page: an overflow faults instead of writing
  // into the stub's memory.
  constexpr size_t kGuard = 4096, kStack = 256 * 1024;
  void* stack = mmap(nullptr, kGuard + kStack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED || mprotect(static_cast<char*>(stack) + kGuard, kStack, PROT_READ | PROT_WRITE) < 0) {
    die(sock, {"start the payload", errno, {}, {}});
  }
  pid_t payload =
      clone(payload_entry, static_cast<char*>(stack) + kGuard + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  if (payload < 0) die(sock, {"start the payload", errno, {}, {}});
  munmap(stack, kGuard + kStack);
  timeline_mark("c:exec");
  close(report[1]);
  stub_init(sock, payload, report[0]);
}

}  // namespace ctrun::launch
