#include "seccomp/names.h"

#include <seccomp.h>

#include <cstdlib>
#include <string>

namespace ctrun::seccomp {

bool is_known_syscall(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  std::string s(name);
  return seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, s.c_str()) != __NR_SCMP_ERROR;
}

const std::vector<std::string>& all_syscall_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int nr = 0; nr < 1024; ++nr) {
      char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      if (name == nullptr) continue;
      v.emplace_back(name);
      free(name);
    }
    return v;
  }();
  return names;
}

}  // namespace ctrun::seccomp
