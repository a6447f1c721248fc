// Runs a classic-BPF seccomp program on one system call, as the kernel
// would. ctrun checks its own compiled output with it (the TIOCSTI rule
// folded into a profile), and the unit tests check whole profiles.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "seccomp/compile.h"

namespace ctrun::seccomp {

// The program's answer (SECCOMP_RET_*), or nothing when the program does
// something seccomp would not accept (an unknown instruction, a load
// outside struct seccomp_data, running off its end).
std::optional<uint32_t> run_bpf(const Program& prog, const seccomp_data& d);

// What the kernel decides with every filter loaded: each one runs and the
// most restrictive answer wins. Nothing if any program is malformed.
std::optional<uint32_t> decide(const std::vector<Program>& filters, uint32_t arch, int nr,
                               std::initializer_list<uint64_t> args = {});

}  // namespace ctrun::seccomp
