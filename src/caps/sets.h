// Capability sets as bit masks (bit N = capability N), the defaults of the
// contract, and how a manifest's add/drop and the host turn into the sets a
// payload gets.
#pragma once

#include <cstdint>
#include <string>

namespace ctrun::caps {

using CapSet = uint64_t;

constexpr CapSet bit(int cap) { return CapSet{1} << cap; }
bool has(CapSet s, int cap);

// Docker's 14: the default without boot.
CapSet app_default();
// systemd-nspawn's set: the default with boot (an init needs SYS_ADMIN,
// SYS_BOOT, ...). Never SYS_MODULE, SYS_RAWIO, SYS_TIME, SYSLOG, MAC_*, BPF,
// PERFMON.
CapSet boot_default();

// "CHOWN DAC_OVERRIDE ..." (names without CAP_, in bit order), "none" if empty.
std::string format(CapSet s);

// The capability sets of a payload: the bounding set (also what uid 0 gets
// as permitted and effective) and, for another user, the ambient set (also
// its permitted, effective and inheritable); otherwise inheritable and
// ambient are empty.
struct Grant {
  CapSet bounding = 0;
  CapSet ambient = 0;
};

// ctrun's own bounding set, from /proc/self/status (CapBnd).
CapSet own_bounding();

}  // namespace ctrun::caps
