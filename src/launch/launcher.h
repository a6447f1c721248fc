// Runs a launch plan: the whole life of one container, from taking its name
// to its exit status. Needs root (user namespaces come later).
#pragma once

#include "plan/plan.h"

namespace ctrun::launch {

// Returns ctrun's exit status: the payload's, 128+N for signal N, 126/127
// for a command that cannot be executed / is not found, 125 when ctrun
// failed (the reason is printed on stderr).
int launch(const plan::LaunchPlan& plan);

}  // namespace ctrun::launch
