// IPv4 and IPv6 addresses and prefixes, parsed strictly with inet_pton.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctrun {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Cidr {
  IpAddress address;
  int prefix = 0;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

std::optional<IpAddress> parse_ip(std::string_view text);
// "10.0.3.2/24" or "fd00::2/64"; the prefix is required.
std::optional<Cidr> parse_cidr(std::string_view text);

std::string format_ip(const IpAddress& ip);
std::string format_cidr(const Cidr& c);

// True when `ip` lies in the network of `net`.
bool cidr_contains(const Cidr& net, const IpAddress& ip);

}  // namespace ctrun
