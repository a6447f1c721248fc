// Turns a profile into BPF in the parent, so that a bad profile is a 125
// before anything exists and the child only has to load ready programs. The
// profile's rules are chosen for the container (includes/excludes against
// its bounding set, the host's architecture and kernel), the manifest's
// allow/deny override it for the syscalls they name, and libseccomp builds a
// binary tree (SCMP_FLTATR_CTL_OPTIMIZE 2).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/diagnostic.h"
#include "caps/sets.h"
#include "seccomp/profile.h"

namespace ctrun::seccomp {

struct Context {
  caps::CapSet caps = 0;            // the container's bounding set
  std::string kernel_release;       // uname -r, for minKernel
  std::vector<std::string> allow;   // seccomp.allow: always allowed
  std::vector<std::string> deny;    // seccomp.deny: always EPERM
  SourceLoc where;                  // the manifest's seccomp.profile, for errors
  bool shrink = true;               // libseccomp's programs made shorter (seccomp/shrink.h)
};

using Program = std::vector<sock_filter>;

struct Compiled {
  // Loaded in this order; the kernel runs every filter and the most
  // restrictive answer wins. One program when the TIOCSTI rule could be
  // folded into the profile's (checked by running it); else the profile's
  // and the hardening filter, which holds whatever the profile allows.
  std::vector<Program> filters;
  unsigned flags = 0;        // SECCOMP_FILTER_FLAG_* for seccomp(2)
  size_t rules = 0;          // profile rules that apply here
  size_t syscalls = 0;       // syscall names given a rule
  size_t unknown_names = 0;  // names libseccomp does not know (skipped)
  std::vector<std::string> arches;
};

bool compile(const Profile& p, const Context& ctx, Compiled& out, Diagnostics& diags);

// ctrun's own filter under every profile: ioctl TIOCSTI and TIOCLINUX fail
// with EPERM, compared on the low 32 bits of the command (the kernel's
// `unsigned int cmd`) so that high bits cannot slip past it.
bool hardening_filter(Program& out, std::string& error);

// Whether `kernel` (uname -r) is at least `min` ("4.8").
bool kernel_at_least(const std::string& kernel, const std::string& min);

}  // namespace ctrun::seccomp
