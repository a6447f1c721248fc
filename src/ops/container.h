// What the verbs on running containers share (ops.cc, exec.cc): finding a
// container by name and proving that its recorded processes and cgroups
// are still the ones it runs as, and its cgroup2 freezer.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/fd.h"
#include "state/state.h"

namespace ctrun::ops {

// Prints "ctrun: TEXT" and returns 125.
int fail(const std::string& text);

int pidfd_open(pid_t pid);
bool pidfd_signal(int fd, int sig);

enum class Found { absent, dead, creating, running };

struct Container {
  Found found = Found::absent;
  state::State s;
  UniqueFd supervisor, main, init;  // pidfds, once proven
};

// Opens a pidfd for a recorded process and proves it is that process: its
// start time is checked after the pidfd exists, so the pid cannot be
// reused in between.
bool prove(const state::Proc& p, UniqueFd& out);

// Finds NAME; error is set when its state does not match its processes
// (then nothing may be done to them).
Container find(const std::string& dir, const std::string& name, std::string& error);

// Root, NAME running and proven: 0 with `out` filled. Else the message is
// printed and the verb's exit status returned: 1 when it is not running,
// 125 (ctrun will not `verb` it) when its state does not match.
int find_running(const std::string& dir, const std::string& name, const char* verb, Container& out);

// Where the container is frozen: its cgroup2 payload (cgroup.freeze; on
// hybrid hosts too), else its v1 freezer cgroup (legacy hosts); dir is
// empty when it has neither.
struct Freezer {
  std::string dir;
  bool v1 = false;
};
Freezer freezer_of(const state::State& s);
bool is_frozen(const state::State& s);
// Freezes or thaws and waits (10 s at most) for the kernel to say so:
// cgroup.events (cgroup2), freezer.state (v1).
bool set_frozen(const Freezer& f, bool frozen, std::string& error);
// Prints the refusal for a caller that is not root.
bool must_be_root();
// Waits until pidfd's process has exited, timeout_ms at most.
bool wait_exit(int pidfd, int timeout_ms);

}  // namespace ctrun::ops
