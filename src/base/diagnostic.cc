#include "base/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace ctrun {

std::string render(const Diagnostic& d) {
  std::string out = d.loc.file;
  if (d.loc.line > 0) {
    out += ':' + std::to_string(d.loc.line) + ':' + std::to_string(d.loc.col);
  }
  out += ": ";
  if (!d.key.empty()) out += d.key + ": ";
  if (d.severity == Severity::warning) out += "warning: ";
  out += d.message;
  return out;
}

void Diagnostics::error(SourceLoc loc, std::string key, std::string message) {
  items_.push_back({std::move(loc), std::move(key), std::move(message), Severity::error});
  ++errors_;
}

void Diagnostics::warning(SourceLoc loc, std::string key, std::string message) {
  items_.push_back({std::move(loc), std::move(key), std::move(message), Severity::warning});
}

void Diagnostics::sort() {
  auto rank = [](const Diagnostic& d) {
    bool cmdline = !d.loc.file.empty() && d.loc.file.front() == '<';
    return std::tuple(cmdline, d.loc.line, d.loc.col);
  };
  std::stable_sort(items_.begin(), items_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  errors_ += other.errors_;
}

}  // namespace ctrun
