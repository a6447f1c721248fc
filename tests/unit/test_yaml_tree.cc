#include <doctest/doctest.h>

#include <string>

#include "manifest/yaml_tree.h"

using namespace ctrun;
using namespace ctrun::manifest;

namespace {

// The rendered diagnostics of parsing `text`, one per line.
std::string parse_errors(const std::string& text, YamlLimits limits = {}) {
  YamlNode root;
  Diagnostics d;
  parse_yaml(text, "t.yaml", root, d, limits);
  std::string out;
  for (const auto& item : d.items()) out += render(item) + "\n";
  return out;
}

}  // namespace

TEST_CASE("a plain mapping parses with 1-based positions") {
  YamlNode root;
  Diagnostics d;
  REQUIRE(parse_yaml("a: 1\nb:\n  c: x\n", "t.yaml", root, d));
  REQUIRE(root.kind == YamlNode::Kind::map);
  CHECK(root.map_size() == 2);
  CHECK(root.key(1).line == 2);
  CHECK(root.key(1).col == 1);
  CHECK(root.val(1).key(0).col == 3);
}

TEST_CASE("hostile YAML is refused with a position") {
  CHECK(parse_errors("a: &x [1]\nb: *x\n") ==
        "t.yaml:1:4: a: anchors (&x) are not allowed\nt.yaml:2:4: b: aliases (*name) are not allowed\n");
  CHECK(parse_errors("a: &x [*x]\n").find("aliases") != std::string::npos);
  CHECK(parse_errors("a: !!str 5\n") == "t.yaml:1:4: a: tags (tag:yaml.org,2002:str) are not allowed\n");
  CHECK(parse_errors("a: !custom 5\n") == "t.yaml:1:4: a: tags (!custom) are not allowed\n");
  CHECK(parse_errors("a: 1\na: 2\n") == "t.yaml:2:1: a: duplicate key (first given on line 1)\n");
  CHECK(parse_errors("a:\n\tb: 1\n") == "t.yaml:2:1: a tab is used for indentation (YAML allows only spaces)\n");
  CHECK(parse_errors("a: \"x\\0y\"\n") == "t.yaml:1:4: a: control character in a string is not allowed\n");
  CHECK(parse_errors(std::string("a: x\x01y\n")) == "t.yaml:1:5: control character U+0001 is not allowed\n");
  CHECK(parse_errors(std::string("a: x\xffy\n")) == "t.yaml:1:5: invalid UTF-8 (byte 0xff)\n");
  CHECK(parse_errors(std::string("a: \xc0\xaf\n")) == "t.yaml:1:4: invalid UTF-8 (byte 0xc0)\n");
  CHECK(parse_errors(std::string("a: b\0c\n", 7)) == "t.yaml:1:5: control character U+0000 is not allowed\n");
  CHECK(parse_errors("") == "t.yaml:1:1: the manifest is empty (it needs at least `version: 1`)\n");
  CHECK(parse_errors("# only a comment\n") == "t.yaml:1:1: the manifest is empty (it needs at least `version: 1`)\n");
  CHECK(parse_errors("- 1\n") == "t.yaml:1:1: the manifest must be a mapping of keys (key: value), not a list\n");
  CHECK(parse_errors("a: 1\n---\nb: 2\n") == "t.yaml:3:1: more than one YAML document (only one is allowed)\n");
  CHECK(parse_errors("? [a]\n: 1\n") == "t.yaml:1:3: keys must be strings, not lists or mappings\n");
}

TEST_CASE("tabs inside block scalars and after values are not indentation") {
  CHECK(parse_errors("a: |\n  x\n  \ty\nb: 1\n").empty());
  CHECK(parse_errors("a: \t1\n").empty());
  CHECK(parse_errors("a: 1\r\nb: 2\r\n").empty());
  CHECK(parse_errors("\xef\xbb\xbf" "a: 1\n").empty());
}

TEST_CASE("size, depth and node limits") {
  std::string deep = "a: " + std::string(70, '[') + std::string(70, ']') + "\n";
  CHECK(parse_errors(deep).find("nesting deeper than 64 levels") != std::string::npos);
  std::string many = "a: [";
  for (int i = 0; i < 200; ++i) many += "1,";
  many += "1]\n";
  YamlLimits small;
  small.max_nodes = 100;
  CHECK(parse_errors(many, small).find("more than 100 YAML nodes") != std::string::npos);
  YamlLimits tiny;
  tiny.max_bytes = 4;
  CHECK(parse_errors("a: 12345\n", tiny) == "t.yaml: the file is larger than 0 KiB\n");
  CHECK(parse_errors(std::string(2 << 20, ' ')) == "t.yaml: the file is larger than 1024 KiB\n");
}

TEST_CASE("syntax errors name the key being read") {
  CHECK(parse_errors("a:\n  b: [1, 2\n").find("a.b") != std::string::npos);
  CHECK(parse_errors("a: [1, 2\n").find("YAML syntax error") != std::string::npos);
}
