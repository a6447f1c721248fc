#include "seccomp/shrink.h"

#include <linux/filter.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "seccomp/bpf_eval.h"

namespace ctrun::seccomp {
namespace {

constexpr uint32_t kMax = 0xffffffffU;
// Offsets in struct seccomp_data.
constexpr uint32_t kNrOffset = 0, kArchOffset = 4;
// An instruction code no program has: "go to the original program" until
// the layout is known.
constexpr uint16_t kToOriginal = 0xffff;

// A set of 32-bit values: sorted, disjoint, closed intervals.
using Set = std::vector<std::pair<uint32_t, uint32_t>>;

Set clip(const Set& s, uint32_t lo, uint32_t hi) {
  Set out;
  for (auto [a, b] : s) {
    uint32_t l = std::max(a, lo), h = std::min(b, hi);
    if (l <= h && lo <= hi) out.emplace_back(l, h);
  }
  return out;
}

Set without(const Set& s, uint32_t v) {
  Set out;
  for (auto [a, b] : s) {
    if (v < a || v > b) {
      out.emplace_back(a, b);
      continue;
    }
    if (a < v) out.emplace_back(a, v - 1);
    if (v < b) out.emplace_back(v + 1, b);
  }
  return out;
}

bool contains(const Set& s, uint32_t v) {
  return std::any_of(s.begin(), s.end(), [v](auto r) { return r.first <= v && v <= r.second; });
}

// The values of `s` for which a jump of kind `op` against k is taken, and not.
std::pair<Set, Set> split(const Set& s, uint16_t op, uint32_t k) {
  switch (op) {
    case BPF_JEQ: return {clip(s, k, k), without(s, k)};
    case BPF_JGT: return {k == kMax ? Set{} : clip(s, k + 1, kMax), clip(s, 0, k)};
    default: return {clip(s, k, kMax), k == 0 ? Set{} : clip(s, 0, k - 1)};  // BPF_JGE
  }
}

bool taken(uint16_t op, uint32_t a, uint32_t k) {
  switch (op) {
    case BPF_JEQ: return a == k;
    case BPF_JGT: return a > k;
    case BPF_JGE: return a >= k;
    default: return (a & k) != 0;  // BPF_JSET
  }
}

// What the accumulator holds, as far as the walk knows.
enum class Kind { constant, arch, nr, other };

struct State {
  size_t pc = 0;
  Kind a = Kind::constant;
  uint32_t value = 0;  // Kind::constant
  Set arch{{0, kMax}}, nr{{0, kMax}};
};

// A part of the input space and the program's answer there; `original`:
// the answer reads the arguments (or the instruction pointer).
struct Box {
  Set arch, nr;
  bool original = false;
  uint32_t ret = 0;
};

bool is_cond_jump(uint16_t code) {
  if (BPF_CLASS(code) != BPF_JMP || BPF_OP(code) == BPF_JA) return false;
  return BPF_OP(code) == BPF_JEQ || BPF_OP(code) == BPF_JGT || BPF_OP(code) == BPF_JGE || BPF_OP(code) == BPF_JSET;
}

// Walks every path of `p` that depends on the architecture and the number
// alone. Nothing when the program does something else on those paths.
std::optional<std::vector<Box>> boxes_of(const Program& p, std::vector<uint32_t>& arch_points) {
  std::vector<Box> out;
  std::vector<State> work{State{}};
  while (!work.empty()) {
    State s = std::move(work.back());
    work.pop_back();
    if (s.pc >= p.size()) return std::nullopt;
    const sock_filter& i = p[s.pc];
    if (i.code == (BPF_LD | BPF_W | BPF_ABS)) {
      if (i.k == kNrOffset || i.k == kArchOffset) {
        s.a = i.k == kNrOffset ? Kind::nr : Kind::arch;
        ++s.pc;
        work.push_back(std::move(s));
      } else {
        out.push_back({std::move(s.arch), std::move(s.nr), true, 0});
      }
      continue;
    }
    if (i.code == (BPF_LD | BPF_IMM)) {
      s.a = Kind::constant;
      s.value = i.k;
      ++s.pc;
      work.push_back(std::move(s));
      continue;
    }
    if (i.code == (BPF_JMP | BPF_JA)) {
      s.pc += 1 + i.k;
      work.push_back(std::move(s));
      continue;
    }
    if (is_cond_jump(i.code) && BPF_SRC(i.code) == BPF_K) {
      const uint16_t op = BPF_OP(i.code);
      const size_t yes = s.pc + 1 + i.jt, no = s.pc + 1 + i.jf;
      if (s.a == Kind::constant) {
        s.pc = taken(op, s.value, i.k) ? yes : no;
        work.push_back(std::move(s));
        continue;
      }
      if (s.a == Kind::other || op == BPF_JSET) return std::nullopt;
      Set& which = s.a == Kind::arch ? s.arch : s.nr;
      if (s.a == Kind::arch) {
        if (op != BPF_JEQ) return std::nullopt;
        if (std::find(arch_points.begin(), arch_points.end(), i.k) == arch_points.end()) arch_points.push_back(i.k);
      }
      auto [t, f] = split(which, op, i.k);
      if (!t.empty()) {
        State y = s;
        (s.a == Kind::arch ? y.arch : y.nr) = std::move(t);
        y.pc = yes;
        work.push_back(std::move(y));
      }
      if (!f.empty()) {
        which = std::move(f);
        s.pc = no;
        work.push_back(std::move(s));
      }
      continue;
    }
    if (i.code == (BPF_RET | BPF_K) || (i.code == (BPF_RET | BPF_A) && s.a == Kind::constant)) {
      out.push_back({std::move(s.arch), std::move(s.nr), false, i.code == (BPF_RET | BPF_K) ? i.k : s.value});
      continue;
    }
    return std::nullopt;
  }
  return out;
}

// The instructions (and jump edges) that inputs of the boxes reach.
struct Reach {
  std::vector<bool> live, yes, no;
};

void reach_from(const Program& p, const Box& b, Reach& r) {
  std::set<std::tuple<size_t, int, uint32_t, Set, Set>> seen;
  std::vector<State> work{State{0, Kind::constant, 0, b.arch, b.nr}};
  while (!work.empty()) {
    State s = std::move(work.back());
    work.pop_back();
    if (s.pc >= p.size() || !seen.insert({s.pc, static_cast<int>(s.a), s.value, s.arch, s.nr}).second) continue;
    r.live[s.pc] = true;
    const sock_filter& i = p[s.pc];
    const uint16_t code = i.code;
    if (BPF_CLASS(code) == BPF_RET) continue;
    if (code == (BPF_JMP | BPF_JA)) {
      s.pc += 1 + i.k;
      work.push_back(std::move(s));
      continue;
    }
    if (is_cond_jump(code)) {
      const uint16_t op = BPF_OP(code);
      State y = s;
      y.pc = s.pc + 1 + i.jt;
      s.pc = s.pc + 1 + i.jf;
      bool go_yes = true, go_no = true;
      if (BPF_SRC(code) == BPF_K && s.a == Kind::constant) {
        go_yes = taken(op, s.value, i.k);
        go_no = !go_yes;
      } else if (BPF_SRC(code) == BPF_K && op != BPF_JSET && (s.a == Kind::arch || s.a == Kind::nr)) {
        const bool arch = s.a == Kind::arch;
        auto [t, f] = split(arch ? s.arch : s.nr, op, i.k);
        go_yes = !t.empty();
        go_no = !f.empty();
        (arch ? y.arch : y.nr) = std::move(t);
        (arch ? s.arch : s.nr) = std::move(f);
      }
      const size_t at = y.pc - 1 - i.jt;
      if (go_yes) {
        r.yes[at] = true;
        work.push_back(std::move(y));
      }
      if (go_no) {
        r.no[at] = true;
        work.push_back(std::move(s));
      }
      continue;
    }
    // Loads and arithmetic: what the accumulator then holds.
    if (code == (BPF_LD | BPF_W | BPF_ABS) && (i.k == kNrOffset || i.k == kArchOffset)) {
      s.a = i.k == kNrOffset ? Kind::nr : Kind::arch;
    } else if (code == (BPF_LD | BPF_IMM)) {
      s.a = Kind::constant;
      s.value = i.k;
    } else if (BPF_CLASS(code) == BPF_LD || BPF_CLASS(code) == BPF_ALU || code == (BPF_MISC | BPF_TXA)) {
      s.a = Kind::other;
    }
    ++s.pc;
    work.push_back(std::move(s));
  }
}

// `p` without what the boxes never reach; jumps that only ever go one way
// become unconditional. Removing instructions only shortens jumps.
Program prune(const Program& p, const std::vector<Box>& boxes) {
  Reach r{std::vector<bool>(p.size()), std::vector<bool>(p.size()), std::vector<bool>(p.size())};
  for (const auto& b : boxes) {
    if (b.original) reach_from(p, b, r);
  }
  std::vector<size_t> at(p.size() + 1, 0);
  size_t n = 0;
  for (size_t pc = 0; pc < p.size(); ++pc) {
    at[pc] = n;
    if (r.live[pc]) ++n;
  }
  Program out;
  for (size_t pc = 0; pc < p.size(); ++pc) {
    if (!r.live[pc]) continue;
    sock_filter i = p[pc];
    const size_t here = at[pc];
    if (i.code == (BPF_JMP | BPF_JA)) {
      i.k = static_cast<uint32_t>(at[pc + 1 + i.k] - here - 1);
    } else if (is_cond_jump(i.code)) {
      const size_t yes = pc + 1 + i.jt, no = pc + 1 + i.jf;
      if (r.yes[pc] && r.no[pc]) {
        i.jt = static_cast<uint8_t>(at[yes] - here - 1);
        i.jf = static_cast<uint8_t>(at[no] - here - 1);
      } else {
        i = BPF_STMT(BPF_JMP | BPF_JA, static_cast<uint32_t>(at[r.yes[pc] ? yes : no] - here - 1));
      }
    }
    out.push_back(i);
  }
  return out;
}

// One architecture's numbers: where each answer starts (sorted, from 0).
struct Leaf {
  uint32_t first;
  bool original;
  uint32_t ret;
};

// One architecture's block: the number loaded, then a binary search over
// the leaves. Each answer is written once, at the block's end, where the
// search jumps to it; a leaf further than a jump reaches (255) gets its
// answer in line, a subtree further than that a JA. Laid out again until
// every jump reaches.
class Block {
 public:
  explicit Block(const std::vector<Leaf>& v) : v_(v) {}

  Program build() {
    while (true) {
      code_.assign(1, Insn{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNrOffset)});
      pool_.clear();
      emit(0, v_.size() - 1);
      if (fits()) break;
    }
    Program out;
    for (const auto& i : code_) out.push_back(i.f);
    for (size_t leaf : pool_) out.push_back(answer(leaf));
    return out;
  }

 private:
  // A target: an instruction of code_ (>= 0), or the answer of leaf -1 - t.
  struct Insn {
    sock_filter f;
    long jt = 0, jf = 0;  // conditional jumps; JA uses jt
    std::pair<size_t, size_t> node{};
  };

  sock_filter answer(size_t leaf) const {
    if (v_[leaf].original) return sock_filter{kToOriginal, 0, 0, 0};
    return BPF_STMT(BPF_RET | BPF_K, v_[leaf].ret);
  }
  bool same(size_t a, size_t b) const {
    return v_[a].original == v_[b].original && (v_[a].original || v_[a].ret == v_[b].ret);
  }
  size_t slot(size_t leaf) {
    for (size_t s = 0; s < pool_.size(); ++s) {
      if (same(pool_[s], leaf)) return s;
    }
    pool_.push_back(leaf);
    return pool_.size() - 1;
  }
  // Where the search goes for leaves lo..hi: the pool, or code written here.
  long child(size_t lo, size_t hi) {
    if (lo == hi && !inline_.count(lo)) return -1 - static_cast<long>(lo);
    long at = static_cast<long>(code_.size());
    emit(lo, hi);
    return at;
  }
  void emit(size_t lo, size_t hi) {
    if (lo == hi) {
      code_.push_back(Insn{answer(lo)});
      return;
    }
    const size_t mid = (lo + hi + 1) / 2;
    const size_t node = code_.size();
    const bool far = far_.count({lo, hi}) > 0;
    code_.push_back(Insn{BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, v_[mid].first, 0, 0)});
    code_[node].node = {lo, hi};
    if (far) code_.push_back(Insn{BPF_STMT(BPF_JMP | BPF_JA, 0)});
    long left = child(lo, mid - 1), right = child(mid, hi);
    if (far) {
      code_[node].jt = static_cast<long>(node) + 1;
      code_[node + 1].jt = right;
    } else {
      code_[node].jt = right;
    }
    code_[node].jf = left;
  }
  // Resolves every jump; false (after noting what to change) if one is too long.
  bool fits() {
    const size_t pool_at = code_.size();
    auto target = [&](long t) -> size_t {
      if (t >= 0) return static_cast<size_t>(t);
      size_t leaf = static_cast<size_t>(-1 - t);
      return pool_at + slot(leaf);
    };
    bool ok = true;
    for (size_t pc = 0; pc < code_.size(); ++pc) {
      Insn& i = code_[pc];
      if (i.f.code == (BPF_JMP | BPF_JA)) {
        i.f.k = static_cast<uint32_t>(target(i.jt) - pc - 1);
        continue;
      }
      if (BPF_CLASS(i.f.code) != BPF_JMP) continue;
      for (bool yes : {true, false}) {
        long t = yes ? i.jt : i.jf;
        size_t off = target(t) - pc - 1;
        if (off <= 255) {
          (yes ? i.f.jt : i.f.jf) = static_cast<uint8_t>(off);
        } else if (t < 0) {
          inline_.insert(static_cast<size_t>(-1 - t));
          ok = false;
        } else {
          far_.insert(i.node);
          ok = false;
        }
      }
    }
    return ok;
  }

  const std::vector<Leaf>& v_;
  std::vector<Insn> code_;
  std::vector<size_t> pool_;  // a leaf of each answer, in slot order
  std::set<size_t> inline_;
  std::set<std::pair<size_t, size_t>> far_;
};

// The leaves of one architecture: the boxes that hold it, cut along the
// numbers. Nothing unless they cover every number exactly once.
std::optional<std::vector<Leaf>> leaves_of(const std::vector<Box>& boxes, uint32_t arch) {
  std::vector<std::pair<std::pair<uint32_t, uint32_t>, const Box*>> parts;
  for (const auto& b : boxes) {
    if (!contains(b.arch, arch)) continue;
    for (auto r : b.nr) parts.push_back({r, &b});
  }
  std::sort(parts.begin(), parts.end(), [](const auto& x, const auto& y) { return x.first.first < y.first.first; });
  std::vector<Leaf> out;
  uint64_t next = 0;
  for (const auto& [r, b] : parts) {
    if (r.first != next) return std::nullopt;
    next = static_cast<uint64_t>(r.second) + 1;
    if (!out.empty() && out.back().original == b->original && (b->original || out.back().ret == b->ret)) continue;
    out.push_back({r.first, b->original, b->ret});
  }
  if (next != static_cast<uint64_t>(kMax) + 1) return std::nullopt;
  return out;
}

// Whether `q` answers as `p` does, on every architecture the program names
// and some it does not, on every number where an answer changes and the
// first thousand of each ABI, and (for numbers whose answer reads them) on
// arguments made of the program's own constants.
bool same_answers(const Program& p, const Program& q, const std::vector<uint32_t>& arch_points,
                  const std::vector<Box>& boxes) {
  std::set<uint32_t> consts{0, 1, kMax};
  for (const auto& i : p) {
    if (BPF_CLASS(i.code) == BPF_JMP || BPF_CLASS(i.code) == BPF_ALU) {
      for (uint32_t d : {0U, 1U, kMax}) consts.insert(i.k + d);
    }
  }
  std::set<uint32_t> numbers;
  for (uint32_t base : {0U, 0x40000000U}) {
    for (uint32_t n = 0; n < 1024; ++n) numbers.insert(base + n);
  }
  for (const auto& b : boxes) {
    for (auto [lo, hi] : b.nr) {
      for (uint32_t v : {lo - 1, lo, hi, hi + 1}) numbers.insert(v);
    }
  }
  std::set<uint32_t> arches(arch_points.begin(), arch_points.end());
  for (uint32_t a : {0U, kMax, 0xc00000b7U /* aarch64 */}) arches.insert(a);
  auto check = [&](seccomp_data& d) { return run_bpf(p, d) == run_bpf(q, d); };
  for (uint32_t arch : arches) {
    for (uint32_t nr : numbers) {
      seccomp_data d{};
      d.arch = arch;
      d.nr = static_cast<int>(nr);
      if (!check(d)) return false;
      bool reads_args = std::any_of(boxes.begin(), boxes.end(), [&](const Box& b) {
        return b.original && contains(b.arch, arch) && contains(b.nr, nr);
      });
      if (!reads_args) continue;
      for (uint32_t lo : consts) {
        for (uint64_t hi : {0ULL, 1ULL, 0xffffffffULL}) {
          for (auto& a : d.args) a = (hi << 32) | lo;
          if (!check(d)) return false;
          // One argument at a time too: rules compare several.
          for (int k = 0; k < 6 && hi == 0; ++k) {
            seccomp_data e{};
            e.arch = arch;
            e.nr = d.nr;
            e.args[k] = (hi << 32) | lo;
            if (!check(e)) return false;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

std::optional<Program> shrink(const Program& p, const ShrinkOptions& options) {
  // In the order the program tests them (libseccomp: the native one first).
  std::vector<uint32_t> arch_points;
  auto boxes = boxes_of(p, arch_points);
  if (!boxes) return std::nullopt;
  // Every box holds only architectures the program names, or only others
  // (which must then share one answer, whatever the number).
  std::optional<uint32_t> other_answer;
  for (const auto& b : *boxes) {
    Set rest = b.arch;
    for (uint32_t a : arch_points) rest = without(rest, a);
    const bool any_other = !rest.empty();
    const bool named = rest != b.arch;
    if (named && any_other) return std::nullopt;
    if (!any_other) continue;
    if (b.original || (other_answer && *other_answer != b.ret)) return std::nullopt;
    other_answer = b.ret;
  }
  if (!other_answer) return std::nullopt;

  Program tail = prune(p, *boxes);
  std::vector<Program> blocks;
  for (uint32_t a : arch_points) {
    auto leaves = leaves_of(*boxes, a);
    if (!leaves) return std::nullopt;
    blocks.push_back(Block(*leaves).build());
  }
  // Dispatch on the architecture, then each one's search, then the rest
  // of the original program.
  Program q{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArchOffset)};
  size_t start = 1 + 2 * arch_points.size() + 1;
  size_t k = 0;
  for (uint32_t a : arch_points) {
    q.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a, 0, 1));
    q.push_back(BPF_STMT(BPF_JMP | BPF_JA, static_cast<uint32_t>(start - q.size() - 1)));
    start += blocks[k++].size();
  }
  q.push_back(BPF_STMT(BPF_RET | BPF_K, *other_answer));
  for (const auto& b : blocks) q.insert(q.end(), b.begin(), b.end());
  const size_t tail_at = q.size();
  for (size_t pc = 0; pc < q.size(); ++pc) {
    if (q[pc].code == kToOriginal) q[pc] = BPF_STMT(BPF_JMP | BPF_JA, static_cast<uint32_t>(tail_at - pc - 1));
  }
  q.insert(q.end(), tail.begin(), tail.end());
  if ((q.size() >= p.size() && !options.any_length) || q.size() > BPF_MAXINSNS) return std::nullopt;
  if (options.check && !same_answers(p, q, arch_points, *boxes)) return std::nullopt;
  return q;
}

}  // namespace ctrun::seccomp
