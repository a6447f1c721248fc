// The container's file system tree, built from the plan's root and mount
// steps. Runs in the child: new mount namespace, real root, before pivot_root.
#pragma once

#include "base/failure.h"
#include "plan/plan.h"
#include "sys/kernel.h"

namespace ctrun::mount {

// Makes / a slave, assembles the root at plan.state_dir, applies every mount
// step in order and pivots into the new root. On failure fills `f`.
bool build_root(const plan::LaunchPlan& plan, sys::Kernel& k, Failure& f);

}  // namespace ctrun::mount
