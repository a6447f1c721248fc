#include "base/failure.h"

#include <cstring>

namespace ctrun {

std::string render(const Failure& f) {
  std::string s = "ctrun: failed to " + f.what;
  if (!f.detail.empty()) s += ": " + f.detail;
  else if (f.err != 0) s += std::string(": ") + std::strerror(f.err);
  if (!f.key.empty()) s += " (" + f.key + ")";
  return s;
}

}  // namespace ctrun
