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

// For the tests and the fuzzer: a result also when it is not shorter (the
// layout's long jumps), and without the final check against `p` (so that
// they see what the check would have caught).
struct ShrinkOptions {
  bool any_length = false;
  bool check = true;
};

// The shorter equivalent of `p`, or nothing (keep `p`): a construct shrink
// does not model, no gain, or a result that a check against `p` refuses.
std::optional<Program> shrink(const Program& p, const ShrinkOptions& options = {});

}  // namespace ctrun::seccomp
