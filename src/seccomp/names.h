// System call names as libseccomp knows them for the native architecture.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ctrun::seccomp {

bool is_known_syscall(std::string_view name);
// Every native system call name, for suggestions.
const std::vector<std::string>& all_syscall_names();

}  // namespace ctrun::seccomp
