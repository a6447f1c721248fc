// A hardened YAML front end. yaml-cpp parses; this layer refuses what the
// manifest contract forbids and yaml-cpp would accept (anchors and aliases,
// tags, duplicate keys, tabs as indentation, control characters, invalid
// UTF-8, more than one document, over-deep or over-large input), and builds a
// small tree whose nodes carry 1-based positions. YAML types never leave
// src/manifest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostic.h"

namespace ctrun::manifest {

struct YamlNode {
  enum class Kind { null, scalar, seq, map };
  Kind kind = Kind::null;
  int line = 0;  // 1-based
  int col = 0;
  std::string value;  // scalar text
  bool plain = true;  // an unquoted scalar (only plain scalars can be numbers, booleans, null)
  // seq: the items; map: key and value alternating (keys are scalars).
  std::vector<YamlNode> children;

  bool is_null() const {
    return kind == Kind::null ||
           (kind == Kind::scalar && plain &&
            (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL"));
  }
  size_t map_size() const { return children.size() / 2; }
  const YamlNode& key(size_t i) const { return children[2 * i]; }
  const YamlNode& val(size_t i) const { return children[2 * i + 1]; }
  YamlNode& val(size_t i) { return children[2 * i + 1]; }
};

struct YamlLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 64;
  size_t max_nodes = 100000;
};

// Parses one YAML document. Every problem found becomes a diagnostic naming
// `file`; the tree is returned only when there were none. A manifest's top
// level must be a mapping; a --set value may be anything (want_map false).
bool parse_yaml(std::string_view text, const std::string& file, YamlNode& out,
                Diagnostics& diags, const YamlLimits& limits = {}, bool want_map = true);

// Reads a regular file (a little more than max_bytes at most, so that the
// parser can refuse it as too large).
bool read_source_file(const std::string& path, std::string& text, Diagnostics& diags, size_t max_bytes);

// Reads a file (at most limits.max_bytes) and parses it.
bool load_yaml_file(const std::string& path, YamlNode& out, Diagnostics& diags,
                    const YamlLimits& limits = {});

}  // namespace ctrun::manifest
