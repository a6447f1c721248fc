#include "net/config.h"

#include <cstdint>
#include <cstdio>

namespace ctrun::net {

std::string veth_host_name(std::string_view container) {
  constexpr size_t kMax = 15;  // IFNAMSIZ - 1
  std::string name = "ve-" + std::string(container);
  if (name.size() <= kMax) return name;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : container) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "%07llx", static_cast<unsigned long long>(h & 0xfffffff));
  return "ve-" + std::string(container.substr(0, 4)) + "-" + hex;
}

std::string resolv_conf(const std::vector<IpAddress>& servers) {
  std::string out = "# written by ctrun from network.dns\n";
  for (const auto& s : servers) out += "nameserver " + format_ip(s) + "\n";
  return out;
}

std::string hosts_file(const std::string& own_name, const std::vector<Cidr>& own_addresses,
                       const std::vector<std::pair<std::string, IpAddress>>& entries) {
  std::string out = "# written by ctrun from network.hosts\n";
  out += "127.0.0.1\tlocalhost\n";
  out += "::1\tlocalhost ip6-localhost ip6-loopback\n";
  std::string own = "127.0.1.1";
  if (!own_addresses.empty()) own = format_ip(own_addresses.front().address);
  out += own + "\t" + own_name + "\n";
  for (const auto& [host, ip] : entries) out += format_ip(ip) + "\t" + host + "\n";
  return out;
}

}  // namespace ctrun::net
