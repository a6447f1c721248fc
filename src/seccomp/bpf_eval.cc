#include "seccomp/bpf_eval.h"

#include <linux/filter.h>

#include <cstring>

namespace ctrun::seccomp {

std::optional<uint32_t> run_bpf(const Program& prog, const seccomp_data& d) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& i = prog[pc];
    switch (i.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (i.k % 4 != 0 || i.k + 4 > sizeof d) return std::nullopt;
        std::memcpy(&a, reinterpret_cast<const char*>(&d) + i.k, 4);
        break;
      case BPF_LD | BPF_IMM: a = i.k; break;
      case BPF_LDX | BPF_IMM: x = i.k; break;
      case BPF_LD | BPF_MEM:
        if (i.k >= BPF_MEMWORDS) return std::nullopt;
        a = mem[i.k];
        break;
      case BPF_LDX | BPF_MEM:
        if (i.k >= BPF_MEMWORDS) return std::nullopt;
        x = mem[i.k];
        break;
      case BPF_ST:
        if (i.k >= BPF_MEMWORDS) return std::nullopt;
        mem[i.k] = a;
        break;
      case BPF_STX:
        if (i.k >= BPF_MEMWORDS) return std::nullopt;
        mem[i.k] = x;
        break;
      case BPF_ALU | BPF_AND | BPF_K: a &= i.k; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= i.k; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_JMP | BPF_JA: pc += i.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += (a == i.k) ? i.jt : i.jf; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += (a > i.k) ? i.jt : i.jf; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += (a >= i.k) ? i.jt : i.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i.k) ? i.jt : i.jf; break;
      case BPF_RET | BPF_K: return i.k;
      case BPF_RET | BPF_A: return a;
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> decide(const std::vector<Program>& filters, uint32_t arch, int nr,
                               std::initializer_list<uint64_t> args) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  size_t n = 0;
  for (uint64_t v : args) {
    if (n < 6) d.args[n++] = v;
  }
  uint32_t best = SECCOMP_RET_ALLOW;
  for (const auto& prog : filters) {
    auto r = run_bpf(prog, d);
    if (!r) return std::nullopt;
    if (static_cast<int32_t>(*r & SECCOMP_RET_ACTION_FULL) < static_cast<int32_t>(best & SECCOMP_RET_ACTION_FULL)) {
      best = *r;
    }
  }
  return best;
}

}  // namespace ctrun::seccomp
