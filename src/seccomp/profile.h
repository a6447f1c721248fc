// seccomp profiles in the OCI / Docker JSON format: defaultAction,
// defaultErrnoRet, architectures or archMap, flags, and syscalls[] with
// names (or the old format's name), action, errnoRet, args and
// includes/excludes by caps, arches and minKernel. Parsed into a plain value
// with the position of every rule, so that errors name file:line:column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostic.h"

namespace ctrun::seccomp {

struct Action {
  enum class Kind { allow, errno_ret, kill_thread, kill_process, trap, trace, log };
  Kind kind = Kind::allow;
  int ret = -1;  // errno (errno_ret) or trace message (trace); -1: EPERM / 0
  friend bool operator==(const Action&, const Action&) = default;
};

struct ArgCmp {
  unsigned index = 0;
  uint64_t value = 0, value_two = 0;
  int op = 0;  // enum scmp_compare
};

// A rule applies only when every capability of `caps` is in the container's
// bounding set, the host's architecture is one of `arches` and the kernel is
// at least `min_kernel` (includes); and is skipped when any of them holds
// (excludes).
struct Condition {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::string min_kernel;
};

struct Rule {
  std::vector<std::string> names;
  Action action;
  std::vector<ArgCmp> args;
  Condition includes, excludes;
  std::string key;  // syscalls[3]
  SourceLoc loc;
};

struct Profile {
  std::string source;   // "default" or the file's path
  Action default_action{Action::Kind::errno_ret, -1};
  // Architecture names as libseccomp spells them without SCMP_ARCH_
  // (x86_64, x86, x32, aarch64, ...): the ones the filter has rules for.
  // Empty: the native architecture only.
  std::vector<std::string> arches;
  unsigned flags = 0;  // SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW
  std::vector<Rule> rules;
};

// The profile compiled into ctrun (seccomp-profiles/default.json).
std::string_view default_profile_text();

bool parse_profile(std::string_view text, const std::string& file, Profile& out, Diagnostics& diags);

}  // namespace ctrun::seccomp
