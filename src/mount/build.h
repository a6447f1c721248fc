// The container's file system tree, built from the plan's root and mount
// steps. Runs in the child: new mount namespace, real root, before pivot_root.
#pragma once

#include "base/failure.h"
#include "plan/plan.h"
#include "sys/kernel.h"

namespace ctrun::mount {

// Makes / a slave, assembles the root at plan.state_dir, applies every mount
// step in order and pivots into the new root. On failure fills `f`.
// `root_tree`, if not -1, is a detached mount of the rootfs directory that
// the parent prepared (idmapped for a user namespace): used instead of
// cloning rootfs.path, as the root itself or as the ephemeral root's lower
// layer. build_root takes it over.
bool build_root(const plan::LaunchPlan& plan, sys::Kernel& k, Failure& f, int root_tree = -1);

}  // namespace ctrun::mount
