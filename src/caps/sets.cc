#include "caps/sets.h"

#include <linux/capability.h>

#include <cstdio>
#include <cstring>

#include "caps/names.h"

namespace ctrun::caps {

bool has(CapSet s, int cap) { return cap >= 0 && cap < 64 && (s & bit(cap)) != 0; }

CapSet app_default() {
  return bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FSETID) | bit(CAP_FOWNER) | bit(CAP_MKNOD) |
         bit(CAP_NET_RAW) | bit(CAP_SETGID) | bit(CAP_SETUID) | bit(CAP_SETFCAP) | bit(CAP_SETPCAP) |
         bit(CAP_NET_BIND_SERVICE) | bit(CAP_SYS_CHROOT) | bit(CAP_KILL) | bit(CAP_AUDIT_WRITE);
}

CapSet boot_default() {
  // systemd-nspawn's default retain set (nspawn.c, arg_caps_retain).
  return bit(CAP_AUDIT_CONTROL) | bit(CAP_AUDIT_WRITE) | bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) |
         bit(CAP_DAC_READ_SEARCH) | bit(CAP_FOWNER) | bit(CAP_FSETID) | bit(CAP_IPC_OWNER) | bit(CAP_KILL) |
         bit(CAP_LEASE) | bit(CAP_LINUX_IMMUTABLE) | bit(CAP_MKNOD) | bit(CAP_NET_BIND_SERVICE) |
         bit(CAP_NET_BROADCAST) | bit(CAP_NET_RAW) | bit(CAP_SETFCAP) | bit(CAP_SETGID) | bit(CAP_SETPCAP) |
         bit(CAP_SETUID) | bit(CAP_SYS_ADMIN) | bit(CAP_SYS_BOOT) | bit(CAP_SYS_CHROOT) | bit(CAP_SYS_NICE) |
         bit(CAP_SYS_PTRACE) | bit(CAP_SYS_RESOURCE) | bit(CAP_SYS_TTY_CONFIG);
}

std::string format(CapSet s) {
  std::string out;
  for (int cap = 0; cap < 64; ++cap) {
    if (!has(s, cap)) continue;
    if (!out.empty()) out += ' ';
    out += capability_name(cap).substr(4);
  }
  return out.empty() ? "none" : out;
}

CapSet own_bounding() {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long long v = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "CapBnd:", 7) == 0) {
      std::sscanf(line + 7, "%llx", &v);
      break;
    }
  }
  std::fclose(f);
  return v;
}

}  // namespace ctrun::caps
