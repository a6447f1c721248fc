// ctrun exec: a new process in a running container, set up as the
// container's payload was (the launch plan rebuilt from the effective
// manifest the container was started from), with the command, user,
// directory and environment of the request.
//
// The order matters for safety: ctrun runs from a sealed copy of itself and
// is non-dumpable, so that no process of the container can reach the host's
// binary through /proc/PID/exe (CVE-2019-5736); it joins the container's
// cgroups before it joins any namespace (a process never runs inside
// without being accounted for), then the namespaces through init's pidfd,
// and forks the command into the pid namespace; the command's own steps
// (ids, capabilities, no_new_privileges, seccomp last) are the payload's
// (launch/payload.h).
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <memory>

#include "base/proctitle.h"
#include "cgroup/host.h"
#include "launch/ids.h"
#include "launch/payload.h"
#include "launch/privilege.h"
#include "launch/protocol.h"
#include "launch/terminal.h"
#include "ops/container.h"
#include "ops/ops.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

extern char** environ;

namespace ctrun::ops {
namespace {

bool already_sealed() {
  UniqueFd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return false;
  int seals = fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE)) return true;
  // The read-only bind below (or a read-only /usr): no one can write it.
  struct statvfs vfs;
  return fstatvfs(self.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

// vm.memfd_noexec=2 refuses executable memfds: the binary then runs from a
// read-only bind mount of itself, made in a mount namespace of this process
// and detached before the exec (the open fd keeps it).
bool reexec_from_readonly_bind(char** argv, std::string& error) {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) {
    error = std::string("cannot read /proc/self/exe: ") + std::strerror(errno);
    return false;
  }
  path[n] = 0;
  if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0 ||
      mount(path, path, nullptr, MS_BIND, nullptr) < 0 ||
      mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) < 0) {
    error = std::string("cannot bind ") + path + " read-only: " + std::strerror(errno);
    return false;
  }
  int fd = open(path, O_PATH | O_CLOEXEC);
  umount2(path, MNT_DETACH);
  if (fd < 0) {
    error = std::string("cannot open ") + path + ": " + std::strerror(errno);
    return false;
  }
  syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  error = std::string("cannot execute the read-only copy of ctrun: ") + std::strerror(errno);
  return false;
}

std::string ns_path(pid_t pid, const char* ns) { return "/proc/" + std::to_string(pid) + "/ns/" + ns; }

struct NsType {
  const char* name;
  int flag;
};
// The user namespace first: joining it gives the capabilities the others need.
constexpr NsType kNamespaces[] = {{"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
                                  {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID},
                                  {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS}};

// The namespaces of `init` that are not this process's own.
int differing_namespaces(pid_t init) {
  int flags = 0;
  for (const auto& ns : kNamespaces) {
    struct stat theirs, ours;
    if (stat(ns_path(init, ns.name).c_str(), &theirs) == 0 && stat(ns_path(getpid(), ns.name).c_str(), &ours) == 0 &&
        theirs.st_ino != ours.st_ino) {
      flags |= ns.flag;
    }
  }
  return flags;
}

// setns(pidfd, all) in one step; kernels without it (before 5.8) get one
// namespace at a time through /proc/PID/ns, in two passes: what fails
// first may work once the user namespace is joined.
bool join_namespaces(Container& c, int flags, std::string& error) {
  if (setns(c.init.get(), flags) == 0) return true;
  if (errno != EINVAL) {
    error = std::string("cannot join its namespaces: ") + std::strerror(errno);
    return false;
  }
  std::vector<std::pair<NsType, UniqueFd>> todo;
  for (const auto& ns : kNamespaces) {
    if (flags & ns.flag) todo.emplace_back(ns, UniqueFd(open(ns_path(c.s.init.pid, ns.name).c_str(), O_RDONLY | O_CLOEXEC)));
  }
  // The fds are init's only if init is still the recorded process now.
  if (state::starttime_of(c.s.init.pid) != c.s.init.starttime) {
    error = "its init ended";
    return false;
  }
  for (int pass = 0; pass < 2 && !todo.empty(); ++pass) {
    std::vector<std::pair<NsType, UniqueFd>> left;
    for (auto& [ns, fd] : todo) {
      if (!fd || setns(fd.get(), ns.flag) < 0) {
        if (pass == 1) {
          error = std::string("cannot join its ") + ns.name + " namespace: " + std::strerror(fd ? errno : ENOENT);
          return false;
        }
        left.emplace_back(ns, std::move(fd));
      }
    }
    todo = std::move(left);
  }
  return true;
}

// The v1 hierarchies: this process moves into the container's cgroup (or SUB
// below it) in each, through `tasks`: it is single-threaded, and moving one
// thread skips the kernel's threadgroup lock, whose first writer waits for an
// RCU grace period (some 10 ms per write). The command, forked after, is born
// there.
// Boot mode: a command joins PID 1's own cgroup of each hierarchy
// (init.scope under systemd), which the guest chose inside payload/; the
// guest's tree may hold no process in payload/ itself. Empty when PID 1 is
// not below payload/ (then payload/ is used).
std::string init_cgroup(const Container& c, const state::Cgroup& cg, const std::string& mount_point) {
  if (c.s.mode != "boot" || mount_point.empty()) return {};
  std::istringstream lines(cgroup::read_text("/proc/" + std::to_string(c.s.init.pid) + "/cgroup"));
  for (std::string l; std::getline(lines, l);) {
    auto a = l.find(':'), b = l.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string names = "," + l.substr(a + 1, b - a - 1) + ",";
    bool match = cg.controller.empty() ? names == ",," : names.find("," + cg.controller + ",") != std::string::npos;
    if (!match) continue;
    std::string dir = mount_point + l.substr(b + 1);
    if (dir.rfind(cg.payload + "/", 0) == 0 && dir.find("/../") == std::string::npos) return dir;
  }
  return {};
}

bool join_v1(const Container& c, const std::string& sub, std::string& error) {
  cgroup::Host host = c.s.mode == "boot" ? cgroup::read_host() : cgroup::Host{};
  for (const auto& cg : c.s.cgroups) {
    if (cg.controller.empty()) continue;
    std::string dir = sub.empty() ? cg.payload : cg.payload + "/" + sub;
    if (sub.empty() && host.has_v1(cg.controller)) {
      if (std::string init = init_cgroup(c, cg, host.v1.at(cg.controller)); !init.empty()) dir = init;
    }
    UniqueFd tasks(open((dir + "/tasks").c_str(), O_WRONLY | O_CLOEXEC));
    if (!tasks || write(tasks.get(), "0", 1) != 1) {
      error = "cannot join the cgroup " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

// The cgroup2 directory the command is cloned into (CLONE_INTO_CGROUP: no
// migration at all), and where a directory with controllers for its
// children takes no process (the guest's init delegated it): init's own.
struct V2Target {
  UniqueFd dir, fallback;
  std::string path;
};
bool open_v2(const Container& c, const std::string& sub, V2Target& out, std::string& error) {
  for (const auto& cg : c.s.cgroups) {
    if (!cg.controller.empty()) continue;
    out.path = sub.empty() ? cg.payload : cg.payload + "/" + sub;
    out.dir.reset(open(out.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!out.dir) {
      error = "cannot join the cgroup " + out.path + ": " + std::strerror(errno);
      return false;
    }
    if (!sub.empty()) return true;
    if (c.s.mode == "boot") {
      if (std::string init = init_cgroup(c, cg, cgroup::read_host().unified); !init.empty()) {
        out.path = init;
        out.dir.reset(open(out.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!out.dir) {
          error = "cannot join the cgroup " + out.path + ": " + std::strerror(errno);
          return false;
        }
      }
      return true;
    }
    std::string own = cgroup::read_text("/proc/" + std::to_string(c.s.init.pid) + "/cgroup");
    auto pos = own.find("0::");
    std::string root = cgroup::read_host().unified;
    if (pos != std::string::npos && !root.empty()) {
      std::string rel = own.substr(pos + 3, own.find('\n', pos) - pos - 3);
      if (root + rel != out.path) out.fallback.reset(open((root + rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    return true;
  }
  return true;  // no cgroup2 directory: nothing to do there
}

// fork(), into the cgroup2 directory when there is one: clone3 with
// CLONE_INTO_CGROUP (the fallback directory on EBUSY); on kernels without
// it the parent joins through cgroup.procs first.
pid_t spawn(const V2Target& v2, int* pidfd, std::string& error) {
  struct clone_args args {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  if (!v2.dir) return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
  int err = 0;
  for (int fd : {v2.dir.get(), v2.fallback.get()}) {
    if (fd < 0) continue;
    args.flags = CLONE_PIDFD | CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(fd);
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) return static_cast<pid_t>(pid);
    err = errno;
    if (err == EAGAIN || err == ENOSYS || err == E2BIG) break;
  }
  if (err == ENOSYS || err == E2BIG) {
    UniqueFd procs(openat(v2.dir.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
    if (!procs || write(procs.get(), "0", 1) != 1) {
      error = "cannot join the cgroup " + v2.path + ": " + std::strerror(errno);
      errno = EPERM;
      return -1;
    }
    pid_t pid = fork();
    if (pid > 0) *pidfd = pidfd_open(pid);
    return pid;
  }
  errno = err;
  return -1;
}

bool valid_sub(const std::string& sub) {
  if (sub.empty() || sub[0] == '/' || sub.back() == '/') return false;
  size_t pos = 0;
  while (pos <= sub.size()) {
    size_t slash = sub.find('/', pos);
    if (slash == std::string::npos) slash = sub.size();
    std::string part = sub.substr(pos, slash - pos);
    if (part.empty() || part == "." || part == "..") return false;
    pos = slash + 1;
  }
  return true;
}

void set_env(std::vector<std::string>& env, const std::string& kv) {
  std::string key = kv.substr(0, kv.find('=') + 1);
  for (auto& v : env) {
    if (v.rfind(key, 0) == 0) {
      v = kv;
      return;
    }
  }
  env.push_back(kv);
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kFailed;
}

const int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

}  // namespace

bool reexec_sealed(char** argv, std::string& error) {
  if (already_sealed()) return true;
  UniqueFd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  int memfd = static_cast<int>(syscall(SYS_memfd_create, "ctrun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (memfd < 0 && errno == EINVAL) {
    memfd = static_cast<int>(syscall(SYS_memfd_create, "ctrun", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  }
  if (memfd < 0 && errno == EACCES) return reexec_from_readonly_bind(argv, error);
  struct stat st;
  if (!self || memfd < 0 || fstat(self.get(), &st) < 0) {
    error = std::string("cannot copy ctrun into a sealed memfd: ") + std::strerror(errno);
    return false;
  }
  UniqueFd copy(memfd);
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = sendfile(copy.get(), self.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n <= 0) {
      error = std::string("cannot copy ctrun into a sealed memfd: ") + std::strerror(n < 0 ? errno : EIO);
      return false;
    }
  }
  if (fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    error = std::string("cannot seal the copy of ctrun: ") + std::strerror(errno);
    return false;
  }
  syscall(SYS_execveat, copy.get(), "", argv, environ, AT_EMPTY_PATH);
  if (errno == EACCES) return reexec_from_readonly_bind(argv, error);
  error = std::string("cannot execute the sealed copy of ctrun: ") + std::strerror(errno);
  return false;
}

int exec(const std::string& dir, const ExecRequest& r, const PlanLoader& load) {
  // Nothing of the container may look into this process (ptrace, /proc/PID/mem
  // or exe) before the command's execve makes it the container's.
  prctl(PR_SET_DUMPABLE, 0);
  if (!r.cgroup.empty() && !valid_sub(r.cgroup)) {
    std::fprintf(stderr, "ctrun: --cgroup: \"%s\" is not a relative path below the container's cgroup\n",
                 r.cgroup.c_str());
    return kUsage;
  }
  Container c;
  if (int rc = find_running(dir, r.name, "enter", c); rc != 0) return kFailed;
  if (is_frozen(c.s)) return fail("cannot enter " + r.name + ": it is frozen (ctrun thaw " + r.name + ")");
  if (c.s.status != "running") return fail("cannot enter " + r.name + ": it is " + c.s.status);

  // The process as the container's payload was set up, with the request's changes.
  auto planned = load(state::snapshot_path(dir + "/" + r.name), r.command);
  if (!planned) return fail("cannot plan the command from " + state::snapshot_path(dir + "/" + r.name));
  plan::ExecPlan e = planned->exec;
  if (launch::seccomp_digest(e.seccomp) != c.s.seccomp_sha256) {
    return fail("will not enter " + r.name + ": its seccomp profile (" + e.seccomp.profile +
                ") has changed since it started, and the command would run under other filters than the container's");
  }
  if (!r.user.empty()) {
    auto colon = r.user.find(':');
    e.user = r.user.substr(0, colon);
    e.group = colon == std::string::npos ? "" : r.user.substr(colon + 1);
    e.supplementary_groups.clear();  // the manifest's were for its own user
  }
  if (!r.cwd.empty()) e.cwd = r.cwd;
  if (planned->boot.enabled) {
    // PID 1's environment is for PID 1 (its notify socket, the UUID, the
    // host's identity); a command gets PATH, container=, process.env and,
    // from its user's passwd entry, HOME.
    std::erase_if(e.env, [](const std::string& v) {
      for (const char* k : {"NOTIFY_SOCKET=", "container_uuid=", "container_host_", "HOME=", "USER=", "LOGNAME="}) {
        if (v.rfind(k, 0) == 0) return true;
      }
      return false;
    });
  }
  const bool use_tty = r.tty ? *r.tty : isatty(STDIN_FILENO) == 1;
  if (use_tty) set_env(e.env, std::string("TERM=") + (getenv("TERM") ? getenv("TERM") : "xterm"));
  for (const auto& kv : r.env) {
    set_env(e.env, kv);
    if (kv.rfind("PATH=", 0) == 0) e.path_var = kv.substr(5);
  }

  // Signals wait in a signalfd from here on; the command unblocks them.
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd signals(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));

  std::string error;
  V2Target v2;
  if (!join_v1(c, r.cgroup, error) || !open_v2(c, r.cgroup, v2, error)) return fail("cannot enter " + r.name + ": " + error);
  // The cgroup namespace is the command's to join, once it is in its
  // cgroup: a process outside a namespace's root can be cloned into a cgroup
  // below it only from outside the namespace (else the kernel says ENOENT).
  int flags = differing_namespaces(c.s.init.pid);
  UniqueFd cgroup_ns;
  if (flags & CLONE_NEWCGROUP) {
    flags &= ~CLONE_NEWCGROUP;
    cgroup_ns.reset(open(ns_path(c.s.init.pid, "cgroup").c_str(), O_RDONLY | O_CLOEXEC));
    // Init's only if init is still the recorded process once it is open.
    if (!cgroup_ns || state::starttime_of(c.s.init.pid) != c.s.init.starttime) {
      return fail("cannot enter " + r.name + ": cannot open its cgroup namespace");
    }
  }
  if (flags && !join_namespaces(c, flags, error)) return fail("cannot enter " + r.name + ": " + error);

  // The pty, of the container's own devpts (this process is in its mount
  // namespace now); the slave is reached through the master, never by path.
  UniqueFd master, slave;
  if (use_tty) {
    master.reset(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (master && unlockpt(master.get()) == 0) slave.reset(ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) return fail("cannot open a pty in " + r.name + ": " + std::strerror(errno));
    struct winsize ws {};
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
      ioctl(master.get(), TIOCSWINSZ, &ws);
    }
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return fail(std::string("cannot create a pipe: ") + std::strerror(errno));
  UniqueFd report_in(report[0]);
  // The child is in the pid namespace, where this process has no pid
  // (getppid() is 0): it watches this process's pidfd instead.
  UniqueFd parent(pidfd_open(getpid()));
  int child_pidfd = -1;
  pid_t child = spawn(v2, &child_pidfd, error);
  if (child < 0) {
    int err = errno;
    close(report[1]);
    if (!error.empty()) return fail("cannot enter " + r.name + ": " + error);
    if (err == EAGAIN) return fail("cannot start the command in " + r.name + ": it is at its process limit (pids)");
    return fail("cannot start the command in " + r.name + ": " + std::strerror(err));
  }
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct pollfd gone {parent.get(), POLLIN, 0};
    if (!parent || poll(&gone, 1, 0) != 0) _exit(kFailed);
    int out = report[1];
    auto die = [out](const Failure& f, int status) {
      launch::Message m = launch::failure_message(f, status);
      ssize_t n = write(out, &m, sizeof m);
      (void)n;
      _exit(status);
    };
    master.reset();
    set_command_line("ctrun-exec");  // not ctrun's host path and arguments, for the container to read
    if (cgroup_ns && setns(cgroup_ns.get(), CLONE_NEWCGROUP) < 0) {
      die({"join the cgroup namespace of " + r.name, errno, {}, {}}, kFailed);
    }
    Failure f;
    launch::Identity id;
    if (!launch::resolve_identity(launch::read_small_file("/etc/passwd"), launch::read_small_file("/etc/group"), e, id,
                                  f)) {
      die(f, kFailed);
    }
    if (!launch::drop_bounding(e.caps.bounding, f)) die(f, kFailed);
    launch::become_payload(e, id, planned->userns.active(), slave ? slave.get() : -1, die);
  }
  close(report[1]);
  slave.reset();
  UniqueFd pidfd(child_pidfd);
  std::unique_ptr<launch::TerminalRelay> tty;
  if (master) tty = std::make_unique<launch::TerminalRelay>(std::move(master), true);

  bool master_open = true, done = false;
  while (!done) {
    struct pollfd all[] = {
        {pidfd.get(), POLLIN, 0},
        {signals.get(), POLLIN, 0},
        {tty && tty->stdin_open() ? STDIN_FILENO : -1, POLLIN, 0},
        {tty && master_open ? tty->master() : -1, POLLIN, 0},
    };
    if (poll(all, std::size(all), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (all[3].revents & (POLLIN | POLLHUP | POLLERR)) master_open = tty->pump_master();
    if (all[2].revents & (POLLIN | POLLHUP | POLLERR)) tty->pump_stdin();
    if (all[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(signals.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) continue;
        // With a pty the kernel tells the command's group of a new size.
        if (sig == SIGWINCH && tty) {
          tty->resize();
          continue;
        }
        pidfd_signal(pidfd.get(), sig);
      }
    }
    if (all[0].revents & POLLIN) done = true;
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (tty) tty->drain();
  tty.reset();  // the caller's terminal back as it was, before any message
  launch::Message m;
  if (read(report_in.get(), &m, sizeof m) == static_cast<ssize_t>(sizeof m)) {
    std::fprintf(stderr, "%s\n", render(launch::failure_of(m)).c_str());
    return m.status;
  }
  return exit_code(status);
}

}  // namespace ctrun::ops
