// Route netlink over libmnl: the few link, address and route requests the
// launcher makes, each one request and its acknowledgement. A socket lives in
// the network namespace it was created in, so one opened "in" the
// container's namespace configures the container from the host's process.
//
// Calls return 0 (or an index) on success and -errno on failure; the
// kernel's own explanation (extended ack, "Unknown device type") of the last
// failure is in error_text().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/netaddr.h"

struct mnl_socket;

namespace ctrun::net {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "veth", "bridge", ... ; empty for a physical device
  bool up = false;
  int master = 0;
  std::string hwaddr;  // raw bytes of IFLA_ADDRESS
  std::string alias;   // IFLA_IFALIAS
};

// An address as a dump reports it.
struct AddrInfo {
  Cidr cidr;
  int scope = 0;
  uint32_t flags = 0;
};

// A socket made in the network namespace of netns_fd (< 0: the caller's;
// entered for the socket() call only: a socket keeps the namespace it was
// made in), or -errno.
int socket_in(int netns_fd, int domain, int type, int protocol);
// Brings up the loopback interface of the namespace of netns_fd, from
// outside it. 0 or -errno.
int set_loopback_up(int netns_fd);

class Rtnl {
 public:
  Rtnl() = default;
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;
  ~Rtnl();

  // A socket in the caller's network namespace (netns_fd < 0), or in the
  // namespace of netns_fd (entered for the socket() call only).
  int open(int netns_fd = -1);

  // The link's index, or -ENODEV.
  int index_of(const std::string& name);
  int link(int index, LinkInfo& out);
  int link(const std::string& name, LinkInfo& out);

  // A veth pair: `name` here, `peer` created directly in peer_netns (so it
  // dies with that namespace), the local side enslaved to master (> 0).
  int add_veth(const std::string& name, const std::string& peer, int peer_netns, int master);
  // A macvlan or ipvlan device on `lower` (an index here) created as `name`
  // directly in netns. mode: IFLA_MACVLAN_MODE or IFLA_IPVLAN_MODE value.
  int add_lower(const std::string& kind, const std::string& name, int lower, int netns, uint32_t mode);
  // A link of `kind` with no settings (a bridge), here.
  int add_link(const std::string& kind, const std::string& name);
  // Moves a link into netns; renamed when new_name is not empty.
  int move(int index, int netns, const std::string& new_name = {});
  int set_up(int index, bool up = true);
  int set_alias(int index, const std::string& alias);
  int remove(int index);

  // IPv6 addresses are added without duplicate address detection, usable at once.
  int add_address(int index, const Cidr& a);
  int addresses(int index, std::vector<AddrInfo>& out);  // index 0: every link's
  int add_default_route(int index, const IpAddress& gateway);

  const std::string& error_text() const { return error_; }

 private:
  // Sends the message in buf_ and reads until its ack (or, for a dump, its
  // end); each reply message goes to on_reply.
  template <typename F>
  int transact(F&& on_reply);
  int transact();

  mnl_socket* nl_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::string error_;
  std::vector<char> buf_;
};

}  // namespace ctrun::net
