// Diagnostics: what parse, validate and plan report instead of failing fast.
// Rendered as `file:line:col: key.path: message`, lines and columns 1-based.
#pragma once

#include <string>
#include <vector>

namespace ctrun {

struct SourceLoc {
  std::string file;  // as the user named it, or "<command line>"
  int line = 0;      // 1-based; 0 when the position is unknown
  int col = 0;       // 1-based
};

enum class Severity { error, warning };

struct Diagnostic {
  SourceLoc loc;
  std::string key;  // key path such as resources.memory.max or mounts[2].target
  std::string message;
  Severity severity = Severity::error;
};

std::string render(const Diagnostic& d);

// Collects every diagnostic of a run, so the user sees all problems at once.
class Diagnostics {
 public:
  void error(SourceLoc loc, std::string key, std::string message);
  void warning(SourceLoc loc, std::string key, std::string message);
  bool has_errors() const { return errors_ > 0; }
  size_t error_count() const { return errors_; }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Stable order by file position; "<command line>" entries come last.
  void sort();
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
  size_t errors_ = 0;
};

}  // namespace ctrun
