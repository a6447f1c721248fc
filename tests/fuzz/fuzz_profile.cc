// libFuzzer target: a seccomp profile file is user input too. Any byte
// string must become diagnostics or a profile, and a parsed profile must
// compile (or be refused with a diagnostic) without a crash, hang or leak;
// what compiles must be a program the BPF evaluator can run.
#include <linux/audit.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "caps/sets.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/compile.h"
#include "seccomp/profile.h"

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
  return 0;
}
