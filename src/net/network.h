// The container's network, built by the parent from the host's side once the
// child's network namespace exists, while the child builds its mounts: links
// created or moved in, addresses and routes set inside through a netlink
// socket opened in the container's namespace. An owner of what it made:
// teardown() (also the destructor) deletes the links ctrun created and
// returns moved interfaces with the addresses they had, before the
// namespace goes.
#pragma once

#include <string>
#include <vector>

#include "base/failure.h"
#include "base/fd.h"
#include "base/netaddr.h"
#include "net/rtnl.h"
#include "plan/plan.h"

namespace ctrun::net {

class Network {
 public:
  Network() = default;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network() { teardown(); }

  // container_ns: an fd of the container's network namespace, kept open
  // until teardown so that moved interfaces can still be taken back.
  // container: its name, which marks its veth (alias "ctrun: NAME").
  bool setup(const plan::NetworkPlan& n, const std::string& container, UniqueFd container_ns, Failure& f);
  // Idempotent; problems are printed as warnings (the container is over).
  void teardown();

 private:
  struct Moved {
    std::string name;
    int inner_index = 0;   // its index in the container's namespace
    std::string kind, hwaddr;  // to recognise it there
    bool was_up = false;
    std::vector<AddrInfo> addresses;  // as it had them on the host
  };

  bool veth(const plan::NetworkPlan& n, const std::string& container, Failure& f);
  bool lower(const plan::NetworkPlan& n, Failure& f);
  bool move_in(const plan::NetworkPlan& n, Failure& f);
  bool configure_inside(const plan::NetworkPlan& n, Failure& f);
  void move_back(Moved& m);

  UniqueFd host_ns_, container_ns_;
  Rtnl host_, inside_;
  int host_if_ = 0;        // the host side of our veth, deleted at teardown
  std::string host_if_name_;
  int inner_if_ = 0;       // the created link in the container (macvlan, ipvlan)
  std::vector<Moved> moved_;
};

}  // namespace ctrun::net
