// Value syntaxes of the manifest: sizes (512M, 2G, max), durations (10s,
// 500ms, 2min), octal modes, CPU lists. Pure functions, no diagnostics: the
// manifest reader words the errors.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctrun {

// A byte count, or "max" (no limit).
struct Size {
  bool is_max = false;
  uint64_t bytes = 0;
  friend bool operator==(const Size&, const Size&) = default;
};

// Plain bytes or K/M/G/T suffixes (powers of 1024); `max` only when allowed.
std::optional<Size> parse_size(std::string_view text, bool allow_max);
std::string format_size(const Size& s);  // largest exact suffix: 512M, 1536K, max

// A duration in microseconds. Units: us, ms, s, min, h, d; several may be
// combined ("1min 30s"). A bare number is refused unless it is 0.
std::optional<uint64_t> parse_duration_us(std::string_view text);
std::string format_duration_us(uint64_t us);  // 10s, 500ms, 2min, 1min 30s

// An octal mode such as 0022 or 1777, at most max_value.
std::optional<uint32_t> parse_octal(std::string_view text, uint32_t max_value);
std::string format_octal(uint32_t mode, int width = 4);

// A decimal integer with optional sign, range-checked.
std::optional<int64_t> parse_int(std::string_view text, int64_t min, int64_t max);

// A CPU list as in cpuset.cpus: "0-3,5,7-8". Returns the CPUs in ascending
// order without duplicates, or nothing when the syntax is wrong.
std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view text);

}  // namespace ctrun
