// The container side of a launch (see child.cc for its story).
#pragma once

#include <vector>

#include "base/failure.h"
#include "plan/plan.h"
#include "sys/kernel.h"

namespace ctrun::launch {

// The steps that build the container, in order: join namespaces, build and
// pivot into the root, set the host name (lo comes up from the parent's
// side). Runs in the child; separate so that its order is tested against a
// fake kernel.
bool setup_container(const plan::LaunchPlan& plan, const std::vector<int>& join_fds, int root_tree, sys::Kernel& k,
                     Failure& f);

// The mount guard (cgroup/mount_guard.h) as the parent loaded it: the child
// attaches the program to the cgroup2 directory above its own once it has
// made its own mounts (boot mode mounts cgroup v1 hierarchies for the
// guest). -1: no guard.
struct GuardFds {
  int prog = -1;
  int cgroup = -1;
};

// The child after clone: waits for the parent, sets the container up, starts
// the payload and stays as its init. Never returns.
// cgroup_tasks: the v1 `tasks` files the child joins itself (see
// cgroup/driver.h), before anything else.
[[noreturn]] void child_main(const plan::LaunchPlan& plan, int sock, const std::vector<int>& join_fds,
                             const std::vector<std::string>& cgroup_tasks, GuardFds guard);

}  // namespace ctrun::launch
