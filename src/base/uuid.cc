#include "base/uuid.h"

#include <sys/random.h>

#include <cerrno>

namespace ctrun {

std::optional<Id128> parse_id128(std::string_view t) {
  bool uuid = t.size() == 36;
  if (!uuid && t.size() != 32) return std::nullopt;
  Id128 id{};
  size_t digit = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (uuid && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return std::nullopt;
    id[digit / 2] = static_cast<uint8_t>(id[digit / 2] | (digit % 2 ? v : v << 4));
    ++digit;
  }
  return id;
}

bool is_null(const Id128& id) {
  for (uint8_t b : id) {
    if (b) return false;
  }
  return true;
}

std::string format_id128(const Id128& id) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::string format_uuid(const Id128& id) {
  std::string h = format_id128(id);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Id128 random_id128() {
  Id128 id{};
  size_t got = 0;
  while (got < id.size()) {
    ssize_t n = getrandom(id.data() + got, id.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // cannot happen for 16 bytes once the pool is ready
    got += static_cast<size_t>(n);
  }
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);  // version 4
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return id;
}

}  // namespace ctrun
