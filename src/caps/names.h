// Capability names as libcap knows them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctrun::caps {

// Accepts CAP_NET_ADMIN, cap_net_admin or NET_ADMIN; returns the number.
std::optional<int> parse_capability(std::string_view name);
// Canonical upper-case form: CAP_NET_ADMIN.
std::string capability_name(int cap);
// Every capability libcap knows, canonical names, for suggestions.
std::vector<std::string> all_capability_names();

}  // namespace ctrun::caps
