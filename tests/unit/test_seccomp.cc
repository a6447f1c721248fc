// seccomp profiles: the parser and its errors, and what the compiled
// programs decide, run through a classic-BPF interpreter as the kernel
// would run them (every filter, the most restrictive answer wins). Also the
// capability sets of the plan. No root needed.
#include <doctest/doctest.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "plan/plan.h"
#include "reader_helpers.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/compile.h"
#include "seccomp/profile.h"
#include "seccomp/shrink.h"

using namespace ctrun;

namespace {

constexpr uint32_t kX32Bit = 0x40000000;

uint32_t decide(const seccomp::Compiled& c, uint32_t arch, uint32_t nr, std::initializer_list<uint64_t> args = {}) {
  auto r = seccomp::decide(c.filters, arch, static_cast<int>(nr), args);
  REQUIRE_MESSAGE(r.has_value(), "a compiled program is malformed");
  return *r;
}

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;

seccomp::Compiled compile_text(const std::string& text, caps::CapSet caps, std::vector<std::string> allow = {},
                               std::vector<std::string> deny = {}, std::string kernel = "6.1.0") {
  seccomp::Profile p;
  Diagnostics d;
  bool parsed = seccomp::parse_profile(text, "p.json", p, d);
  std::string errors;
  for (const auto& item : d.items()) errors += render(item) + "\n";
  REQUIRE_MESSAGE(parsed, errors);
  seccomp::Compiled c;
  seccomp::Context ctx{caps, kernel, allow, deny, {}};
  bool ok = seccomp::compile(p, ctx, c, d);
  for (const auto& item : d.items()) errors += render(item) + "\n";
  REQUIRE_MESSAGE(ok, errors);
  return c;
}

seccomp::Compiled compile_default(caps::CapSet caps, std::vector<std::string> allow = {},
                                  std::vector<std::string> deny = {}) {
  return compile_text(std::string(seccomp::default_profile_text()), caps, allow, deny);
}

std::string parse_errors(const std::string& text) {
  seccomp::Profile p;
  Diagnostics d;
  seccomp::parse_profile(text, "p.json", p, d);
  std::string errors;
  for (const auto& item : d.items()) errors += render(item) + "\n";
  return errors;
}

int nr_of(const char* name, uint32_t arch) { return seccomp_syscall_resolve_name_arch(arch, name); }

}  // namespace

TEST_CASE("default profile: every name is a system call libseccomp knows on some architecture it covers") {
  seccomp::Profile p;
  Diagnostics d;
  REQUIRE(seccomp::parse_profile(seccomp::default_profile_text(), "default", p, d));
  CHECK(p.default_action.kind == seccomp::Action::Kind::errno_ret);
  CHECK(p.default_action.ret == ENOSYS);
  for (const auto& r : p.rules) {
    for (const auto& n : r.names) {
      bool known = false;
      for (uint32_t arch : {uint32_t{SCMP_ARCH_X86_64}, uint32_t{SCMP_ARCH_X86}, uint32_t{SCMP_ARCH_X32}, uint32_t{SCMP_ARCH_AARCH64}, uint32_t{SCMP_ARCH_ARM}}) {
        known = known || seccomp_syscall_resolve_name_arch(arch, n.c_str()) != __NR_SCMP_ERROR;
      }
      CHECK_MESSAGE(known, n);
    }
  }
  auto c = compile_default(caps::app_default());
  CHECK(c.unknown_names == 0);
  // The TIOCSTI rule is folded into the profile's own filter.
  CHECK(c.filters.size() == 1);
}

TEST_CASE("TIOCSTI is refused whatever the profile says of ioctl") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;
  const uint32_t a = AUDIT_ARCH_X86_64;
  // Only some commands allowed: a separate filter does it.
  auto some = compile_text(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21522, "op": "SCMP_CMP_GT"}]}]})", 0);
  CHECK(some.filters.size() == 2);
  CHECK(decide(some, a, SYS_ioctl, {0, TIOCSTI}) == kEperm);
  CHECK(decide(some, a, SYS_ioctl, {0, TIOCLINUX}) == kEperm);
  CHECK(decide(some, a, SYS_ioctl, {0, TIOCGWINSZ}) == kAllow);
  CHECK(decide(some, a, SYS_ioctl, {0, TCGETS}) == kEperm);  // the profile's default
  // A blocklist (default allow) without an ioctl rule: folded.
  auto block = compile_text(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]})", 0);
  CHECK(block.filters.size() == 1);
  CHECK(decide(block, a, SYS_ioctl, {0, (1ULL << 32) | TIOCSTI}) == kEperm);
  CHECK(decide(block, a, SYS_ioctl, {0, TCGETS}) == kAllow);
  CHECK(decide(block, a, SYS_keyctl) == kEperm);
  // ioctl allowed by seccomp.allow: folded too, and still no TIOCSTI.
  auto allowed = compile_text(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": []})", 0,
                              {"ioctl"});
  CHECK(allowed.filters.size() == 1);
  CHECK(decide(allowed, a, SYS_ioctl, {0, TIOCSTI}) == kEperm);
  CHECK(decide(allowed, a, SYS_ioctl, {0, TCGETS}) == kAllow);
  // With EPERM as the default action (Docker's), libseccomp takes no EPERM
  // rule, so the refusal stays a filter of its own.
  auto eperm_default = compile_text(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW"}]})", 0);
  CHECK(eperm_default.filters.size() == 2);
  CHECK(decide(eperm_default, a, SYS_ioctl, {0, (1ULL << 32) | TIOCSTI}) == kEperm);
  CHECK(decide(eperm_default, a, SYS_ioctl, {0, TCGETS}) == kAllow);
  // Denied outright: EPERM for every command.
  auto denied = compile_default(caps::app_default(), {}, {"ioctl"});
  CHECK(decide(denied, a, SYS_ioctl, {0, TCGETS}) == kEperm);
  CHECK(decide(denied, a, SYS_ioctl, {0, TIOCSTI}) == kEperm);
}

TEST_CASE("default profile on x86_64: allowlist, EPERM for the dangerous, ENOSYS for the unknown") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;  // the numbers below are x86_64's
  const uint32_t arch = AUDIT_ARCH_X86_64;
  auto c = compile_default(caps::app_default());
  for (const char* ok : {"read", "write", "getpid", "execve", "futex", "openat", "mmap", "ptrace", "ioctl",
                         "socket", "prlimit64", "landlock_create_ruleset", "seccomp", "chroot"}) {
    CHECK_MESSAGE(decide(c, arch, nr_of(ok, SCMP_ARCH_X86_64)) == kAllow, ok);
  }
  for (const char* bad : {"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load",
                          "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
                          "swapon", "swapoff", "userfaultfd", "io_uring_setup", "io_uring_enter",
                          "io_uring_register", "lookup_dcookie", "mount", "umount2", "pivot_root", "unshare",
                          "setns", "fsopen", "open_tree", "move_mount", "sethostname", "reboot", "syslog",
                          "settimeofday", "clock_settime", "iopl", "ioperm", "acct", "kcmp", "vhangup", "_sysctl",
                          "uselib", "nfsservctl", "quotactl", "mbind", "fanotify_init"}) {
    CHECK_MESSAGE(decide(c, arch, nr_of(bad, SCMP_ARCH_X86_64)) == kEperm, bad);
  }
  // Unknown numbers and clone3 say ENOSYS: glibc then falls back to clone.
  CHECK(decide(c, arch, 1000) == kEnosys);
  CHECK(decide(c, arch, 462) == kEnosys);  // mseal, newer than this profile
  CHECK(decide(c, arch, SYS_clone3) == kEnosys);
  // clone: threads and forks yes, new namespaces EPERM.
  CHECK(decide(c, arch, SYS_clone, {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD}) == kAllow);
  CHECK(decide(c, arch, SYS_clone, {SIGCHLD}) == kAllow);
  for (uint64_t ns : {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP}) {
    CHECK(decide(c, arch, SYS_clone, {ns | SIGCHLD}) == kEperm);
  }
  // personality: only the listed personas.
  CHECK(decide(c, arch, SYS_personality, {0xffffffff}) == kAllow);
  CHECK(decide(c, arch, SYS_personality, {0x0400000}) == kEnosys);  // READ_IMPLIES_EXEC
  // TIOCSTI and TIOCLINUX, also with bits above 32 set.
  CHECK(decide(c, arch, SYS_ioctl, {0, TIOCSTI}) == kEperm);
  CHECK(decide(c, arch, SYS_ioctl, {0, TIOCLINUX}) == kEperm);
  CHECK(decide(c, arch, SYS_ioctl, {0, (1ULL << 32) | TIOCSTI}) == kEperm);
  CHECK(decide(c, arch, SYS_ioctl, {0, TCGETS}) == kAllow);
  CHECK(decide(c, arch, SYS_ioctl, {0, TIOCGWINSZ}) == kAllow);
}

TEST_CASE("default profile: i386 and x32 system calls are filtered the same way") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;
  auto c = compile_default(caps::app_default());
  // i386: its own numbers under AUDIT_ARCH_I386.
  CHECK(decide(c, AUDIT_ARCH_I386, nr_of("getpid", SCMP_ARCH_X86)) == kAllow);
  CHECK(decide(c, AUDIT_ARCH_I386, nr_of("keyctl", SCMP_ARCH_X86)) == kEperm);
  CHECK(decide(c, AUDIT_ARCH_I386, nr_of("mount", SCMP_ARCH_X86)) == kEperm);
  CHECK(decide(c, AUDIT_ARCH_I386, nr_of("ioctl", SCMP_ARCH_X86), {0, TIOCSTI}) == kEperm);
  CHECK(decide(c, AUDIT_ARCH_I386, 1000) == kEnosys);
  // x32: x86_64's arch value, numbers with bit 30 set.
  CHECK(decide(c, AUDIT_ARCH_X86_64, nr_of("getpid", SCMP_ARCH_X32)) == kAllow);
  CHECK(decide(c, AUDIT_ARCH_X86_64, nr_of("keyctl", SCMP_ARCH_X32)) == kEperm);
  CHECK(decide(c, AUDIT_ARCH_X86_64, nr_of("ioctl", SCMP_ARCH_X32), {0, TIOCSTI}) == kEperm);
  CHECK((nr_of("keyctl", SCMP_ARCH_X32) & kX32Bit) != 0);
}

TEST_CASE("a profile without x32 or i386 refuses them instead of allowing them") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;
  auto c = compile_text(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["getpid", "keyctl"], "action": "SCMP_ACT_ALLOW"}]})", caps::app_default());
  CHECK(decide(c, AUDIT_ARCH_X86_64, SYS_getpid) == kAllow);
  CHECK(decide(c, AUDIT_ARCH_X86_64, SYS_getpid | kX32Bit) != kAllow);
  CHECK((decide(c, AUDIT_ARCH_I386, 20) & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_THREAD);
}

TEST_CASE("default profile: CAP_SYS_ADMIN and other capabilities open what they cover") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;
  const uint32_t arch = AUDIT_ARCH_X86_64;
  auto c = compile_default(caps::app_default() | caps::bit(CAP_SYS_ADMIN) | caps::bit(CAP_SYS_TIME) |
                           caps::bit(CAP_BPF));
  for (const char* ok : {"mount", "umount2", "pivot_root", "unshare", "setns", "sethostname", "clone3",
                         "settimeofday", "bpf"}) {
    CHECK_MESSAGE(decide(c, arch, nr_of(ok, SCMP_ARCH_X86_64)) == kAllow, ok);
  }
  CHECK(decide(c, arch, SYS_clone, {CLONE_NEWNET | SIGCHLD}) == kAllow);
  // Never opened by a capability: the keyring, kexec, io_uring.
  for (const char* bad : {"keyctl", "kexec_load", "io_uring_setup", "perf_event_open", "init_module"}) {
    CHECK_MESSAGE(decide(c, arch, nr_of(bad, SCMP_ARCH_X86_64)) == kEperm, bad);
  }
  // Dropping CHROOT closes chroot.
  auto no_chroot = compile_default(caps::app_default() & ~caps::bit(CAP_SYS_CHROOT));
  CHECK(decide(no_chroot, arch, SYS_chroot) == kEperm);
}

TEST_CASE("seccomp.allow and seccomp.deny override the profile for the calls they name") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;
  auto c = compile_default(caps::app_default(), {"keyctl", "personality"}, {"getpid", "clone"});
  CHECK(decide(c, AUDIT_ARCH_X86_64, SYS_keyctl) == kAllow);
  CHECK(decide(c, AUDIT_ARCH_X86_64, SYS_personality, {0x0400000}) == kAllow);
  CHECK(decide(c, AUDIT_ARCH_X86_64, SYS_getpid) == kEperm);
  CHECK(decide(c, AUDIT_ARCH_X86_64, SYS_clone, {SIGCHLD}) == kEperm);
  CHECK(decide(c, AUDIT_ARCH_I386, nr_of("getpid", SCMP_ARCH_X86)) == kEperm);
}

TEST_CASE("profile conditions: caps, arches, minKernel; Docker's arg grouping") {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return;
  const std::string text = R"({
	"defaultAction": "SCMP_ACT_ERRNO",
	"defaultErrnoRet": 38,
	"syscalls": [
		{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_NET_ADMIN"]}},
		{"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_NET_ADMIN"]}},
		{"names": ["gettid"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
		{"names": ["getuid"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
		{"names": ["getgid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.0"}},
		{"name": "getegid", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
		{"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
			{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]},
		{"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [
			{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}
	]
})";
  auto plain = compile_text(text, 0, {}, {}, "5.10.0");
  const uint32_t a = AUDIT_ARCH_X86_64;
  CHECK(decide(plain, a, SYS_getpid) == kEnosys);
  CHECK(decide(plain, a, SYS_getppid) == kAllow);
  CHECK(decide(plain, a, SYS_gettid) == kAllow);
  CHECK(decide(plain, a, SYS_getuid) == kEnosys);
  CHECK(decide(plain, a, SYS_getgid) == kEnosys);  // kernel 5.10 < 6.0
  CHECK(decide(plain, a, SYS_getegid) == (SECCOMP_RET_ERRNO | EACCES));
  // Same argument twice: either value (OR).
  CHECK(decide(plain, a, SYS_kill, {1, 0}) == kAllow);
  CHECK(decide(plain, a, SYS_kill, {1, 15}) == kAllow);
  CHECK(decide(plain, a, SYS_kill, {1, 9}) == kEnosys);
  // Different arguments: both must hold (AND).
  CHECK(decide(plain, a, SYS_dup3, {1, 2, 0}) == kAllow);
  CHECK(decide(plain, a, SYS_dup3, {1, 3, 0}) == kEnosys);
  auto with_cap = compile_text(text, caps::bit(CAP_NET_ADMIN), {}, {}, "6.1.0");
  CHECK(decide(with_cap, a, SYS_getpid) == kAllow);
  CHECK(decide(with_cap, a, SYS_getppid) == kEnosys);
  CHECK(decide(with_cap, a, SYS_getgid) == kAllow);
}

TEST_CASE("profile errors name file:line:column and the key") {
  CHECK(parse_errors(R"({"defaultAction": "SCMP_ACT_NOPE"})") ==
        "p.json:1:19: defaultAction: unknown action \"SCMP_ACT_NOPE\" (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, "
        "SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)\n");
  CHECK(parse_errors("{\n  \"syscalls\": []\n}") == "p.json:1:1: defaultAction: is missing\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [{\"names\": [\"read\"], \"action\": "
                     "\"SCMP_ACT_NOTIFY\"}]}") ==
        "p.json:2:45: syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp listener, which ctrun does not run\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
                     "\"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}") ==
        "p.json:1:50: syscalls[0].errnoRet: is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscals\": []}") ==
        "p.json:1:37: syscals: unknown key (defaultAction, defaultErrnoRet, architectures, archMap, flags, syscalls)\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
                     "\"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 7, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}") ==
        "p.json:1:117: syscalls[0].args[0].index: must be a number from 0 to 5\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
                     "\"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_LIKE\"}]}]}") ==
        "p.json:1:138: syscalls[0].args[0].op: unknown operator \"SCMP_CMP_LIKE\" (SCMP_CMP_EQ, SCMP_CMP_NE, "
        "SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ)\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}") ==
        "p.json:1:50: syscalls[0].names: is missing or empty\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}") ==
        "p.json:1:47: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\" (SECCOMP_FILTER_FLAG_LOG, "
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_TSYNC)\n");
  CHECK(parse_errors("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"listenerPath\": \"/run/x.sock\"}") ==
        "p.json:1:37: listenerPath: needs a seccomp listener, which ctrun does not run\n");
  // Not JSON at all: the YAML front end's own message, with a position.
  CHECK(parse_errors("{\"defaultAction\": ").find("p.json:1:") == 0);
}

TEST_CASE("unknown syscall names in a profile are skipped and counted, as runc and crun do") {
  auto c = compile_text(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["getpid", "no_such_call_2099"], "action": "SCMP_ACT_ALLOW"}]})", 0);
  CHECK(c.unknown_names == 1);
  CHECK(c.syscalls == 1);
}

TEST_CASE("kernel versions compare numerically") {
  CHECK(seccomp::kernel_at_least("6.18.44-fc-v657", "4.8"));
  CHECK(seccomp::kernel_at_least("4.8.0", "4.8"));
  CHECK_FALSE(seccomp::kernel_at_least("4.7.10", "4.8"));
  CHECK_FALSE(seccomp::kernel_at_least("4.10", "4.11"));
  CHECK(seccomp::kernel_at_least("5.10", "4.11"));
}

// The capability sets of the plan.
namespace {

ctrun::testing::Planned plan_with(const std::string& extra, caps::CapSet host_bounding = ~caps::CapSet{0}) {
  plan::HostFacts host;
  host.bounding = host_bounding;
  return ctrun::testing::plan_text(ctrun::testing::web(extra), host);
}

}  // namespace

TEST_CASE("capabilities: Docker's 14 by default, add and drop, ambient only what add names") {
  auto d = plan_with("");
  REQUIRE(d.ok);
  CHECK(d.plan.exec.caps.bounding == 0xa80425fbULL);
  CHECK(d.plan.exec.caps.ambient == 0);
  CHECK(caps::format(d.plan.exec.caps.bounding) ==
        "CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD "
        "AUDIT_WRITE SETFCAP");
  auto ad = plan_with("capabilities: {add: [CAP_NET_ADMIN, sys_ptrace], drop: [MKNOD, CAP_NET_RAW]}\n");
  REQUIRE(ad.ok);
  CHECK(ad.plan.exec.caps.bounding ==
        ((0xa80425fbULL | caps::bit(CAP_NET_ADMIN) | caps::bit(CAP_SYS_PTRACE)) & ~(caps::bit(CAP_MKNOD) | caps::bit(CAP_NET_RAW))));
  CHECK(ad.plan.exec.caps.ambient == (caps::bit(CAP_NET_ADMIN) | caps::bit(CAP_SYS_PTRACE)));
  // The forbidden ones only when asked for.
  for (int cap : {CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYSLOG, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE, CAP_BPF,
                  CAP_PERFMON, CAP_SYS_ADMIN}) {
    CHECK_FALSE(caps::has(d.plan.exec.caps.bounding, cap));
    if (cap != CAP_SYS_ADMIN) CHECK_FALSE(caps::has(caps::boot_default(), cap));
  }
  CHECK(caps::has(caps::boot_default(), CAP_SYS_ADMIN));
  CHECK(caps::has(caps::boot_default(), CAP_SYS_BOOT));
}

TEST_CASE("capabilities: ctrun cannot give what it does not hold") {
  caps::CapSet host = ~caps::bit(CAP_SYS_RESOURCE) & ~caps::bit(CAP_NET_RAW);
  auto p = plan_with("capabilities:\n  add: [CAP_SYS_RESOURCE]\n", host);
  CHECK_FALSE(p.ok);
  CHECK(p.errors == "t.yaml:7:9: capabilities.add[0]: CAP_SYS_RESOURCE is not in ctrun's own bounding set on this "
                    "host, so no container can have it\n");
  // A default the host lacks is left out quietly, as nspawn does.
  auto d = plan_with("", host);
  REQUIRE(d.ok);
  CHECK_FALSE(caps::has(d.plan.exec.caps.bounding, CAP_NET_RAW));
}

TEST_CASE("the plan prints capabilities and seccomp") {
  auto p = plan_with("seccomp: {profile: unconfined}\n");
  REQUIRE(p.ok);
  std::string text = plan::format_plan(p.plan);
  CHECK(text.find("capabilities: {bounding: [CHOWN DAC_OVERRIDE") != std::string::npos);
  CHECK(text.find("ambient_if_not_root: []}") != std::string::npos);
  CHECK(text.find("seccomp: unconfined") != std::string::npos);
}

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "seccomp/cache.h"

TEST_CASE("the filter cache returns exactly what was stored, and only for the same key") {
  std::string dir = std::filesystem::temp_directory_path() / ("ctrun-cache-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  REQUIRE(mkdir(dir.c_str(), 0700) == 0);
  seccomp::Cache cache(dir);
  seccomp::Context ctx{caps::app_default(), "6.1.0", {}, {}, {}};
  std::string text(seccomp::default_profile_text());
  auto c = compile_default(caps::app_default());
  std::string key = seccomp::cache_key(text, ctx);
  seccomp::Compiled got;
  CHECK_FALSE(cache.load(key, got));
  cache.store(key, c);
  REQUIRE(cache.load(key, got));
  REQUIRE(got.filters.size() == c.filters.size());
  for (size_t i = 0; i < c.filters.size(); ++i) {
    CHECK(std::memcmp(got.filters[i].data(), c.filters[i].data(), c.filters[i].size() * sizeof(sock_filter)) == 0);
  }
  CHECK(got.rules == c.rules);
  CHECK(got.arches == c.arches);
  // Any difference in the key material is a miss: caps, kernel, allow, text.
  seccomp::Context other = ctx;
  other.caps |= caps::bit(CAP_SYS_ADMIN);
  CHECK_FALSE(cache.load(seccomp::cache_key(text, other), got));
  other = ctx;
  other.kernel_release = "6.2.0";
  CHECK_FALSE(cache.load(seccomp::cache_key(text, other), got));
  other = ctx;
  other.allow = {"keyctl"};
  CHECK_FALSE(cache.load(seccomp::cache_key(text, other), got));
  CHECK_FALSE(cache.load(seccomp::cache_key(text + " ", ctx), got));
  // A cache directory others can write is not trusted.
  REQUIRE(chmod((dir + "/@seccomp").c_str(), 0777) == 0);
  CHECK_FALSE(cache.load(key, got));
  std::filesystem::remove_all(dir);
}

// ---- shrink: libseccomp's program made shorter, every answer kept ----

namespace {

seccomp::Program export_program(scmp_filter_ctx ctx) {
  int fd = memfd_create("bpf", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(seccomp_export_bpf(ctx, fd) == 0);
  off_t size = lseek(fd, 0, SEEK_END);
  seccomp::Program p(static_cast<size_t>(size) / sizeof(sock_filter));
  REQUIRE(pread(fd, p.data(), static_cast<size_t>(size), 0) == size);
  close(fd);
  return p;
}

// Independent of shrink's own check: every architecture of the filter and
// two it does not name, every number of the first 2048 of each ABI and the
// edges of the 32-bit range, and pseudo-random arguments mixed with the
// program's constants (the same xorshift sequence each run).
void check_same_answers(const seccomp::Program& a, const seccomp::Program& b) {
  std::vector<uint64_t> values{0, 1, ~0ULL, 0xffffffffULL, 1ULL << 32};
  for (const auto& i : a) {
    if (BPF_CLASS(i.code) == BPF_JMP) values.insert(values.end(), {i.k, i.k + 1ULL, i.k - 1ULL, uint64_t{i.k} << 32});
  }
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  std::vector<uint32_t> numbers{0x7fffffff, 0x80000000, 0xffffffff, 0x3fffffff, 0xbfffffff};
  for (uint32_t n = 0; n < 2048; ++n) numbers.insert(numbers.end(), {n, kX32Bit | n});
  size_t checked = 0;
  for (uint32_t arch : {uint32_t{AUDIT_ARCH_X86_64}, uint32_t{AUDIT_ARCH_I386}, uint32_t{AUDIT_ARCH_AARCH64}, 0U}) {
    for (uint32_t nr : numbers) {
      for (int round = 0; round < 8; ++round) {
        seccomp_data d{};
        d.arch = arch;
        d.nr = static_cast<int>(nr);
        for (auto& arg : d.args) arg = round == 0 ? 0 : (next() & 1) ? values[next() % values.size()] : next();
        auto x = seccomp::run_bpf(a, d), y = seccomp::run_bpf(b, d);
        REQUIRE(x.has_value());
        if (x != y) {
          FAIL("arch " << arch << " nr " << nr << " arg0 " << d.args[0] << ": " << *x << " != " << y.value_or(0));
        }
        ++checked;
      }
    }
  }
  CHECK(checked > 100000);
}

seccomp::Compiled compile_default_unshrunk(caps::CapSet caps) {
  seccomp::Profile p;
  Diagnostics d;
  REQUIRE(seccomp::parse_profile(std::string(seccomp::default_profile_text()), "p.json", p, d));
  seccomp::Compiled c;
  seccomp::Context ctx{caps, "6.1.0", {}, {}, {}};
  ctx.shrink = false;
  REQUIRE(seccomp::compile(p, ctx, c, d));
  return c;
}

}  // namespace

TEST_CASE("shrink: the default profile answers the same in well under half the instructions") {
  for (caps::CapSet caps : {caps::app_default(), caps::boot_default()}) {
    seccomp::Compiled full = compile_default_unshrunk(caps);
    seccomp::Compiled small = compile_default(caps);
    REQUIRE(full.filters.size() == small.filters.size());
    for (size_t i = 0; i < full.filters.size(); ++i) {
      auto shorter = seccomp::shrink(full.filters[i], {.any_length = false, .check = false});
      REQUIRE(shorter.has_value());
      // what compile loads
      CHECK(shorter->size() == small.filters[i].size());
      CHECK(std::memcmp(shorter->data(), small.filters[i].data(), shorter->size() * sizeof(sock_filter)) == 0);
      CHECK(shorter->size() * 5 < full.filters[i].size() * 2);
      check_same_answers(full.filters[i], *shorter);
    }
  }
}

TEST_CASE("shrink: arguments compared, seccomp.allow/deny, a search too long for one jump") {
  // Argument rules on several calls (clone's flags, personality's values,
  // socket's family), an override each way.
  seccomp::Compiled args = compile_default(caps::app_default(), {"ptrace"}, {"getppid"});
  CHECK(decide(args, AUDIT_ARCH_X86_64, SYS_getppid) == kEperm);
  CHECK(decide(args, AUDIT_ARCH_X86_64, SYS_ptrace) == kAllow);

  // Two numbers in every four allowed, with x32: some 440 answers for
  // x86_64, so the search needs answers in line and a long jump (the
  // layout's later passes). Longer than libseccomp's program: shrink would
  // keep that one, so the layout is asked for regardless.
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  REQUIRE(ctx != nullptr);
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  REQUIRE(seccomp_arch_add(ctx, SCMP_ARCH_X86) == 0);
  REQUIRE(seccomp_arch_add(ctx, SCMP_ARCH_X32) == 0);
  int added = 0;
  for (int nr = 0; nr < 440; ++nr) {
    if ((nr / 2) % 2 == 0) added += seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0;
  }
  CHECK(added > 150);
  scmp_arg_cmp flags{0, SCMP_CMP_MASKED_EQ, 0x7E020000ULL, 0};
  REQUIRE(seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &flags) == 0);
  seccomp::Program full = export_program(ctx);
  seccomp_release(ctx);
  CHECK_FALSE(seccomp::shrink(full).has_value());
  auto laid_out = seccomp::shrink(full, {.any_length = true, .check = false});
  REQUIRE(laid_out.has_value());
  check_same_answers(full, *laid_out);
}

TEST_CASE("shrink: programs it does not model stay as they are") {
  using seccomp::Program;
  const uint32_t arch = AUDIT_ARCH_X86_64;
  // A bit test on the number.
  Program jset{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
               BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 3),
               BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
               BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
               BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
               BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)};
  CHECK_FALSE(seccomp::shrink(jset).has_value());
  // Arithmetic on the number before any argument is read.
  Program alu{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff),
              BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
              BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)};
  CHECK_FALSE(seccomp::shrink(alu).has_value());
  // An order on architectures instead of equality.
  Program order{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, arch, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)};
  CHECK_FALSE(seccomp::shrink(order).has_value());
  // Running off the end, and nothing to gain.
  Program off{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1)};
  CHECK_FALSE(seccomp::shrink(off).has_value());
  Program tiny{BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  CHECK_FALSE(seccomp::shrink(tiny).has_value());
}
