// Helpers for tests that read manifests from strings.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "manifest/reader.h"
#include "validate/validate.h"

namespace ctrun::testing {

struct Result {
  manifest::ReadStatus status = manifest::ReadStatus::unreadable;
  bool valid = false;
  manifest::Manifest m;
  manifest::SourceMap locs;
  std::string errors;  // rendered, one per line
};

inline Result read(const std::string& text, std::vector<std::string> sets = {},
                   std::map<std::string, std::string> env = {}) {
  Result r;
  Diagnostics d;
  manifest::LoadOptions o;
  o.base_dir = "/srv/app";
  o.sets = std::move(sets);
  o.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  r.status = manifest::read_manifest_text(text, "t.yaml", o, r.m, r.locs, d);
  r.valid = r.status != manifest::ReadStatus::unreadable && validate::validate(r.m, r.locs, d) &&
            r.status == manifest::ReadStatus::ok;
  for (const auto& item : d.items()) r.errors += render(item) + "\n";
  return r;
}

// A minimal valid manifest followed by `extra` lines.
inline std::string base(const std::string& extra = "") {
  return "version: 1\nname: t\nrootfs:\n  path: ./root\nprocess:\n  args: [/bin/true]\n" + extra;
}

}  // namespace ctrun::testing
