// A smaller program with the same answers. libseccomp's binary tree has a
// comparison per system call and architecture (some 1,500 instructions for
// the default profile on x86_64 with its i386 and x32 numbers), and the
// kernel converts, JITs and checks every one at each container's start:
// about 0.6 ms on the payload's way to execve.
//
// shrink() reads the program instead of the profile, so it cannot disagree
// with libseccomp on what the rules mean: it runs the program symbolically
// over every architecture and syscall number (sets of intervals), and
// wherever the answer does not depend on the arguments it keeps only the
// answer, as ranges of numbers found by binary search. The numbers whose
// answer does depend on the arguments go to the original program itself,
// stripped of what they can never reach. Anything it does not understand
// leaves the program as it was.
#pragma once

#include <optional>

#include "seccomp/compile.h"

namespace ctrun::seccomp {

// The shorter equivalent of `p`, or nothing (keep `p`): a construct shrink
// does not model, no gain, or a result that a check against `p` refuses.
// (`any_length`: also a longer one, for the tests of the layout.)
std::optional<Program> shrink(const Program& p, bool any_length = false);

}  // namespace ctrun::seccomp
