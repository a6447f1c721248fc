#include "launch/privilege.h"

#include <linux/seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "caps/names.h"

namespace ctrun::launch {

bool drop_bounding(caps::CapSet keep, Failure& f) {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (caps::has(keep, cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
      f = {"drop " + caps::capability_name(cap) + " from the bounding set", errno, "capabilities", {}};
      return false;
    }
  }
  return true;
}

bool keep_caps_across_setuid(bool root, const caps::Grant& g, Failure& f) {
  if (root || g.ambient == 0) return true;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
    f = {"keep capabilities across setuid", errno, "capabilities.add", {}};
    return false;
  }
  return true;
}

bool set_capabilities(bool root, const caps::Grant& g, Failure& f) {
  caps::CapSet granted = root ? g.bounding : g.ambient;
  cap_t c = cap_init();  // every set empty
  if (c == nullptr) {
    f = {"set capabilities", errno, "capabilities", {}};
    return false;
  }
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (!caps::has(granted, cap)) continue;
    cap_value_t v = cap;
    cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
    cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
    if (!root) cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET);
  }
  int rc = cap_set_proc(c);
  int err = errno;
  cap_free(c);
  if (rc < 0) {
    f = {"set capabilities", err, "capabilities", {}};
    return false;
  }
  // One prctl (libcap's cap_reset_ambient asks about every capability
  // first: some 40 system calls on the way to exec).
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    f = {"clear the ambient capabilities", errno, "capabilities", {}};
    return false;
  }
  if (root) return true;
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (!caps::has(g.ambient, cap)) continue;
    if (cap_set_ambient(cap, CAP_SET) < 0) {
      f = {"raise " + caps::capability_name(cap) + " as an ambient capability", errno, "capabilities.add", {}};
      return false;
    }
  }
  return true;
}

bool load_seccomp(const seccomp::Compiled& c, Failure& f) {
  for (const auto& prog : c.filters) {
    struct sock_fprog fp {static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c.flags, &fp) < 0) {
      std::string detail;
      if (errno == EACCES) detail = "a filter needs no_new_privileges or CAP_SYS_ADMIN";
      f = {"load the seccomp filter", errno, "seccomp.profile", detail};
      return false;
    }
  }
  return true;
}

}  // namespace ctrun::launch
