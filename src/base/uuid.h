// 128-bit ids as systemd writes them: a machine id is 32 lower-case hex
// digits (/etc/machine-id), a container's UUID the same bytes as
// 8-4-4-4-12 ($container_uuid, /run/host/container-uuid).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctrun {

using Id128 = std::array<uint8_t, 16>;

// 32 hex digits, or a UUID with its dashes; either case. nullopt otherwise.
std::optional<Id128> parse_id128(std::string_view text);
bool is_null(const Id128& id);
std::string format_id128(const Id128& id);  // 32 hex digits
std::string format_uuid(const Id128& id);   // 8-4-4-4-12
// A random version 4 UUID (getrandom).
Id128 random_id128();

}  // namespace ctrun
