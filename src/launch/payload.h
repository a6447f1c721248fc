// The last steps of a container process, shared by the payload of a launch
// and the command of `ctrun exec`: session and terminal, rlimits, oom
// score, umask, ids, capabilities, no_new_privileges, the seccomp filters
// and execve, in the order the kernel's permission checks need.
#pragma once

#include <functional>
#include <string>

#include "base/failure.h"
#include "launch/ids.h"
#include "plan/plan.h"

namespace ctrun::launch {

// Reports a failure (and ends the process with `status`); never returns.
using FailFn = std::function<void(const Failure&, int status)>;

// Turns this process into e.argv under identity `id`. tty >= 0: the slave
// of a pty, made the controlling terminal of a new session and stdin,
// stdout, stderr. userns: the ids are mapped (their EINVAL is explained so).
[[noreturn]] void become_payload(const plan::ExecPlan& e, const Identity& id, bool userns, int tty, const FailFn& fail);

// Reads a small regular file of the container (after pivot_root or setns,
// so any symlink resolves inside it). O_NONBLOCK: a FIFO planted at
// /etc/passwd must not hang ctrun.
std::string read_small_file(const char* path);

// A digest of the filters a payload loads ("unconfined" without any), so
// that `ctrun exec` can refuse to run under filters other than the
// container's when the profile changed since the start.
std::string seccomp_digest(const plan::SeccompPlan& s);

}  // namespace ctrun::launch
