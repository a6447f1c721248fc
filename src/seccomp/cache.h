// A cache of compiled filters. libseccomp needs some 15 ms to build the
// binary tree of a 450-call profile, three times the rest of a container's
// start; the result depends only on the key material below, so it is kept
// in ctrun's state directory (root's, 0700, a tmpfs that a reboot, and so a
// new kernel, empties). The whole key is stored in the entry and compared
// byte for byte: the file name is only a hash, a collision is a miss.
#pragma once

#include <string>

#include "seccomp/compile.h"

namespace ctrun::seccomp {

// Everything the compiled programs depend on (the profile by its sha256).
std::string cache_key(const std::string& profile_text, const Context& ctx);

class Cache {
 public:
  // `state_dir` is ctrun's state directory; entries live in its "@seccomp"
  // (a name no container can have). Nothing is cached when state_dir is
  // missing, not a directory, or writable by anyone but ctrun's user.
  explicit Cache(std::string state_dir) : state_dir_(std::move(state_dir)) {}
  bool load(const std::string& key, Compiled& out) const;
  void store(const std::string& key, const Compiled& c) const;  // best effort

 private:
  int open_dir(bool create) const;
  std::string state_dir_;
};

}  // namespace ctrun::seccomp
