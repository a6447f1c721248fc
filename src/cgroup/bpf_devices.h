// The device allowlist on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
// that allows exactly the rules' devices and access, attached (without
// BPF_F_ALLOW_OVERRIDE, so nothing below can replace it) to the
// container's cgroup.
#pragma once

#include <linux/bpf.h>

#include <optional>
#include <string>
#include <vector>

#include "cgroup/settings.h"

namespace ctrun::cgroup {

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// What the program answers (1 allow, 0 deny) for one access, run by a small
// interpreter of the instructions device_program emits; nothing if it
// emitted something else. For tests and for checking before loading.
std::optional<int> run_device_program(const std::vector<bpf_insn>& prog, char type, unsigned major, unsigned minor,
                                      const std::string& access);

// Loads and attaches; returns 0 or -errno, with the verifier's log in `log`.
int attach_device_program(int cgroup_fd, const std::vector<bpf_insn>& prog, std::string& log);

}  // namespace ctrun::cgroup
