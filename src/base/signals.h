// Signal names as users write them: SIGTERM, TERM, SIGRTMIN+3, or a number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ctrun {

std::optional<int> parse_signal(std::string_view text);
// SIGTERM, SIGRTMIN+3; a number for anything without a name.
std::string signal_name(int sig);

}  // namespace ctrun
