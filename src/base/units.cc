#include "base/units.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

namespace ctrun {
namespace {

// Reads leading decimal digits; refuses overflow and empty input.
std::optional<uint64_t> take_digits(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 20) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + n, v);
  if (ec != std::errc{} || p != s.data() + n) return std::nullopt;
  s.remove_prefix(n);
  return v;
}

constexpr std::pair<const char*, uint64_t> kDurationUnits[] = {
    {"d", 86400000000ULL}, {"h", 3600000000ULL}, {"min", 60000000ULL},
    {"s", 1000000ULL},     {"ms", 1000ULL},      {"us", 1ULL},
};

}  // namespace

std::optional<Size> parse_size(std::string_view text, bool allow_max) {
  if (text == "max") {
    if (!allow_max) return std::nullopt;
    return Size{true, 0};
  }
  std::string_view s = text;
  auto v = take_digits(s);
  if (!v) return std::nullopt;
  int shift = 0;
  if (s.size() == 1) {
    switch (s[0]) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: return std::nullopt;
    }
  } else if (!s.empty()) {
    return std::nullopt;
  }
  if (shift && *v > (std::numeric_limits<uint64_t>::max() >> shift)) return std::nullopt;
  return Size{false, *v << shift};
}

std::string format_size(const Size& s) {
  if (s.is_max) return "max";
  static constexpr std::pair<char, int> kSuffixes[] = {{'T', 40}, {'G', 30}, {'M', 20}, {'K', 10}};
  for (auto [suffix, shift] : kSuffixes) {
    uint64_t unit = 1ULL << shift;
    if (s.bytes != 0 && s.bytes % unit == 0) return std::to_string(s.bytes / unit) + suffix;
  }
  return std::to_string(s.bytes);
}

std::optional<uint64_t> parse_duration_us(std::string_view text) {
  if (text == "0") return 0;
  std::string_view s = text;
  uint64_t total = 0;
  bool any = false;
  while (!s.empty()) {
    auto v = take_digits(s);
    if (!v) return std::nullopt;
    size_t n = 0;
    while (n < s.size() && s[n] >= 'a' && s[n] <= 'z') ++n;
    std::string_view unit = s.substr(0, n);
    s.remove_prefix(n);
    uint64_t mult = 0;
    for (auto [name, us] : kDurationUnits) {
      if (unit == name) mult = us;
    }
    if (mult == 0) return std::nullopt;
    if (*v > std::numeric_limits<uint64_t>::max() / mult) return std::nullopt;
    uint64_t add = *v * mult;
    if (total > std::numeric_limits<uint64_t>::max() - add) return std::nullopt;
    total += add;
    any = true;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  if (!any) return std::nullopt;
  return total;
}

std::string format_duration_us(uint64_t us) {
  if (us == 0) return "0";
  std::string out;
  for (auto [name, unit] : kDurationUnits) {
    if (us >= unit) {
      if (!out.empty()) out += ' ';
      out += std::to_string(us / unit) + name;
      us %= unit;
    }
  }
  return out;
}

std::optional<uint32_t> parse_octal(std::string_view text, uint32_t max_value) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<uint32_t>(c - '0');
  }
  if (v > max_value) return std::nullopt;
  return v;
}

std::string format_octal(uint32_t mode, int width) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + (mode & 7)));
    mode >>= 3;
  } while (mode);
  while (static_cast<int>(digits.size()) < width) digits.insert(digits.begin(), '0');
  return digits;
}

std::optional<int64_t> parse_int(std::string_view text, int64_t min, int64_t max) {
  if (text.empty()) return std::nullopt;
  std::string_view s = text;
  if (s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  if (v < min || v > max) return std::nullopt;
  return v;
}

std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view text) {
  constexpr uint64_t kMaxCpu = 8191;  // CONFIG_NR_CPUS upper bound on x86_64
  std::vector<unsigned> cpus;
  std::string_view s = text;
  if (s.empty()) return std::nullopt;
  while (true) {
    auto first = take_digits(s);
    if (!first || *first > kMaxCpu) return std::nullopt;
    uint64_t last = *first;
    if (!s.empty() && s.front() == '-') {
      s.remove_prefix(1);
      auto l = take_digits(s);
      if (!l || *l > kMaxCpu || *l < *first) return std::nullopt;
      last = *l;
    }
    for (uint64_t c = *first; c <= last; ++c) cpus.push_back(static_cast<unsigned>(c));
    if (s.empty()) break;
    if (s.front() != ',') return std::nullopt;
    s.remove_prefix(1);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

}  // namespace ctrun
