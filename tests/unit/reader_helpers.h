// Helpers for tests that read manifests from strings.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "manifest/reader.h"
#include "plan/plan.h"
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

// A validated manifest's launch plan on the given (fake) host, with the
// plan's diagnostics rendered.
struct Planned {
  bool ok = false;
  plan::LaunchPlan plan;
  std::string errors;
};

inline Planned plan_text(const std::string& text, const plan::HostFacts& host = {}) {
  auto r = read(text);
  REQUIRE_MESSAGE(r.valid, r.errors);
  Planned p;
  Diagnostics d;
  p.ok = plan::build_plan(r.m, r.locs, host, p.plan, d);
  for (const auto& item : d.items()) p.errors += render(item) + "\n";
  return p;
}

// A manifest named web on /srv/root running /bin/sh, followed by `extra`.
inline std::string web(const std::string& extra = "") {
  return "version: 1\nname: web\nrootfs: {path: /srv/root}\nprocess:\n  args: [/bin/sh]\n" + extra;
}

}  // namespace ctrun::testing
