// The payload's privileges, in the container: the capability bounding set,
// the five capability sets, and the seccomp filters. Each step returns a
// Failure naming the key that asked for it.
#pragma once

#include "base/failure.h"
#include "caps/sets.h"
#include "seccomp/compile.h"

namespace ctrun::launch {

// Removes every capability outside `keep` from the bounding set of this
// process and all it will start (the stub init and the payload).
bool drop_bounding(caps::CapSet keep, Failure& f);

// Before setuid to a user other than root: keep the permitted set across
// the switch when the user is to get capabilities.add as ambient.
bool keep_caps_across_setuid(bool root, const caps::Grant& g, Failure& f);

// After the ids are set: uid 0 gets permitted = effective = bounding; any
// other user gets g.ambient as permitted, effective, inheritable and
// ambient. Inheritable and ambient are otherwise empty (CVE-2022-29162).
bool set_capabilities(bool root, const caps::Grant& g, Failure& f);

// Loads the compiled filters, the first one first.
bool load_seccomp(const seccomp::Compiled& c, Failure& f);

}  // namespace ctrun::launch
