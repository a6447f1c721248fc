// Cross-field rules of the manifest contract. Each rule is a small named
// check over the typed manifest; all of them run, and every violation becomes
// a diagnostic at the key that breaks the rule.
#pragma once

#include <span>
#include <string_view>

#include "base/diagnostic.h"
#include "manifest/manifest.h"

namespace ctrun::validate {

using manifest::Manifest;
using manifest::SourceMap;

struct Check {
  std::string_view name;
  void (*run)(const Manifest&, const SourceMap&, Diagnostics&);
};

std::span<const Check> checks();

// Runs every check; returns false when any reported an error.
bool validate(const Manifest& m, const SourceMap& locs, Diagnostics& diags);

}  // namespace ctrun::validate
