// The mount guard: a container that holds CAP_SYS_ADMIN (boot mode, or
// capabilities.add) in the host's user namespace can mount a cgroup v1
// hierarchy the host has, the route of CVE-2022-0492 (release_agent). Its
// cgroup namespace already roots such a mount at its own cgroup, and the
// kernel refuses release_agent outside the initial cgroup namespace; the
// guard makes the mount itself fail (EPERM), with no AppArmor or SELinux
// needed: a BPF LSM program on the security_sb_kern_mount hook, which every
// new mount passes (mount(2) and fsconfig(FSCONFIG_CMD_CREATE) alike),
// attached as BPF_LSM_CGROUP to the container's cgroup2 directory above its
// own, so it applies to the container alone and nothing inside can reach it.
// Needs Linux 6.0, the "bpf" LSM active (lsm=; Debian's kernels have it) and
// the kernel's BTF. Where one is missing ctrun warns and runs without it.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctrun::cgroup {

// What the program needs from the running kernel's BTF (/sys/kernel/btf/vmlinux):
// the BTF id of the hook's attach point and where a super_block keeps s_magic.
struct GuardTargets {
  uint32_t hook_id = 0;
  int32_t magic_offset = -1;  // bytes
};

// Finds them in a BTF blob. False with `why` on a malformed blob or one
// that lacks either.
bool find_guard_targets(std::string_view btf, GuardTargets& out, std::string& why);

// The program: 0 (the kernel's EPERM) for a cgroup v1 super block
// (CGROUP_SUPER_MAGIC), 1 (no objection) for every other file system.
std::vector<bpf_insn> mount_guard_program(int32_t magic_offset);

// The active LSMs ("lockdown,capability,landlock,bpf"), read from
// securityfs, through a detached mount of it where it is not mounted.
std::string active_lsms();

// Loads the guard for this kernel; its fd, or -1 with `why` (the reason it
// cannot work here, for a warning).
int load_mount_guard(std::string& why);

// Attaches it to a cgroup2 directory (kept by the cgroup until it is
// removed). 0 or -errno.
int attach_mount_guard(int prog_fd, int cgroup_fd);

}  // namespace ctrun::cgroup
