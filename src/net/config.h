// The pure half of networking: interface names and the files a container's
// network keys become. Unit-tested; no system calls.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/netaddr.h"

namespace ctrun::net {

// The host side of a container's veth: "ve-" + the name when that fits in
// the kernel's 15 bytes, else "ve-" + its first 4 bytes + "-" + 7 hex digits
// of the FNV-1a hash of the whole name: stable across runs and machines, and
// two long names that share a prefix still differ. A collision that remains
// (1 in 2^28) is refused at launch, never shared.
std::string veth_host_name(std::string_view container);

// /etc/resolv.conf with one nameserver line per address.
std::string resolv_conf(const std::vector<IpAddress>& servers);

// /etc/hosts: localhost, the container's own name (on its first address, or
// 127.0.1.1 as Debian does without one), then the manifest's entries.
std::string hosts_file(const std::string& own_name, const std::vector<Cidr>& own_addresses,
                       const std::vector<std::pair<std::string, IpAddress>>& entries);

}  // namespace ctrun::net
