// The parent's story of one launch, top to bottom: take the name, open the
// namespaces to join, clone the child into its new namespaces, tell it to go,
// then supervise: relay the terminal, hand on signals, stop it on SIGTERM,
// and turn its end into ctrun's exit status. Every host-side resource is
// owned by a guard, so that any return path leaves nothing behind.
#include "launch/launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>

#include "base/digest.h"
#include "base/fd.h"
#include "base/locks.h"
#include "base/signals.h"
#include "base/timeline.h"
#include "base/uuid.h"
#include "cgroup/mount_guard.h"
#include "launch/child.h"
#include "launch/payload.h"
#include "launch/protocol.h"
#include "launch/terminal.h"
#include "manifest/emit.h"
#include "net/network.h"
#include "net/rtnl.h"
#include "state/state.h"
#include "systemd/notify.h"
#include "systemd/scope.h"

namespace ctrun::launch {
namespace {

constexpr int kFailed = 125;

void report(const Failure& f) { std::fprintf(stderr, "%s\n", render(f).c_str()); }

// A failure on the host's side after the child was let go. A child that
// fails fast (a rootfs whose /proc is a symlink) may have ended before the
// parent opened its network namespace; then its report, waiting on the
// socket, is the one that says why: shown instead, with its status.
int host_side_failed(int sock, const Failure& f) {
  fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
  Message m;
  int fd = -1;
  while (recv_message(sock, m, &fd)) {
    if (fd >= 0) close(std::exchange(fd, -1));
    if (m.step == Step::failed) {
      report(failure_of(m));
      return m.status;
    }
  }
  report(f);
  return kFailed;
}

// /run/ctrun: root's, 0700, a real directory (never a symlink someone
// planted; CVE-2019-12439 is the /tmp version of that mistake).
bool ensure_state_dir(const std::string& dir, Failure& f) {
  if (mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
    f = {"create the state directory " + dir, errno, {}, {}};
    return false;
  }
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) < 0) {
    f = {"open the state directory " + dir, errno, {}, {}};
    return false;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
    f = {"use the state directory " + dir, 0, {}, "it must belong to ctrun's user and be writable by nobody else"};
    return false;
  }
  return true;
}

// The name lock: an OFD lock on <state>/<name>.lock (base/locks.h). The kernel drops it when
// ctrun dies however it dies; the file is unlinked while still locked, and a
// locker that finds its file unlinked under it starts over.
class NameLock {
 public:
  bool acquire(const std::string& path, const std::string& name, int gc, Failure& f) {
    flock(gc, LOCK_SH);  // no lock GC meanwhile (see collect_stale_locks)
    struct Unlock {
      int fd;
      ~Unlock() { flock(fd, LOCK_UN); }
    } unlock{gc};
    for (int attempt = 0; attempt < 100; ++attempt) {
      UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) {
        f = {"create the lock " + path, errno, "name", {}};
        return false;
      }
      if (!try_lock(fd.get())) {
        if (errno == EAGAIN) {
          f = {"start " + name, 0, "name", "a container of that name is already running"};
        } else {
          f = {"lock " + path, errno, "name", {}};
        }
        return false;
      }
      struct stat a, b;
      if (fstat(fd.get(), &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
        fd_ = std::move(fd);
        path_ = path;
        return true;
      }
    }
    f = {"lock " + path, EAGAIN, "name", {}};
    return false;
  }
  ~NameLock() {
    if (fd_) unlink(path_.c_str());
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

// Lock files of containers whose ctrun was SIGKILLed: unlocked, so nobody
// runs under them; removed with the same protocol as a normal exit.
// Stale name locks (of a ctrun killed with SIGKILL) are removed under a
// global GC lock: exclusive here, shared while a launcher takes its name lock
// (NameLock), so that no launcher is ever between its open and its lock
// while a lock is probed, and a probe never makes it fail "already running".
void collect_stale_locks(const std::string& dir, int gc) {
  flock(gc, LOCK_EX);
  DIR* d = opendir(dir.c_str());
  if (d) {
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      // (.gc.lock is flock'd, not a name lock: never a candidate)
      if (n[0] == '.' || n.size() <= 5 || n.compare(n.size() - 5, 5, ".lock") != 0) continue;
      if (lock_held(dir + "/" + n)) continue;  // cheap: most are in use
      int fd = openat(dirfd(d), n.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;
      struct stat a, b;
      if (try_lock(fd) && fstat(fd, &a) == 0 &&
          fstatat(dirfd(d), n.c_str(), &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino) {
        unlinkat(dirfd(d), n.c_str(), 0);
      }
      close(fd);
    }
    closedir(d);
  }
  flock(gc, LOCK_UN);
}

// Namespaces to join, opened and checked before anything is created: a path
// that is not a namespace of the right type is the user's error.
bool open_joins(const plan::LaunchPlan& p, std::vector<UniqueFd>& fds, Failure& f) {
  for (const auto& j : p.joins) {
    UniqueFd fd(open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      f = {"open the " + j.name + " namespace " + j.path, errno, j.key, {}};
      return false;
    }
    int type = ioctl(fd.get(), NS_GET_NSTYPE);
    if (type < 0 || type != j.type) {
      f = {"join the " + j.name + " namespace " + j.path, 0, j.key, "it is not a " + j.name + " namespace"};
      return false;
    }
    fds.push_back(std::move(fd));
  }
  return true;
}

// The child process of the launch, killed and reaped unless it was reaped
// normally.
class ChildGuard {
 public:
  ChildGuard() = default;
  void adopt(pid_t pid, int pidfd) {
    pid_ = pid;
    pidfd_.reset(pidfd);
  }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  void signal(int sig) {
    if (pidfd_) syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
  }
  // Reaps the child; returns its wait status.
  int reap() {
    siginfo_t si{};
    while (waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &si, WEXITED) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (si.si_code == CLD_EXITED) return W_EXITCODE(si.si_status, 0);
    return si.si_status;  // killed or dumped: the signal number is the status
  }
  ~ChildGuard() {
    if (pidfd_ && !reaped_) {
      signal(SIGKILL);
      reap();
    }
  }

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

// One message from the container's notify socket, or nullopt when none is
// queued. Messages are dropped (an empty string returned, so the caller
// reads on) when they are too long, carry no credentials, or come from a
// live process outside the container's mount namespace; fds sent along are
// closed unread. A sender that has exited, or is exiting (ENOENT or ESRCH
// from its ns link), cannot be placed (by pid, the only handle the
// credentials give) and is heard: short-lived senders
// such as `systemd-notify --ready` are the common case, and a process
// outside the container reaches the socket only through /proc/PID/root of a
// container process, which takes ptrace rights over it.
std::optional<std::string> read_guest_message(int fd, ino_t container_mnt, pid_t only) {
  char buf[systemd::kMaxNotifyMessage + 1];
  union {
    char space[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
    cmsghdr align;
  } control;
  iovec iov{buf, sizeof buf};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.space;
  mh.msg_controllen = sizeof control.space;
  ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
  if (n < 0) return errno == EINTR ? std::optional<std::string>("") : std::nullopt;
  const ucred* cred = nullptr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
      cred = reinterpret_cast<const ucred*>(CMSG_DATA(c));
    } else if (c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int got;
        std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        close(got);
      }
    }
  }
  if (static_cast<size_t>(n) > systemd::kMaxNotifyMessage || !cred || cred->pid <= 0) return std::string();
  // Boot mode: PID 1 speaks for the container, nobody else.
  if (only > 0 && cred->pid != only) return std::string();
  struct stat st;
  if (stat(("/proc/" + std::to_string(cred->pid) + "/ns/mnt").c_str(), &st) == 0 ? st.st_ino != container_mnt
                                                                                   : errno != ENOENT && errno != ESRCH) {
    return std::string();
  }
  return std::string(buf, static_cast<size_t>(n));
}

// /run/ctrun/NAME/state.json while the container runs (state/state.h), for
// list, stop and kill; removed before the name lock is let go. A SIGKILLed
// ctrun leaves it: the next run of that name removes it.
class StateRecord {
 public:
  explicit StateRecord(std::string dir) : dir_(std::move(dir)) { state::remove_state(dir_); }
  // The snapshot goes first: a state that exists has one.
  void write(const state::State& s, const std::string& snapshot) {
    if (removed_) return;  // the payload has ended: nothing to record any more
    Failure f;
    if (!snapshot.empty() && !snapshot_written_) {
      snapshot_written_ = state::write_snapshot(dir_, snapshot, f);
      if (!snapshot_written_) std::fprintf(stderr, "ctrun: warning: %s\n", render(f).substr(7).c_str());
    }
    if (!state::write_state(dir_, s, f)) std::fprintf(stderr, "ctrun: warning: %s\n", render(f).substr(7).c_str());
  }
  ~StateRecord() { remove(); }
  // Early, once the payload has exited: the state goes while the stub init's
  // exit tears the namespaces down on another CPU. (Until the name lock is
  // let go, `ctrun list` shows the name as creating.)
  void remove() {
    if (!std::exchange(removed_, true)) state::remove_state(dir_);
  }

 private:
  bool snapshot_written_ = false, removed_ = false;
  std::string dir_;
};

// The state of a container, made while the child builds it (the parent
// waits anyway), so that little is left to do once the payload runs
// (note_payload).
state::State describe(const plan::LaunchPlan& p, pid_t init, const cgroup::Cgroups& cgroups,
                      const std::string& host_if) {
  state::State s;
  s.name = p.name;
  s.manifest = p.manifest_path;
  s.manifest_sha256 = sha256_file(p.manifest_path);
  s.seccomp_sha256 = seccomp_digest(p.exec.seccomp);
  s.boot_id = state::boot_id();
  s.supervisor = {getpid(), state::starttime_of(getpid())};
  s.init = {init, state::starttime_of(init)};
  s.main = s.init;
  s.mode = p.boot.enabled ? "boot" : "app";
  for (const auto& [path, payload, controller] : cgroups.layout()) {
    struct stat st {};
    stat(payload.c_str(), &st);
    s.cgroups.push_back({path, payload, controller, st.st_ino});
  }
  if (p.keep_unit || p.systemd_scope) s.unit = p.scope.unit;
  s.keep_unit = p.keep_unit;
  s.network = manifest::choice_word("network.mode", static_cast<int>(p.network.mode));
  s.host_interface = host_if;
  for (const auto& a : p.network.address) s.addresses.push_back(format_cidr(a));
  s.stop_signal = p.stop_signal;
  s.stop_timeout_us = p.stop_timeout_us;
  s.ready = true;
  return s;
}

// The payload has called execve: the namespaces as they are now (the
// child makes its cgroup namespace once placed), and the payload, the stub
// init's only child (in boot mode the init system is PID 1 itself).
void note_payload(state::State& s, bool boot) {
  s.started = static_cast<int64_t>(time(nullptr));
  const pid_t init = s.init.pid;
  for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}) {
    struct stat st;
    if (stat(("/proc/" + std::to_string(init) + "/ns/" + ns).c_str(), &st) == 0) s.namespaces[ns] = st.st_ino;
  }
  if (boot) return;
  std::string children = cgroup::read_text("/proc/" + std::to_string(init) + "/task/" + std::to_string(init) + "/children");
  if (pid_t payload = static_cast<pid_t>(std::strtol(children.c_str(), nullptr, 10)); payload > 0) {
    s.main = {payload, state::starttime_of(payload)};
  }
}

// A transient scope of ours. At the end ctrun leaves it for the cgroups it
// came from and stops it, so that the scope is gone, cgroup and all, when
// ctrun exits (systemd collects an empty scope by itself too, but later).
// On cgroup v1 systemd moved ctrun in every hierarchy it manages: ctrun
// goes back in each (its own thread by "0" in tasks, as it came), the
// hierarchies whose emptiness systemd watches last (name=systemd, then
// cgroup2): once the scope is empty there systemd removes its cgroups
// everywhere, and one that ctrun were still in would stay behind.
class ScopeGuard {
 public:
  bool start(const plan::LaunchPlan& p, Failure& f) {
    const auto& host = p.cgroup_host;
    std::string systemd_v1, unified;
    for (const auto& [name, path] : cgroup::own_cgroups(cgroup::read_text("/proc/self/cgroup"))) {
      if (name.empty() && !host.unified.empty()) unified = host.unified + path + "/cgroup.procs";
      if (!name.empty() && host.has_v1(name)) {
        std::string file = host.v1.at(name) + path + "/tasks";
        if (name == "name=systemd") systemd_v1 = file;
        else if (std::find(origins_.begin(), origins_.end(), file) == origins_.end()) origins_.push_back(file);
      }
    }
    for (auto* last : {&systemd_v1, &unified}) {
      if (!last->empty()) origins_.push_back(*last);
    }
    systemd::ScopeRequest r = p.scope;
    r.pid = getpid();
    if (!systemd::start_scope(r, f, &controller_)) return false;
    unit_ = r.unit;
    return true;
  }
  // The scope's Controller= connection: systemd's RequestStop comes here.
  systemd::ScopeController& controller() { return controller_; }
  void finish() {
    if (unit_.empty()) return;
    std::string unit = std::exchange(unit_, {});
    std::string pid = std::to_string(getpid());
    for (const auto& file : origins_) {
      bool v1 = file.ends_with("/tasks");
      UniqueFd fd(open(file.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd || write(fd.get(), v1 ? "0" : pid.data(), v1 ? 1 : pid.size()) < 0) return;  // still inside: systemd collects it
    }
    Failure f;
    if (!systemd::stop_unit(unit, f)) std::fprintf(stderr, "ctrun: warning: %s\n", render(f).substr(7).c_str());
  }
  ~ScopeGuard() { finish(); }

 private:
  std::string unit_;
  std::vector<std::string> origins_;  // cgroup.procs or v1 tasks files
  systemd::ScopeController controller_;
};

// systemd.machine: the container as a machine of systemd-machined while
// it runs. yes: a failure is ctrun's; auto: a warning, and silence when
// machined cannot be reached at all.
class MachineGuard {
 public:
  bool start(const plan::LaunchPlan& p, pid_t leader, Failure& f) {
    systemd::MachineRequest r;
    r.name = p.name;
    if (auto id = parse_id128(p.container_uuid)) r.id = *id;
    r.leader = leader;
    r.root = p.root.kind == plan::RootPlan::Kind::host ? "/" : p.root.path;
    std::string host_if = !p.network.bridge.empty() ? p.network.bridge : p.network.host_if;
    if (unsigned i = host_if.empty() ? 0 : if_nametoindex(host_if.c_str()); i > 0) r.ifindices.push_back(static_cast<int32_t>(i));
    bool unavailable = false;
    if (systemd::register_machine(r, f, &unavailable)) {
      name_ = p.name;
      return true;
    }
    if (p.machine == plan::LaunchPlan::Machine::yes) return false;
    if (!unavailable) std::fprintf(stderr, "ctrun: warning: %s\n", render(f).substr(7).c_str());
    return true;
  }
  ~MachineGuard() {
    if (!name_.empty()) systemd::unregister_machine(name_);
  }

 private:
  std::string name_;
};

// The user namespace maps, written by the parent (root in the host's
// namespace) while the child waits for host_ready.
bool write_id_maps(pid_t pid, const plan::UserNsPlan& u, Failure& f) {
  for (auto [file, map, key] : {std::tuple{"uid_map", &u.uid_map, "user_namespace.uid_map"},
                                std::tuple{"gid_map", &u.gid_map, "user_namespace.gid_map"}}) {
    std::string text;
    for (const auto& r : *map) {
      text += std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count) + "\n";
    }
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    // The kernel takes the whole map in one write, or nothing.
    if (!fd || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      f = {"write the user namespace's " + std::string(file), errno, key, {}};
      return false;
    }
  }
  return true;
}

std::string fs_name(const std::string& path) {
  struct statfs s {};
  if (statfs(path.c_str(), &s) < 0) return "an unknown file system";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794c7630: return "overlayfs";
    case 0x6969: return "nfs";
    case 0x65735546: return "a FUSE file system";
    case 0x2fc12fc1: return "zfs";
    case 0xF2F52010: return "f2fs";
    case 0x73717368: return "squashfs";
    case 0x01021997: return "9p";
    default: {
      char hex[32];
      std::snprintf(hex, sizeof hex, "file system type 0x%lx", static_cast<unsigned long>(s.f_type));
      return hex;
    }
  }
}

// namespaces.user as a path (the plan has it among its joins then).
size_t user_join(const plan::LaunchPlan& p) {
  size_t i = 0;
  while (p.joins[i].type != CLONE_NEWUSER) ++i;
  return i;
}

// The map of a joined user namespace, as /proc/PID/{uid,gid}_map of a
// process in it says.
std::vector<manifest::IdRange> read_id_map(pid_t pid, const char* file) {
  std::istringstream lines(read_small_file(("/proc/" + std::to_string(pid) + "/" + file).c_str()));
  std::vector<manifest::IdRange> map;
  manifest::IdRange r;
  while (lines >> r.inside >> r.outside >> r.count) map.push_back(r);
  return map;
}

// For a user namespace: the rootfs (or the ephemeral root's lower layer) as
// a detached tree the child attaches. Its files belong to host ids; unless
// the tree already belongs to the container's root (chowned, LXC-style), the
// tree is idmapped through the container's user namespace, so that host
// root's files are the container root's. Only the parent may do that: the
// file system's superblock belongs to the host's user namespace.
bool prepare_root_tree(const plan::LaunchPlan& p, pid_t pid, UniqueFd& out, Failure& f) {
  if (!p.userns.active() || p.root.kind == plan::RootPlan::Kind::host) return true;
  uint32_t root_uid = p.userns.root_uid, root_gid = p.userns.root_gid;
  if (p.userns.joined) {
    // (No root in it: the child fails to become that root, and says so.)
    auto uid = plan::host_of_root(read_id_map(pid, "uid_map")), gid = plan::host_of_root(read_id_map(pid, "gid_map"));
    if (!uid || !gid) return true;
    root_uid = *uid;
    root_gid = *gid;
  }
  const char* key = p.root.kind == plan::RootPlan::Kind::ephemeral ? "rootfs.ephemeral" : "rootfs.path";
  const std::string& path = p.root.path;
  UniqueFd tree(open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  struct stat st {};
  if (!tree || fstat(tree.get(), &st) < 0) {
    f = {"bind-mount the rootfs " + path, errno, key, {}};
    return false;
  }
  // A clone of a shared mount is its peer: what the container mounts on it
  // would show on the host (systemd makes / shared). Private, first.
  struct mount_attr priv {};
  priv.propagation = MS_PRIVATE;
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &priv, sizeof priv) < 0) {
    f = {"make the rootfs tree private", errno, key, {}};
    return false;
  }
  if (st.st_uid != root_uid || st.st_gid != root_gid) {
    std::string ns = "/proc/" + std::to_string(pid) + "/ns/user";
    UniqueFd userns(open(ns.c_str(), O_RDONLY | O_CLOEXEC));
    // A joined namespace that a user other than root owns: that user can
    // enter it, and the container's mount namespace, which belongs to it;
    // through a tree idmapped to it, what they write would be host root's
    // on disk (a setuid-root file, say). Only a tree of its root's own.
    uid_t owner = 0;
    if (p.userns.joined && userns && ioctl(userns.get(), NS_GET_OWNER_UID, &owner) == 0 && owner != 0) {
      f = {"use the rootfs " + path + " in the user namespace " + p.joins[user_join(p)].path, 0, "namespaces.user",
           "it belongs to uid " + std::to_string(owner) +
               ", who could write files owned by host root through an idmapped rootfs; chown the tree to " +
               std::to_string(root_uid) + ":" + std::to_string(root_gid) + " (its root) instead"};
      return false;
    }
    struct mount_attr a {};
    a.attr_set = MOUNT_ATTR_IDMAP;
    a.userns_fd = static_cast<uint64_t>(userns.get());
    if (!userns || mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0) {
      int err = errno;
      std::string detail;
      if (err == EINVAL || err == EPERM) {
        detail = path + " is on " + fs_name(path) + ", which cannot be idmapped; chown the tree to " +
                 std::to_string(root_uid) + ":" + std::to_string(root_gid) +
                 " (the container's root) instead";
      }
      f = {"map the rootfs's owners into the user namespace", err, key, detail};
      return false;
    }
  }
  out = std::move(tree);
  return true;
}

// clone3 into the new namespaces, with a pidfd; clone where clone3 is
// refused (ENOSYS: old kernels, or a seccomp filter of our own caller).
// With cgroup_fd, straight into that cgroup2 directory (CLONE_INTO_CGROUP):
// no migration; *into_cgroup says whether that happened.
pid_t clone_child(unsigned long flags, int* pidfd, int cgroup_fd, bool* into_cgroup) {
  struct clone_args args {};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  // (CLONE_PARENT: the signal is the caller's own, SIGCHLD; clone3 wants 0.)
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  *into_cgroup = false;
  long pid = -1;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      *into_cgroup = true;
      return static_cast<pid_t>(pid);
    }
    args.flags &= ~static_cast<uint64_t>(CLONE_INTO_CGROUP);
  }
  pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0 || errno != ENOSYS) return static_cast<pid_t>(pid);
  if (flags & CLONE_PARENT) return -1;  // (clone_in_user_namespace's: clone3 only)
  // clone cannot take CLONE_NEWTIME (it overlaps the exit signal's bits):
  // unshare it here, which only affects children made after it.
  if ((flags & CLONE_NEWTIME) && unshare(CLONE_NEWTIME) < 0) return -1;
  pid = syscall(SYS_clone, (flags & ~static_cast<unsigned long>(CLONE_NEWTIME)) | SIGCHLD, nullptr, nullptr, nullptr,
                nullptr);
  if (pid > 0) {
    *pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (*pidfd < 0) {
      kill(static_cast<pid_t>(pid), SIGKILL);
      waitpid(static_cast<pid_t>(pid), nullptr, 0);
      return -1;
    }
  }
  return static_cast<pid_t>(pid);
}

// namespaces.user a path: the namespaces the container creates must belong
// to that user namespace, as they do to one ctrun creates (its root
// administers them: mounts /proc, names the host, brings lo up), so they
// are created by a process in it. ctrun cannot join it itself (there is no
// way back to the host's), so a short-lived helper does: it drops the
// supplementary groups it has as host root (a joined namespace may deny
// setgroups), joins, and clones the child with CLONE_PARENT, which makes it
// ctrun's own child (its pidfd, its exit status, PR_SET_PDEATHSIG as ever).
// Returns as clone_child does: 0 in the child, its pid in ctrun.
pid_t clone_in_user_namespace(int userns_fd, unsigned long flags, int* pidfd, int cgroup_fd, bool* into_cgroup,
                              bool* joined) {
  *joined = true;
  struct Report {
    pid_t pid;
    int err;
    bool into_cgroup;
    bool joined;  // the failure, if any, came after the join
  };
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return -1;
  UniqueFd from_helper(pipe_fds[0]), to_parent(pipe_fds[1]);
  pid_t helper = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (helper < 0) return -1;
  if (helper == 0) {
    from_helper.reset();
    Report r{-1, 0, false, false};
    int child_pidfd = -1;
    if (setgroups(0, nullptr) < 0 || setns(userns_fd, CLONE_NEWUSER) < 0) {
      r.err = errno;
    } else {
      r.joined = true;
      r.pid = clone_child(flags | CLONE_PARENT, &child_pidfd, cgroup_fd, &r.into_cgroup);
      if (r.pid == 0) {
        to_parent.reset();
        return 0;
      }
      if (r.pid < 0) r.err = errno;
    }
    _exit(write(to_parent.get(), &r, sizeof r) == sizeof r ? 0 : 1);
  }
  to_parent.reset();
  Report r{-1, EIO, false, true};
  ssize_t n;
  do n = read(from_helper.get(), &r, sizeof r);
  while (n < 0 && errno == EINTR);
  while (waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof r)) r = {-1, EIO, false, true};
  if (r.pid < 0) {
    *joined = r.joined;
    errno = r.err;
    return -1;
  }
  // Our own child: its pid cannot be another's until we reap it.
  *pidfd = static_cast<int>(syscall(SYS_pidfd_open, r.pid, 0));
  if (*pidfd < 0) {
    int err = errno;
    kill(r.pid, SIGKILL);
    waitpid(r.pid, nullptr, 0);
    errno = err;
    return -1;
  }
  *into_cgroup = r.into_cgroup;
  return r.pid;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kFailed;
}

const int kSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};

// Blocks the signals we handle through a signalfd; the child inherits the
// mask, so its stub init handles them the same way, and the payload unblocks
// them before execve. Restored on destruction.
class SignalGuard {
 public:
  SignalGuard() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kSignals) sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, &old_);
    fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    old_pipe_ = signal(SIGPIPE, SIG_IGN);
  }
  ~SignalGuard() {
    fd_.reset();
    signal(SIGPIPE, old_pipe_);
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  int fd() const { return fd_.get(); }

 private:
  sigset_t old_;
  UniqueFd fd_;
  sighandler_t old_pipe_;
};

// Boot mode: how PID 1 ended, as ctrun's exit status. The kernel ends a
// pid namespace's init that called reboot(2) with SIGINT (halt, power-off)
// or SIGHUP (reboot); systemd calls it with CAP_SYS_BOOT, which boot mode
// keeps for this reason. A power-off exits 0 or with the EXIT_STATUS= the
// guest sent; a reboot sets `reboot` (and is 133 for a unit to restart);
// an init's own exit status 133 would read as a reboot, so it becomes 1.
int boot_exit_code(int status, const systemd::GuestNotify& guest, bool& reboot) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGINT) {
      if (guest.exit_status.empty()) return 0;
      char* end = nullptr;
      long v = std::strtol(guest.exit_status.c_str(), &end, 10);
      return *end == '\0' && v >= 0 && v <= 255 ? static_cast<int>(v) : 1;
    }
    if (sig == SIGHUP) {
      reboot = true;
      return 133;
    }
    return 128 + sig;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : kFailed;
  return code == 133 ? 1 : code;
}

int run_once(const plan::LaunchPlan& p, bool& reboot);

}  // namespace

int launch(const plan::LaunchPlan& p) {
  Failure f;
  // A container that shares the host's pid namespace sees this process:
  // non-dumpable, its /proc/PID/exe and mem are closed to it (CVE-2019-5736).
  prctl(PR_SET_DUMPABLE, 0);
  // Boot mode: an init that cannot run is known before anything exists.
  if (p.boot.enabled && !p.boot.init_problem.empty()) {
    report({"boot " + p.name, 0, p.exec.argv.empty() ? "boot" : "process.args", p.boot.init_problem});
    return p.boot.init_status;
  }
  if (!ensure_state_dir(p.state_dir, f)) return report(f), kFailed;
  std::string gc_path = p.state_dir + "/.gc.lock";
  UniqueFd gc(open(gc_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!gc) return report({"open " + gc_path, errno, {}, {}}), kFailed;
  collect_stale_locks(p.state_dir, gc.get());
  NameLock lock;
  if (!lock.acquire(p.lock_path, p.name, gc.get(), f)) return report(f), kFailed;
  gc.reset();
  // A guest that reboots boots again here, under the same name lock (a
  // fresh container: namespaces, cgroups, network, boot id); under a
  // systemd unit ctrun exits 133 instead and the unit restarts it.
  while (true) {
    bool reboot = false;
    timeline_mark("locked");
    int code = run_once(p, reboot);
    timeline_mark("done");
    if (!reboot || !p.boot.reboot_in_process) return code;
  }
}

namespace {

// init.link_journal, the host's side (the plan has checked what it found):
// host makes /var/log/journal/ID on the host, which the child binds into
// the guest; guest links it to the guest's directory. Both stay when the
// container ends, as with systemd-nspawn: the journal outlives it, and
// `journalctl -m` on the host reads it.
bool link_journal(const plan::BootPlan& b, Failure& f) {
  using J = plan::BootPlan::Journal;
  if (b.journal == J::host) {
    if (mkdir(b.journal_host.c_str(), 0755) < 0 && errno != EEXIST) {
      f = {"create " + b.journal_host, errno, "init.link_journal", {}};
      return false;
    }
  } else if (b.journal == J::guest) {
    if (symlink(b.journal_guest.c_str(), b.journal_host.c_str()) < 0 && errno != EEXIST) {
      f = {"link " + b.journal_host + " to " + b.journal_guest, errno, "init.link_journal", {}};
      return false;
    }
  }
  return true;
}

// The mount guard for a container with CAP_SYS_ADMIN on a host with cgroup
// v1 hierarchies (the child attaches it). Where this host cannot have it,
// the container runs without, as before: its cgroup namespace roots what it
// mounts at its own cgroup, and the kernel keeps release_agent out of its
// reach; a warning says so where CAP_SYS_ADMIN was asked for (boot mode
// always has it: there `ctrun check` tells, not every boot).
void load_guard(const cgroup::Cgroups& cgroups, bool quiet, UniqueFd& prog, UniqueFd& cgroup_dir) {
  std::string why;
  cgroup_dir.reset(cgroups.unified_limits_fd());
  if (!cgroup_dir) why = "this host has no cgroup2 hierarchy to attach it to";  // (as `ctrun check` says)
  else prog.reset(cgroup::load_mount_guard(why));
  static bool warned = false;  // once, not at every reboot of the guest
  if (!prog) {
    cgroup_dir.reset();
    if (quiet || std::exchange(warned, true)) return;
    std::fprintf(stderr, "ctrun: warning: the container has CAP_SYS_ADMIN and cannot be kept from mounting cgroup v1 "
                         "hierarchies (only its own cgroups show there): %s\n", why.c_str());
  }
}

// One life of the container, from clone to the last clean-up.
int run_once(const plan::LaunchPlan& p, bool& reboot) {
  Failure f;
  if (!link_journal(p.boot, f)) return report(f), kFailed;

  std::vector<UniqueFd> join_fds;
  if (!open_joins(p, join_fds, f)) return report(f), kFailed;
  // A pid namespace is joined by the parent: setns(CLONE_NEWPID) only
  // decides where the caller's next child goes.
  for (size_t i = 0; i < p.joins.size(); ++i) {
    if (p.joins[i].type == CLONE_NEWPID && setns(join_fds[i].get(), CLONE_NEWPID) < 0) {
      return report({"join the pid namespace " + p.joins[i].path, errno, p.joins[i].key, {}}), kFailed;
    }
  }

  // The cgroups exist, limited, before the child does; it is placed in them
  // while it waits for host_ready, so nothing of it ever runs unlimited.
  // (Declared before the child's guard: destroyed after the child is gone.)
  ScopeGuard scope;
  if (p.systemd_scope) {
    // systemd moves ctrun into the new scope; the container's cgroups are
    // then made inside it.
    if (!scope.start(p, f)) return report(f), kFailed;
  } else if (p.keep_unit) {
    // ctrun's own service is the container's unit: the limits go on it.
    if (!systemd::set_unit_properties(p.scope.unit, p.scope.properties, f)) return report(f), kFailed;
  }
  cgroup::Cgroups cgroups;
  if (!cgroups.create(p.cgroup_host, p.cgroups, f)) return report(f), kFailed;
  timeline_mark("cgroups");
  UniqueFd guard_prog, guard_cgroup;
  if (p.cgroups.mount_guard) load_guard(cgroups, p.boot.enabled, guard_prog, guard_cgroup);

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    return report({"create the sync socket", errno, {}, {}}), kFailed;
  }
  UniqueFd sock(pair[0]), child_sock(pair[1]);
  SignalGuard signals;

  // Before the child's guard: on a failure the container ends first, then
  // its moved interfaces come back and the veth goes.
  net::Network network;
  ChildGuard child;
  int pidfd = -1;
  std::fflush(nullptr);
  // The cgroup namespace comes later, from the child, once it is placed.
  bool into_cgroup = false;
  const unsigned long flags = p.clone_flags & ~static_cast<unsigned long>(CLONE_NEWCGROUP);
  pid_t pid;
  if (p.userns.joined) {
    size_t i = user_join(p);
    bool joined = true;
    pid = clone_in_user_namespace(join_fds[i].get(), flags, &pidfd, cgroups.unified_fd(), &into_cgroup, &joined);
    if (pid < 0 && !joined) {
      return report({"join the user namespace " + p.joins[i].path, errno, p.joins[i].key, {}}), kFailed;
    }
  } else {
    pid = clone_child(flags, &pidfd, cgroups.unified_fd(), &into_cgroup);
  }
  if (pid < 0) {
    int err = errno;
    const char* hint = err == EINVAL && (p.clone_flags & CLONE_NEWTIME) ? " (does this kernel have time namespaces?)" : "";
    return report({"create the container's namespaces" + std::string(hint), err, "namespaces", {}}), kFailed;
  }
  if (pid == 0) {
    timeline_mark("c:start");
    sock.reset();
    std::vector<int> fds;
    for (const auto& fd : join_fds) fds.push_back(fd.get());
    child_main(p, child_sock.get(), fds, cgroups.v1_tasks_files(), {guard_prog.get(), guard_cgroup.get()});
  }
  timeline_mark("cloned");
  child.adopt(pid, pidfd);
  child_sock.reset();
  join_fds.clear();
  guard_prog.reset();
  guard_cgroup.reset();

  // The host side, before the child is let go: user namespace maps and the
  // rootfs tree now; cgroups and network will be set up here too.
  // The cgroup2 side came with clone3 (else it is written here); the child
  // joins its v1 cgroups itself, first thing after host_ready.
  if (!into_cgroup && !cgroups.place(pid, /*v2_only=*/true, f)) return report(f), kFailed;
  UniqueFd root_tree;
  if (p.userns.create && !write_id_maps(pid, p.userns, f)) return report(f), kFailed;
  if (p.userns.active() && !prepare_root_tree(p, pid, root_tree, f)) return report(f), kFailed;
  Message go;
  go.step = Step::host_ready;
  if (!send_message(sock.get(), go, root_tree ? root_tree.get() : -1)) {
    return report({"start the container", errno, {}, {}}), kFailed;
  }
  root_tree.reset();

  // The loopback and the network, from here, while the child builds its
  // mounts (lo from the host side: 0.1 ms less on the child's way to exec).
  if (p.loopback_up || p.network.active()) {
    std::string ns = "/proc/" + std::to_string(pid) + "/ns/net";
    UniqueFd netns(open(ns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) return host_side_failed(sock.get(), {"open the container's network namespace", errno, "network.mode", {}});
    if (p.loopback_up) {
      if (int rc = net::set_loopback_up(netns.get()); rc < 0) {
        return host_side_failed(sock.get(), {"bring up the loopback interface", -rc, "network.mode", {}});
      }
    }
    if (p.network.active() && !network.setup(p.network, p.name, std::move(netns), f)) {
      return host_side_failed(sock.get(), f);
    }
  }
  // systemd-machined, once the unit and the network exist, before the payload runs.
  MachineGuard machine;
  if (p.machine != plan::LaunchPlan::Machine::no && !machine.start(p, pid, f)) return host_side_failed(sock.get(), f);
  if (p.host_sets_up_network()) {
    Message ready;
    ready.step = Step::network_ready;
    // A child that failed meanwhile is gone: its report is read below.
    send_message(sock.get(), ready);
  }

  // systemd.notify: ctrun's own state to the service manager, and the
  // container's socket (container mode) once the child hands it over.
  const plan::NotifyPlan& np = p.notify;
  auto tell = [&](const std::string& text) {
    if (np.mode != plan::NotifyPlan::Mode::none && !np.upstream.empty()) systemd::notify_send(np.upstream, text);
  };
  UniqueFd guest;
  systemd::GuestNotify guest_state;
  StateRecord record(p.container_dir);
  std::optional<state::State> recorded;
  ino_t container_mnt = 0;
  if (struct stat st; stat(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), &st) == 0) container_mnt = st.st_ino;
  UniqueFd watchdog;
  if (np.watchdog_usec > 0 && !np.upstream.empty()) {
    watchdog.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    struct itimerspec its {};
    uint64_t half = np.watchdog_usec / 2;
    its.it_value.tv_sec = its.it_interval.tv_sec = static_cast<time_t>(half / 1000000);
    its.it_value.tv_nsec = its.it_interval.tv_nsec = static_cast<long>(half % 1000000) * 1000;
    if (half == 0) its.it_value.tv_nsec = its.it_interval.tv_nsec = 1000;
    timerfd_settime(watchdog.get(), 0, &its, nullptr);
  }
  tell("STATUS=Starting container " + p.name + ".");
  // Empty cgroups of SIGKILLed ctruns, while the child builds: its own
  // driver's without systemd; on cgroup v1 also those that ctrun made beside
  // systemd's scopes (the hierarchies systemd does not manage, which it does
  // not collect). This container's own name is locked: never one of them.
  if (!p.systemd_scope && !p.keep_unit) {
    cgroup::collect_stale(p.cgroup_host, p.cgroups.slice, p.state_dir);
  } else if (!p.cgroups.v2) {
    cgroup::collect_stale(p.cgroup_host, p.scope.slice, p.state_dir);
  }
  // The record, all but the payload's pid, while the child builds the
  // container (the state directory holds nothing before the payload runs:
  // a ctrun killed before then leaves no dead state behind).
  const state::State described = describe(p, pid, cgroups, p.network.host_if);
  const std::string snapshot = p.effective ? manifest::emit_yaml(*p.effective) : std::string();

  // Everything the container has queued on its notify socket, passed on.
  auto read_guest = [&] {
    if (!guest) return;
    while (auto msg = read_guest_message(guest.get(), container_mnt, p.boot.enabled ? pid : 0)) {
      std::string forward = systemd::filter_guest_message(*msg, p.name, guest_state);
      // (Boot mode always listens, for EXIT_STATUS=; it passes READY=1 on
      // only when told to.)
      if (np.mode != plan::NotifyPlan::Mode::container) continue;
      // The container's own STATUS, if it sent one with READY=1, says more than ours.
      if (forward.find("READY=1") != std::string::npos && forward.find("STATUS=") == std::string::npos) {
        forward += "STATUS=Container " + p.name + " ready.\n";
      }
      if (!forward.empty()) tell(forward.substr(0, forward.size() - 1));  // without the last newline
    }
  };

  std::unique_ptr<TerminalRelay> tty;
  UniqueFd timer;
  bool running = false, stopping = false, child_done = false;
  std::optional<int> status;
  std::optional<Message> failure;

  bool master_open = true;  // until the master reads EIO: no slave is open any more
  // One message of the child, in the loop or after it ended.
  auto take = [&](const Message& m, int fd) {
    switch (m.step) {
      case Step::terminal:
        if (!child_done) {
          tty = std::make_unique<TerminalRelay>(UniqueFd(fd), p.interactive, p.boot.enabled);
          if (p.boot.enabled && p.interactive) {
            tty->enable_escape();
            std::fprintf(stderr, "ctrun: %s: press Ctrl-] three times within a second to kill the container.\r\n",
                         p.name.c_str());
          }
        }
        else close(fd);
        return;
      case Step::notify_socket:
        guest.reset(fd);  // read in the loop, and once more at the end
        return;
      case Step::payload_running:
        timeline_mark("running");
        running = true;
        recorded = described;
        note_payload(*recorded, p.boot.enabled);
        record.write(*recorded, snapshot);
        if (np.mode == plan::NotifyPlan::Mode::exec) tell("READY=1\nSTATUS=Container " + p.name + " running.");
        if (np.mode == plan::NotifyPlan::Mode::container) {
          tell("STATUS=Container " + p.name + " started, waiting for its READY=1.");
        }
        break;
      case Step::payload_exited:
        timeline_mark("exited");
        status = m.status;
        record.remove();
        break;
      case Step::failed: failure = m; break;
      case Step::host_ready:
      case Step::network_ready: break;
    }
    if (fd >= 0) close(fd);
  };

  // A stop (SIGTERM/SIGINT to ctrun, systemd's RequestStop): stop.signal to
  // PID 1 and stop.timeout's timer; asked twice, SIGKILL at once.
  auto stop = [&] {
    if (stopping) {
      child.signal(SIGKILL);
      return;
    }
    stopping = true;
    tell("STOPPING=1\nSTATUS=Stopping container " + p.name + ".");
    if (recorded) {
      recorded->status = "stopping";
      record.write(*recorded, snapshot);
    }
    child.signal(p.stop_signal);
    timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    struct itimerspec its {};
    its.it_value.tv_sec = static_cast<time_t>(p.stop_timeout_us / 1000000);
    its.it_value.tv_nsec = static_cast<long>(p.stop_timeout_us % 1000000) * 1000;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
    timerfd_settime(timer.get(), 0, &its, nullptr);
  };

  while (!child_done) {
    struct pollfd all[] = {
        {sock.get(), POLLIN, 0},
        {child.pidfd(), POLLIN, 0},
        {signals.fd(), POLLIN, 0},
        {timer ? timer.get() : -1, POLLIN, 0},
        {tty && tty->stdin_open() ? STDIN_FILENO : -1, POLLIN, 0},
        {tty && master_open ? tty->master() : -1, POLLIN, 0},
        // Heard once the payload runs: it can be quicker with READY=1 than the
        // child with its payload_running, and ctrun's "started" comes first.
        {guest && running ? guest.get() : -1, POLLIN, 0},
        {watchdog ? watchdog.get() : -1, POLLIN, 0},
        {scope.controller().fd(), scope.controller().events(), 0},
    };
    if (poll(all, std::size(all), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (all[5].revents & (POLLIN | POLLHUP | POLLERR)) master_open = tty->pump_master();
    if (all[4].revents & (POLLIN | POLLHUP | POLLERR)) {
      tty->pump_stdin();
      if (tty->escape_pressed() && !child_done) {
        std::fprintf(stderr, "\r\nctrun: %s: killed (Ctrl-] three times)\r\n", p.name.c_str());
        child.signal(SIGKILL);
      }
    }
    if (all[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      Message m;
      int fd = -1;
      if (recv_message(sock.get(), m, &fd)) {
        take(m, fd);
      } else {
        sock.reset();  // the child is gone (its pidfd says how), or, in boot mode, its execve closed the socket
        if (p.boot.enabled && !failure && !running) {
          Message started;
          started.step = Step::payload_running;
          take(started, -1);
        }
      }
    }
    if (all[2].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(signals.fd(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) continue;
        if (sig == SIGWINCH) {
          if (tty) tty->resize();
          continue;
        }
        // (SIGHUP to systemd means "reload": in boot mode ctrun's SIGHUP stops too.)
        if (sig == SIGTERM || sig == SIGINT || (sig == SIGHUP && p.boot.enabled)) {
          stop();
          continue;
        }
        child.signal(sig);
      }
    }
    if (all[3].revents & POLLIN) {
      // stop.timeout is over: SIGKILL to PID 1 ends the whole pid namespace.
      child.signal(SIGKILL);
      timer.reset();
    }
    if (all[6].revents & POLLIN) read_guest();
    if (all[7].revents & POLLIN) {
      uint64_t ticks;
      if (read(watchdog.get(), &ticks, sizeof ticks) == sizeof ticks) tell("WATCHDOG=1");
    }
    // (A second RequestStop does not escalate to SIGKILL: the scope's own
    // stop timeout is systemd's.)
    if (all[8].revents && scope.controller().process() && !stopping) stop();
    if (all[1].revents & POLLIN) child_done = true;
  }

  // The child has ended; a message it sent just before may still be queued.
  if (sock) {
    Message m;
    int fd = -1;
    while (recv_message(sock.get(), m, &fd)) {
      take(m, fd);
      fd = -1;
      struct pollfd pfd {sock.get(), POLLIN, 0};
      if (poll(&pfd, 1, 0) <= 0) break;
    }
  }
  // What the container said last (it may have ended right after), and a
  // socket that arrived with the child's last messages.
  read_guest();
  int child_status = child.reap();
  timeline_mark("reaped");
  network.teardown();
  if (tty) tty->drain();
  tty.reset();  // restores the caller's terminal before we print anything

  // The OOM killer's count, read before the cgroups go.
  uint64_t oom_kills = cgroups.oom_kills();
  cgroups.destroy();
  scope.finish();
  timeline_mark("cleaned");

  if (failure) {
    report(failure_of(*failure));
    return failure->status;
  }
  if (p.boot.enabled && running) {
    int code = boot_exit_code(child_status, guest_state, reboot);
    if (code == 128 + SIGKILL && oom_kills > 0) {
      std::fprintf(stderr, "ctrun: %s: killed by the OOM killer (%s)\n", p.name.c_str(),
                   p.cgroups.oom_hint.empty() ? "memory limit" : p.cgroups.oom_hint.c_str());
    }
    // A reboot asked for by ctrun's stop is a stop.
    if (reboot && stopping) reboot = false;
    return code;
  }
  if (status) {
    int code = exit_code(*status);
    if (code == 128 + SIGKILL && oom_kills > 0) {
      std::fprintf(stderr, "ctrun: %s: killed by the OOM killer (%s)\n", p.name.c_str(),
                   p.cgroups.oom_hint.empty() ? "memory limit" : p.cgroups.oom_hint.c_str());
    }
    return code;
  }
  if (!running) {
    std::string how = WIFSIGNALED(child_status) ? "killed by " + signal_name(WTERMSIG(child_status))
                                                : "exit status " + std::to_string(WEXITSTATUS(child_status));
    report({"set up the container", 0, {}, "its setup process ended unexpectedly (" + how + ")"});
    return kFailed;
  }
  // PID 1 ended without a word: killed (stop.timeout) or the payload with it.
  return exit_code(child_status);
}

}  // namespace

}  // namespace ctrun::launch
