#include "seccomp/compile.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "caps/names.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/shrink.h"

namespace ctrun::seccomp {
namespace {

struct CtxDeleter {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

uint32_t to_scmp(const Action& a) {
  switch (a.kind) {
    case Action::Kind::allow: return SCMP_ACT_ALLOW;
    case Action::Kind::errno_ret: return SCMP_ACT_ERRNO(static_cast<uint16_t>(a.ret < 0 ? EPERM : a.ret));
    case Action::Kind::kill_thread: return SCMP_ACT_KILL_THREAD;
    case Action::Kind::kill_process: return SCMP_ACT_KILL_PROCESS;
    case Action::Kind::trap: return SCMP_ACT_TRAP;
    case Action::Kind::trace: return SCMP_ACT_TRACE(static_cast<uint16_t>(a.ret < 0 ? 0 : a.ret));
    case Action::Kind::log: return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

uint32_t arch_token(const std::string& name) {
  if (name == "native") return seccomp_arch_native();
  return seccomp_arch_resolve_name(name.c_str());
}

// The names a profile may use for the host's architecture in
// includes/excludes.arches: Go's (amd64, Docker's spelling) and libseccomp's.
std::vector<std::string> host_arch_names() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: return {"amd64", "x86_64"};
    case SCMP_ARCH_AARCH64: return {"arm64", "aarch64"};
    case SCMP_ARCH_PPC64LE: return {"ppc64le"};
    case SCMP_ARCH_S390X: return {"s390x"};
    case SCMP_ARCH_RISCV64: return {"riscv64"};
    case SCMP_ARCH_X86: return {"386", "x86"};
    case SCMP_ARCH_ARM: return {"arm"};
    default: return {};
  }
}

bool matches_arch(const std::vector<std::string>& arches) {
  for (const auto& n : host_arch_names()) {
    if (std::find(arches.begin(), arches.end(), n) != arches.end()) return true;
  }
  return false;
}

bool has_cap(caps::CapSet set, const std::string& name) {
  auto cap = caps::parse_capability(name);
  return cap && caps::has(set, *cap);
}

bool applies(const Rule& r, const Context& ctx) {
  const Condition& in = r.includes;
  for (const auto& c : in.caps) {
    if (!has_cap(ctx.caps, c)) return false;
  }
  if (!in.arches.empty() && !matches_arch(in.arches)) return false;
  if (!in.min_kernel.empty() && !kernel_at_least(ctx.kernel_release, in.min_kernel)) return false;
  const Condition& ex = r.excludes;
  for (const auto& c : ex.caps) {
    if (has_cap(ctx.caps, c)) return false;
  }
  if (!ex.arches.empty() && matches_arch(ex.arches)) return false;
  if (!ex.min_kernel.empty() && kernel_at_least(ctx.kernel_release, ex.min_kernel)) return false;
  return true;
}

std::vector<unsigned> version_parts(const std::string& v) {
  std::vector<unsigned> parts;
  size_t i = 0;
  while (i < v.size() && parts.size() < 3) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) break;
    unsigned n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) n = n * 10 + (v[i++] - '0');
    parts.push_back(n);
    if (i < v.size() && v[i] == '.') ++i;
    else break;
  }
  return parts;
}

bool export_bpf(void* ctx, Program& out, std::string& error) {
  int fd = memfd_create("ctrun-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string("memfd_create: ") + std::strerror(errno);
    return false;
  }
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    close(fd);
    error = std::string("libseccomp could not export the filter: ") + std::strerror(-rc);
    return false;
  }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) {
    close(fd);
    error = "libseccomp exported an empty or torn filter";
    return false;
  }
  out.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t n = pread(fd, out.data(), static_cast<size_t>(size), 0);
  close(fd);
  if (n != size) {
    error = "could not read the exported filter back";
    return false;
  }
  if (out.size() > BPF_MAXINSNS) {
    error = "the filter has " + std::to_string(out.size()) + " instructions, more than the kernel's " +
            std::to_string(BPF_MAXINSNS);
    return false;
  }
  return true;
}

}  // namespace

bool kernel_at_least(const std::string& kernel, const std::string& min) {
  auto k = version_parts(kernel), m = version_parts(min);
  k.resize(3, 0);
  m.resize(3, 0);
  return k >= m;
}

namespace {

// How the profile ends up treating ioctl, which decides whether the TIOCSTI
// rule can live in the profile's own filter.
enum class IoctlRules { none, allow_all, other };

constexpr unsigned long kTtyCmds[] = {TIOCSTI, TIOCLINUX};

// Builds the profile's filter. With `fold`, the TIOCSTI/TIOCLINUX refusal
// goes into it: an unconditional ALLOW of ioctl becomes "A1 >= 0" (always
// true, but a condition, so that libseccomp keeps the more specific EPERM
// checks in front of it).
bool build(const Profile& p, const Context& ctx, bool fold, Compiled& out, Program& prog, IoctlRules& ioctl_rules,
           Diagnostics& diags) {
  auto fail = [&](const SourceLoc& loc, const std::string& key, const std::string& msg) {
    diags.error(loc, key, msg);
    return false;
  };
  const uint32_t def = to_scmp(p.default_action);
  Ctx c(seccomp_init(def));
  if (!c) return fail(ctx.where, "seccomp.profile", "libseccomp could not start a filter");
  // We load the program ourselves; no_new_privileges is the payload's own key.
  seccomp_attr_set(c.get(), SCMP_FLTATR_CTL_NNP, 0);
  seccomp_attr_set(c.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  out = {};
  out.arches = {"native"};
  // Architectures go in before the rules: a rule added earlier would not
  // reach them.
  for (const auto& a : p.arches) {
    uint32_t token = arch_token(a);
    if (token == 0 || token == seccomp_arch_native()) continue;
    int rc = seccomp_arch_add(c.get(), token);
    if (rc < 0 && rc != -EEXIST) {
      return fail(ctx.where, "seccomp.profile", "libseccomp cannot filter architecture " + a + ": " + std::strerror(-rc));
    }
    out.arches.push_back(a);
  }

  const int ioctl_nr = seccomp_syscall_resolve_name("ioctl");
  ioctl_rules = IoctlRules::none;
  auto note_ioctl = [&](uint32_t act, size_t nargs) {
    bool all = act == SCMP_ACT_ALLOW && nargs == 0;
    if (ioctl_rules == IoctlRules::none && all) ioctl_rules = IoctlRules::allow_all;
    else if (!(ioctl_rules == IoctlRules::allow_all && all)) ioctl_rules = IoctlRules::other;
  };
  // The rule's arguments, or "A1 >= 0" in place of none for a folded ioctl.
  const scmp_arg_cmp always = {1, SCMP_CMP_GE, 0, 0};
  auto add = [&](uint32_t act, int nr, const std::vector<scmp_arg_cmp>& g) {
    if (fold && nr == ioctl_nr && act == SCMP_ACT_ALLOW && g.empty()) {
      return seccomp_rule_add_array(c.get(), act, nr, 1, &always);
    }
    return seccomp_rule_add_array(c.get(), act, nr, static_cast<unsigned>(g.size()), g.data());
  };

  // seccomp.allow / seccomp.deny own the syscalls they name.
  std::set<std::string> overridden(ctx.allow.begin(), ctx.allow.end());
  overridden.insert(ctx.deny.begin(), ctx.deny.end());
  std::set<std::string> named;

  for (const Rule& r : p.rules) {
    if (!applies(r, ctx)) continue;
    ++out.rules;
    const uint32_t act = to_scmp(r.action);
    // Docker's rule: comparisons on distinct arguments are one rule (AND);
    // several on the same argument are one rule each (OR).
    std::vector<std::vector<scmp_arg_cmp>> groups;
    std::set<unsigned> seen;
    bool distinct = true;
    for (const auto& a : r.args) distinct = seen.insert(a.index).second && distinct;
    auto cmp = [](const ArgCmp& a) {
      return scmp_arg_cmp{a.index, static_cast<scmp_compare>(a.op), a.value, a.value_two};
    };
    if (r.args.empty() || distinct) {
      std::vector<scmp_arg_cmp> g;
      for (const auto& a : r.args) g.push_back(cmp(a));
      groups.push_back(g);
    } else {
      for (const auto& a : r.args) groups.push_back({cmp(a)});
    }
    for (const auto& name : r.names) {
      if (overridden.count(name)) continue;
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        // Profiles name syscalls of newer kernels or other architectures;
        // like runc and crun, skip what libseccomp does not know.
        ++out.unknown_names;
        continue;
      }
      named.insert(name);
      if (act == def) continue;  // libseccomp refuses rules that say what the default says
      for (const auto& g : groups) {
        if (nr == ioctl_nr) note_ioctl(act, g.size());
        int rc = add(act, nr, g);
        if (rc < 0) return fail(r.loc, r.key, "libseccomp refused the rule for " + name + ": " + std::strerror(-rc));
      }
    }
  }
  auto add_override = [&](const std::vector<std::string>& names, uint32_t act, const char* key) {
    for (size_t i = 0; i < names.size(); ++i) {
      int nr = seccomp_syscall_resolve_name(names[i].c_str());
      if (nr == __NR_SCMP_ERROR) {
        return fail(ctx.where, std::string(key) + "[" + std::to_string(i) + "]",
                    "unknown system call \"" + names[i] + "\"");
      }
      named.insert(names[i]);
      if (act == def) continue;
      if (nr == ioctl_nr) note_ioctl(act, 0);
      int rc = add(act, nr, {});
      if (rc < 0) {
        return fail(ctx.where, std::string(key) + "[" + std::to_string(i) + "]",
                    "libseccomp refused the rule: " + std::string(std::strerror(-rc)));
      }
    }
    return true;
  };
  if (!add_override(ctx.allow, SCMP_ACT_ALLOW, "seccomp.allow")) return false;
  if (!add_override(ctx.deny, SCMP_ACT_ERRNO(EPERM), "seccomp.deny")) return false;
  out.syscalls = named.size();
  if (fold) {
    for (unsigned long cmd : kTtyCmds) {
      scmp_arg_cmp low32 = {1, SCMP_CMP_MASKED_EQ, 0xffffffffULL, cmd};
      if (seccomp_rule_add_array(c.get(), SCMP_ACT_ERRNO(EPERM), ioctl_nr, 1, &low32) < 0) return false;
    }
  }
  std::string error;
  if (!export_bpf(c.get(), prog, error)) return fail(ctx.where, "seccomp.profile", error);
  out.flags = p.flags;
  return true;
}

// Whether a folded program answers like the profile plus the separate
// TIOCSTI filter would: EPERM for the two commands (also with high bits
// set), and for other commands what the profile says of ioctl.
bool fold_holds(const Program& prog, const Compiled& c, IoctlRules rules, uint32_t def) {
  const uint32_t expected_other = rules == IoctlRules::allow_all ? SECCOMP_RET_ALLOW : def;
  for (const auto& a : c.arches) {
    uint32_t token = arch_token(a);
    int nr = seccomp_syscall_resolve_name_arch(token, "ioctl");
    if (nr < 0) return false;
    // x32 calls reach seccomp as x86_64 ones with bit 30 set in the number.
    uint32_t audit = token == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : token;
    for (uint64_t high : std::initializer_list<uint64_t>{0, 1ULL << 32, 0xffffffff00000000ULL}) {
      for (unsigned long cmd : kTtyCmds) {
        if (decide({prog}, audit, nr, {0, high | cmd}) != (SECCOMP_RET_ERRNO | EPERM)) return false;
      }
    }
    for (uint64_t cmd : std::initializer_list<uint64_t>{0, TCGETS, TIOCGWINSZ, TIOCSTI + 1, 0xffffffff}) {
      if (decide({prog}, audit, nr, {0, cmd}) != expected_other) return false;
    }
  }
  return true;
}

// Each program as its shorter equivalent, where shrink finds one.
void shrink_all(Compiled& c, const Context& ctx) {
  if (!ctx.shrink) return;
  for (auto& f : c.filters) {
    if (auto shorter = shrink(f)) f = std::move(*shorter);
  }
}

}  // namespace

bool compile(const Profile& p, const Context& ctx, Compiled& out, Diagnostics& diags) {
  // First try one filter with the TIOCSTI rule folded in (one program per
  // system call instead of two); keep it only when it provably answers like
  // the pair would, else build the pair.
  Program prog;
  IoctlRules rules = IoctlRules::other;
  Diagnostics quiet;
  if (build(p, ctx, true, out, prog, rules, quiet) && rules != IoctlRules::other &&
      fold_holds(prog, out, rules, to_scmp(p.default_action))) {
    out.filters = {std::move(prog)};
    shrink_all(out, ctx);
    return true;
  }
  if (!build(p, ctx, false, out, prog, rules, diags)) return false;
  Program tty;
  std::string error;
  if (!hardening_filter(tty, error)) {
    diags.error(ctx.where, "seccomp.profile", error);
    return false;
  }
  out.filters = {std::move(prog), std::move(tty)};
  shrink_all(out, ctx);
  return true;
}

bool hardening_filter(Program& out, std::string& error) {
  Ctx c(seccomp_init(SCMP_ACT_ALLOW));
  if (!c) {
    error = "libseccomp could not start a filter";
    return false;
  }
  seccomp_attr_set(c.get(), SCMP_FLTATR_CTL_NNP, 0);
  // Architectures this filter does not know are the profile's business.
  seccomp_attr_set(c.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
    seccomp_arch_add(c.get(), SCMP_ARCH_X86);
    seccomp_arch_add(c.get(), SCMP_ARCH_X32);
  }
  for (unsigned long cmd : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    int rc = seccomp_rule_add(c.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffULL, cmd));
    if (rc < 0) {
      error = std::string("libseccomp refused the TIOCSTI rule: ") + std::strerror(-rc);
      return false;
    }
  }
  return export_bpf(c.get(), out, error);
}

}  // namespace ctrun::seccomp
