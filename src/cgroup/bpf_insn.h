// One eBPF instruction, for the programs ctrun writes by hand (the device
// filter, the mount guard): a handful of instructions each, where a
// compiler toolchain for BPF would be a large build dependency.
#pragma once

#include <linux/bpf.h>

#include <cstdint>

namespace ctrun::cgroup {

constexpr bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

}  // namespace ctrun::cgroup
