// A runtime failure of the launcher: what it was doing, the errno, and the
// manifest key it comes from. Rendered as
// `ctrun: failed to <what>: <strerror> (<key>)`.
#pragma once

#include <string>

namespace ctrun {

struct Failure {
  std::string what;  // "bind-mount /srv/data on /data"
  int err = 0;       // errno, or 0 when `detail` says it all
  std::string key;   // "mounts[0]", or empty
  std::string detail;  // replaces strerror when set

  bool failed() const { return !what.empty(); }
};

std::string render(const Failure& f);

}  // namespace ctrun
