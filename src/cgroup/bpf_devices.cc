#include "cgroup/bpf_devices.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fd.h"
#include "cgroup/bpf_insn.h"

namespace ctrun::cgroup {
namespace {

uint32_t access_bits(const std::string& a) {
  uint32_t bits = 0;
  if (a.find('m') != std::string::npos) bits |= BPF_DEVCG_ACC_MKNOD;
  if (a.find('r') != std::string::npos) bits |= BPF_DEVCG_ACC_READ;
  if (a.find('w') != std::string::npos) bits |= BPF_DEVCG_ACC_WRITE;
  return bits;
}

constexpr uint32_t kAll = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

}  // namespace

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
  // r2 = type, r3 = access, r4 = major, r5 = minor (from bpf_cgroup_dev_ctx).
  std::vector<bpf_insn> p = {
      insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0),
      insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff),
      insn(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0),
      insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16),
      insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0),
      insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0),
  };
  for (const auto& r : rules) {
    std::vector<bpf_insn> block;
    int type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    uint32_t acc = access_bits(r.access);
    // Each check jumps to the end of this block (offsets patched below).
    block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, type));
    if (acc != kAll) {
      block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 3, 0, 0));
      block.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, static_cast<int32_t>(~acc & kAll)));
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0));
    }
    if (r.major >= 0) block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(r.major)));
    if (r.minor >= 0) block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(r.minor)));
    block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1));
    block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t i = 0; i < block.size(); ++i) {
      if (block[i].code == (BPF_JMP | BPF_JNE | BPF_K)) block[i].off = static_cast<int16_t>(block.size() - i - 1);
    }
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

std::optional<int> run_device_program(const std::vector<bpf_insn>& prog, char type, unsigned major, unsigned minor,
                                      const std::string& access) {
  bpf_cgroup_dev_ctx ctx{};
  ctx.access_type = (access_bits(access) << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  ctx.major = major;
  ctx.minor = minor;
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    uint64_t& d = reg[i.dst_reg];
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM: {
        if (i.src_reg != 1 || i.off < 0 || i.off + 4 > static_cast<int>(sizeof ctx)) return std::nullopt;
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        d = v;
        break;
      }
      case BPF_ALU64 | BPF_AND | BPF_K: d &= static_cast<uint64_t>(static_cast<int64_t>(i.imm)); break;
      case BPF_ALU64 | BPF_RSH | BPF_K: d >>= i.imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: d = static_cast<uint64_t>(static_cast<int64_t>(i.imm)); break;
      case BPF_ALU64 | BPF_MOV | BPF_X: d = reg[i.src_reg]; break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (d != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

int attach_device_program(int cgroup_fd, const std::vector<bpf_insn>& prog, std::string& log) {
  char buf[4096] = {};
  union bpf_attr load {};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>("GPL");
  load.log_buf = reinterpret_cast<uint64_t>(buf);
  load.log_size = sizeof buf;
  load.log_level = 1;
  UniqueFd fd(static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  if (!fd) {
    int err = errno;
    log = buf;
    return -err;
  }
  union bpf_attr attach {};
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(fd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = 0;  // no override below: the container cannot replace it
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0) return -errno;
  return 0;  // the cgroup keeps the program; our fd may go
}

}  // namespace ctrun::cgroup
