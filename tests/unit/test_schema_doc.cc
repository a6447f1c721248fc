// man/ctrun.manifest.5 documents exactly the keys of the schema table, each
// with its type and default.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "manifest/schema.h"

using namespace ctrun::manifest;

namespace {

std::string man_page() {
  std::ifstream in(CTRUN_SOURCE_DIR "/man/ctrun.manifest.5");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the man page lists every schema key, and no other") {
  std::string page = man_page();
  REQUIRE(!page.empty());
  // Keys are documented as `.It Sy key.path` entries in the KEYS section.
  std::set<std::string> documented;
  std::regex entry(R"(^\.It Sy ([a-z_.\[\]]+)\s*$)");
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, entry)) documented.insert(m[1]);
  }
  std::set<std::string> known;
  for (const auto& k : schema()) known.insert(std::string(k.path));
  for (const auto& k : known) {
    CAPTURE(k);
    CHECK(documented.count(k) == 1);
  }
  for (const auto& d : documented) {
    CAPTURE(d);
    CHECK(known.count(d) == 1);
  }
}

TEST_CASE("schema entries are well formed") {
  std::set<std::string_view> seen;
  for (const auto& k : schema()) {
    CAPTURE(k.path);
    CHECK(seen.insert(k.path).second);
    CHECK(!k.doc.empty());
    CHECK(find_key(k.path) == &k);
    CHECK((k.kind == Kind::enumeration) == !k.choices.empty());
    // Every key's parent is a section or an object list.
    std::string p(k.path);
    size_t cut = p.find_last_of('.');
    if (cut != std::string::npos) {
      std::string parent = p.substr(0, cut);
      bool list = parent.ends_with("[]");
      if (list) parent.resize(parent.size() - 2);
      const KeyInfo* pi = find_key(parent);
      REQUIRE(pi != nullptr);
      CHECK(pi->kind == (list ? Kind::object_list : Kind::section));
    }
  }
  CHECK(child_keys("") == std::vector<std::string>{"version", "name", "hostname", "rootfs", "process", "boot", "init",
                                                   "namespaces", "user_namespace", "mounts", "devices", "resources",
                                                   "capabilities", "seccomp", "network", "systemd", "stop"});
  CHECK(key_pattern("mounts[12].lower[3]") == "mounts[].lower[]");
}
