// Reads a manifest: YAML tree -> --set overrides -> key check against the
// schema -> typed values with defaults, ${VAR} expansion and relative paths.
// Pure apart from reading the file and the environment given in LoadOptions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostic.h"
#include "manifest/manifest.h"

namespace ctrun::manifest {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct LoadOptions {
  std::string base_dir;             // relative paths resolve here; default: the manifest's directory
  EnvLookup getenv;                 // default: the process environment
  std::vector<std::string> sets;    // --set key.path=value, in order
};

enum class ReadStatus {
  unreadable,  // the file or its YAML is broken: nothing was read
  errors,      // keys or values are wrong; `out` holds what could be read
  ok,
};

// `path` is shown in diagnostics as given. With errors, `out` still holds the
// values that were read (defaults elsewhere), so that the cross-field checks
// can run too and the user sees every problem at once.
ReadStatus read_manifest_file(const std::string& path, const LoadOptions& options, Manifest& out,
                              SourceMap& locs, Diagnostics& diags);

// A container name: [A-Za-z0-9_.-], 1 to 64 characters, not . or .. (it is
// a file name in the state directory, a unit and a machine name).
bool is_name(std::string_view s);

// The same for text in memory (tests, fuzzing); `display` names it in diagnostics.
ReadStatus read_manifest_text(std::string_view text, const std::string& display, const LoadOptions& options,
                              Manifest& out, SourceMap& locs, Diagnostics& diags);

// ${VAR}, ${VAR:-default}, $$. On failure returns nothing and sets `error`.
std::optional<std::string> expand_variables(std::string_view text, const EnvLookup& getenv,
                                            std::string& error);

}  // namespace ctrun::manifest
