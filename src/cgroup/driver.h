// The container's cgroups on this host: one directory per hierarchy used
// (v1: memory, pids, devices, freezer and what the limits need; v2: one),
// at <hierarchy root>/<slice>/ctrun-<name>.scope, never relative to the
// caller's own cgroup. Created and limited before the child may run, the
// child placed in them by the parent while it waits, emptied and removed
// at the end, the OOM killer's count read before that.
#pragma once

#include <sys/types.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "base/failure.h"
#include "cgroup/host.h"
#include "cgroup/settings.h"

namespace ctrun::cgroup {

struct Plan {
  bool enabled = false;
  std::string slice;        // machine.slice
  std::string scope;        // ctrun-web.scope
  bool v2 = false;          // the settings are cgroup v2's (unified host)
  std::vector<Setting> settings;
  std::vector<DeviceRule> devices;        // the container's own /dev
  // devices[]: path and access ("rwm", "r", ...); numbers read at launch.
  std::vector<std::pair<std::string, std::string>> extra_devices;
  std::string oom_hint;     // "memory.max 64M", for the OOM line
  // systemd made the scope (and applies the limits as unit properties):
  // ctrun, already in it, makes supervisor/ and payload/ in the delegated
  // scope, moves itself into supervisor/, and leaves the scope to systemd.
  bool systemd_scope = false;
  // Boot mode: the init system manages a tree of its own below payload/.
  // v1: a cgroup in every hierarchy (name=systemd too), so that what PID 1
  // mounts shows only its own subtree; v2: every controller the scope has
  // passed on to payload/.
  bool boot = false;
  // >= 0: payload/ of the cgroup2 tree is delegated to this host uid/gid
  // (the root of a booted guest's user namespace).
  int64_t delegate_uid = -1, delegate_gid = -1;
  // The container holds CAP_SYS_ADMIN in the host's user namespace and the
  // host has cgroup v1 hierarchies it could mount: the mount guard (see
  // mount_guard.h) goes on the cgroup2 directory above payload/.
  bool mount_guard = false;
};

class Cgroups {
 public:
  Cgroups() = default;
  Cgroups(const Cgroups&) = delete;
  Cgroups& operator=(const Cgroups&) = delete;
  ~Cgroups() { destroy(); }


  bool create(const Host& host, const Plan& plan, Failure& f);
  // The cgroup2 directory (on a unified or hybrid host), opened for
  // clone3's CLONE_INTO_CGROUP, which needs no migration at all; -1 if none.
  int unified_fd();
  // The cgroup2 directory above payload/ (the scope, or the unit's cgroup),
  // opened; -1 if there is none (a cgroup v1 host without cgroup2).
  int unified_limits_fd() const;
  // Moves pid into the cgroup2 directory (v2_only) or into every one.
  // Writing a pid to cgroup.procs takes the kernel's global threadgroup
  // lock, whose first writer waits for an RCU grace period (10-20 ms here);
  // so the container's v1 cgroups are joined by the child itself instead.
  bool place(pid_t pid, bool v2_only, Failure& f);
  // The v1 `tasks` files that the child joins by writing "0": moving the
  // writer's own (only) thread skips that lock.
  std::vector<std::string> v1_tasks_files() const;
  // How many processes the memory limit's OOM killer has ended.
  uint64_t oom_kills() const;
  // Kills what is left, waits for it, removes the directories (and the
  // slice when ctrun owns the tree and it is empty).
  void destroy();
  bool empty() const { return dirs_.empty(); }
  // Paths, for tests and the plan printout.
  std::vector<std::string> paths() const;
  // Each directory: {limits' path, payload path, v1 controller or ""}.
  std::vector<std::array<std::string, 3>> layout() const;

 private:
  // The limits sit on the scope; the container runs in scope/payload, which
  // its cgroup namespace makes its root: whatever it mounts and whatever
  // capabilities it has, the limits are above what it can reach.
  struct Dir {
    std::string path;        // <root>/<slice>/<scope>: the limits
    std::string controller;  // v1 hierarchy name, or "" for cgroup2
    std::string slice;       // its slice directory
    std::string payload;     // path + "/payload": the container's processes
    bool owned = true;       // ctrun made path (else systemd did, and removes it)
    std::vector<std::string> parents;  // made by ctrun too, removed when empty (deepest first)
  };
  bool make_payloads(const std::vector<std::string>& v2_enable, Failure& f);
  bool adopt_scope(const Host& host, Failure& f);
  bool adopt_unit_v1(const Host& host, const std::vector<std::string>& want, Failure& f);
  bool delegated_ = false;
  bool make_dir(const std::string& root, const std::string& controller, const Plan& plan, Failure& f);
  bool replicate(const std::string& root, const std::string& controller, const std::string& unit, Failure& f);
  std::vector<Dir> dirs_;
  bool own_slices_ = false;
  int unified_fd_ = -1;
};

// Each hierarchy's cgroup of this process, as /proc/self/cgroup says:
// "memory" -> "/machine.slice/ctrun-web.scope", "name=systemd" -> ...,
// "" -> the cgroup2 one.
std::map<std::string, std::string> own_cgroups(const std::string& proc_self_cgroup);

// Removes empty cgroups of containers that no ctrun runs any more (a
// SIGKILLed ctrun leaves them): <root>/<slice>/ctrun-NAME.scope (and its
// payload) whose name lock in state_dir is free.
void collect_stale(const Host& host, const std::string& slice, const std::string& state_dir);

// Removes dir and the cgroups below it, deepest first; only empty cgroups
// go (rmdir refuses the others). True when dir is gone.
bool remove_tree(const std::string& dir);

}  // namespace ctrun::cgroup
