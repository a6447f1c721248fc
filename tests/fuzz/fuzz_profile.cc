// libFuzzer target: a seccomp profile file is user input too. Any byte
// string must become diagnostics or a profile, and a parsed profile must
// compile (or be refused with a diagnostic) without a crash, hang or leak;
// what compiles must be a program the BPF evaluator can run. And the
// shorter program seccomp/shrink.cc makes of libseccomp's (unchecked here,
// and laid out whatever its length) must answer as libseccomp's does.
#include <linux/audit.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "caps/sets.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/compile.h"
#include "seccomp/profile.h"
#include "seccomp/shrink.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrun;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  seccomp::Profile p;
  Diagnostics diags;
  if (!seccomp::parse_profile(text, "fuzz.json", p, diags)) return 0;
  // Compiling is slow (libseccomp builds a tree): only small profiles.
  size_t names = 0;
  for (const auto& r : p.rules) names += r.names.size();
  if (names > 64) return 0;
  seccomp::Context ctx{caps::app_default(), "6.1.0", {}, {}, {}};
  seccomp::Compiled c;
  if (!seccomp::compile(p, ctx, c, diags)) return 0;
  for (int nr : {0, 1, 16, 39, 56, 1000}) {
    if (!seccomp::decide(c.filters, AUDIT_ARCH_X86_64, nr, {0, 0x5412}).has_value()) __builtin_trap();
  }
  ctx.shrink = false;
  seccomp::Compiled full;
  if (!seccomp::compile(p, ctx, full, diags)) __builtin_trap();
  for (const auto& prog : full.filters) {
    auto small = seccomp::shrink(prog, {.any_length = true, .check = false});
    if (!small) continue;
    // Every number of the first 700 of x86_64, i386 and x32, and some near
    // 2^32, with arguments from the data itself (copied: it is not aligned).
    uint64_t arg = 0;
    if (size >= sizeof arg) std::memcpy(&arg, data + size - sizeof arg, sizeof arg);
    for (uint32_t arch : {uint32_t{AUDIT_ARCH_X86_64}, uint32_t{AUDIT_ARCH_I386}, 0U}) {
      for (uint32_t nr = 0; nr < 700; ++nr) {
        for (uint32_t n : {nr, nr | 0x40000000U, 0xffffffffU - nr}) {
          for (uint64_t a : {uint64_t{0}, arg, ~arg, uint64_t{0x5412}}) {
            seccomp_data d{};
            d.arch = arch;
            d.nr = static_cast<int>(n);
            for (auto& x : d.args) x = a;
            if (seccomp::run_bpf(prog, d) != seccomp::run_bpf(*small, d)) __builtin_trap();
          }
        }
      }
    }
  }
  return 0;
}
