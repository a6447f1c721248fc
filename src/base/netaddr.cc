#include "base/netaddr.h"

#include <arpa/inet.h>

#include "base/units.h"

namespace ctrun {

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  std::string_view p = text.substr(slash + 1);
  if (p.empty() || p.size() > 3 || p.front() == '+' || p.front() == '-') return std::nullopt;
  auto prefix = parse_int(p, 0, ip->family == AF_INET ? 32 : 128);
  if (!prefix) return std::nullopt;
  return Cidr{*ip, static_cast<int>(*prefix)};
}

std::string format_ip(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.family, ip.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string format_cidr(const Cidr& c) { return format_ip(c.address) + "/" + std::to_string(c.prefix); }

bool cidr_contains(const Cidr& net, const IpAddress& ip) {
  if (net.address.family != ip.family) return false;
  int bits = net.prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.address.bytes[i] & mask) != (ip.bytes[i] & mask)) return false;
  }
  return true;
}

}  // namespace ctrun
