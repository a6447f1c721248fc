#include "caps/names.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>

namespace ctrun::caps {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

std::optional<int> parse_capability(std::string_view name) {
  std::string canonical = upper(name);
  if (!canonical.starts_with("CAP_")) canonical.insert(0, "CAP_");
  for (char c : canonical) {
    if (!(std::isupper(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
  }
  cap_value_t value = 0;
  // cap_from_name also accepts numbers and odd spellings; insist on a name
  // that maps back to the same canonical text.
  if (cap_from_name(canonical.c_str(), &value) != 0) return std::nullopt;
  if (capability_name(value) != canonical) return std::nullopt;
  return value;
}

std::string capability_name(int cap) {
  char* text = cap_to_name(static_cast<cap_value_t>(cap));
  if (text == nullptr) return std::to_string(cap);
  std::string out = upper(text);
  cap_free(text);
  return out;
}

std::vector<std::string> all_capability_names() {
  std::vector<std::string> names;
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) names.push_back(capability_name(cap));
  return names;
}

}  // namespace ctrun::caps
