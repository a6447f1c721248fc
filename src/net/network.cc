#include "net/network.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ctrun::net {
namespace {

using manifest::NetworkMode;

// The kernel's errno, with its own words when it gave some.
Failure failure(const Rtnl& r, int rc, std::string what, std::string key) {
  Failure f{std::move(what), -rc, std::move(key), {}};
  if (!r.error_text().empty()) f.detail = std::string(std::strerror(-rc)) + " (" + r.error_text() + ")";
  return f;
}

void warn(const std::string& text) { std::fprintf(stderr, "ctrun: warning: %s\n", text.c_str()); }

bool link_local(const IpAddress& a) {
  return a.family == AF_INET6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

}  // namespace

bool Network::setup(const plan::NetworkPlan& n, const std::string& container, UniqueFd container_ns, Failure& f) {
  container_ns_ = std::move(container_ns);
  host_ns_.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!host_ns_) return f = {"open ctrun's network namespace", errno, "network.mode", {}}, false;
  if (int rc = host_.open(); rc < 0) return f = {"open a netlink socket", -rc, "network.mode", {}}, false;
  if (int rc = inside_.open(container_ns_.get()); rc < 0) {
    return f = {"open a netlink socket in the container's network namespace", -rc, "network.mode", {}}, false;
  }
  bool ok = false;
  switch (n.mode) {
    case NetworkMode::veth:
    case NetworkMode::bridge: ok = veth(n, container, f); break;
    case NetworkMode::macvlan:
    case NetworkMode::ipvlan: ok = lower(n, f); break;
    case NetworkMode::interface: ok = move_in(n, f); break;
    case NetworkMode::none:
    case NetworkMode::host: return true;
  }
  return ok && configure_inside(n, f);
}

bool Network::veth(const plan::NetworkPlan& n, const std::string& container, Failure& f) {
  int master = 0;
  if (!n.bridge.empty()) {
    LinkInfo br;
    if (int rc = host_.link(n.bridge, br); rc < 0) {
      if (rc == -ENODEV) return f = {"join the bridge " + n.bridge, 0, "network.bridge", "there is no interface " + n.bridge + " on the host"}, false;
      return f = failure(host_, rc, "find the bridge " + n.bridge, "network.bridge"), false;
    }
    if (br.kind != "bridge") {
      std::string what = br.kind.empty() ? "a device" : "a " + br.kind + " device";
      return f = {"join the bridge " + n.bridge, 0, "network.bridge", n.bridge + " is " + what + ", not a bridge"}, false;
    }
    master = br.index;
  }
  // Our veths carry the container's name as their alias. One of ours under
  // our own name (we hold the name lock) is a predecessor's, killed with
  // SIGKILL, that the kernel has not finished deleting: deleted here.
  const std::string alias = "ctrun: " + container;
  const std::string taken = n.host_if + " already exists on the host: a container whose name shortens to the same "
                            "interface name, or a host interface; rename the container";
  LinkInfo old;
  if (host_.link(n.host_if, old) == 0) {
    if (old.kind != "veth" || old.alias != alias) return f = {"create the veth " + n.host_if, 0, "name", taken}, false;
    host_.remove(old.index);
  }
  if (int rc = host_.add_veth(n.host_if, n.inner_if, container_ns_.get(), master); rc < 0) {
    if (rc == -EEXIST) return f = {"create the veth " + n.host_if, 0, "name", taken}, false;
    return f = failure(host_, rc, "create the veth " + n.host_if, "network.mode"), false;
  }
  int index = host_.index_of(n.host_if);
  if (index < 0) return f = failure(host_, index, "find the veth " + n.host_if, "network.mode"), false;
  host_if_ = index;
  host_if_name_ = n.host_if;
  if (int rc = host_.set_alias(index, alias); rc < 0) {
    return f = failure(host_, rc, "name the veth " + n.host_if, "network.mode"), false;
  }
  if (n.host_address) {
    if (int rc = host_.add_address(index, *n.host_address); rc < 0) {
      return f = failure(host_, rc, "add the address " + format_cidr(*n.host_address) + " to " + n.host_if,
                         "network.host_address"),
             false;
    }
  }
  if (int rc = host_.set_up(index); rc < 0) return f = failure(host_, rc, "bring up " + n.host_if, "network.mode"), false;
  return true;
}

bool Network::lower(const plan::NetworkPlan& n, Failure& f) {
  LinkInfo parent;
  if (int rc = host_.link(n.parent, parent); rc < 0) {
    if (rc == -ENODEV) return f = {"create the " + n.kind + " device", 0, "network.parent", "there is no interface " + n.parent + " on the host"}, false;
    return f = failure(host_, rc, "find the interface " + n.parent, "network.parent"), false;
  }
  // Made right in the container's namespace, as its eth0: nothing of it is
  // ever on the host, and it goes with the namespace.
  if (int rc = host_.add_lower(n.kind, n.inner_if, parent.index, container_ns_.get(), n.kind_mode); rc < 0) {
    Failure e = failure(host_, rc, "create the " + n.kind + " device on " + n.parent, "network.mode");
    if (rc == -EOPNOTSUPP) {
      e.detail = "this kernel has no " + n.kind + " support: CONFIG_" +
                 std::string(n.kind == "ipvlan" ? "IPVLAN" : "MACVLAN") + " is not set and no " + n.kind + " module loads";
    }
    return f = e, false;
  }
  inner_if_ = inside_.index_of(n.inner_if);
  if (inner_if_ < 0) return f = failure(inside_, inner_if_, "find " + n.inner_if + " in the container", "network.mode"), false;
  return true;
}

bool Network::move_in(const plan::NetworkPlan& n, Failure& f) {
  for (size_t i = 0; i < n.interfaces.size(); ++i) {
    const std::string& name = n.interfaces[i];
    const std::string key = "network.interfaces[" + std::to_string(i) + "]";
    LinkInfo l;
    if (int rc = host_.link(name, l); rc < 0) {
      if (rc == -ENODEV) return f = {"move " + name + " into the container", 0, key, "there is no interface " + name + " on the host"}, false;
      return f = failure(host_, rc, "find the interface " + name, key), false;
    }
    Moved m;
    m.name = name;
    m.kind = l.kind;
    m.was_up = l.up;
    if (int rc = host_.addresses(l.index, m.addresses); rc < 0) {
      return f = failure(host_, rc, "read the addresses of " + name, key), false;
    }
    if (int rc = host_.move(l.index, container_ns_.get()); rc < 0) {
      return f = failure(host_, rc, "move " + name + " into the container", key), false;
    }
    // Its index may change on the way; its name stays.
    m.inner_index = inside_.index_of(name);
    if (m.inner_index < 0) return f = failure(inside_, m.inner_index, "find " + name + " in the container", key), false;
    moved_.push_back(std::move(m));
  }
  return true;
}

bool Network::configure_inside(const plan::NetworkPlan& n, Failure& f) {
  int index = inside_.index_of(n.inner_if);
  if (index < 0) return f = failure(inside_, index, "find " + n.inner_if + " in the container", "network.mode"), false;
  // Up first: the kernel adds an address's subnet route, which the gateway
  // must be reachable by, only on a link that is up.
  for (const auto& m : moved_) {
    if (int rc = inside_.set_up(m.inner_index); rc < 0) {
      return f = failure(inside_, rc, "bring up " + m.name + " in the container", "network.interfaces"), false;
    }
  }
  if (int rc = inside_.set_up(index); rc < 0) {
    return f = failure(inside_, rc, "bring up " + n.inner_if + " in the container", "network.mode"), false;
  }
  for (size_t i = 0; i < n.address.size(); ++i) {
    if (int rc = inside_.add_address(index, n.address[i]); rc < 0) {
      return f = failure(inside_, rc, "add the address " + format_cidr(n.address[i]) + " to " + n.inner_if,
                         "network.address[" + std::to_string(i) + "]"),
             false;
    }
  }
  if (n.gateway) {
    if (int rc = inside_.add_default_route(index, *n.gateway); rc < 0) {
      return f = failure(inside_, rc, "add the default route via " + format_ip(*n.gateway), "network.gateway"), false;
    }
  }
  return true;
}

void Network::move_back(Moved& m) {
  LinkInfo now;
  if (inside_.link(m.inner_index, now) < 0 || now.kind != m.kind) {
    warn("the interface " + m.name + " is no longer in the container (deleted from inside?); nothing to return");
    return;
  }
  // Renamed inside: it gets its old name back on the way out.
  if (int rc = inside_.move(m.inner_index, host_ns_.get(), now.name != m.name ? m.name : std::string()); rc < 0) {
    warn("could not return " + m.name + " to the host: " + std::strerror(-rc) +
         (inside_.error_text().empty() ? "" : " (" + inside_.error_text() + ")"));
    return;
  }
  int index = host_.index_of(m.name);
  if (index < 0) {
    warn("could not find " + m.name + " back on the host");
    return;
  }
  for (const auto& a : m.addresses) {
    if (link_local(a.cidr.address)) continue;  // the kernel makes those itself
    if (int rc = host_.add_address(index, a.cidr); rc < 0 && rc != -EEXIST) {
      warn("could not give " + m.name + " back its address " + format_cidr(a.cidr) + ": " + std::strerror(-rc));
    }
  }
  if (m.was_up) host_.set_up(index);
}

void Network::teardown() {
  if (!container_ns_ && !host_if_) return;
  // Synchronously, now: the namespace's own end would delete our links too,
  // but later, in the kernel's time, and a restarted container would find
  // its veth name still taken.
  if (inner_if_ > 0) inside_.remove(inner_if_);
  inner_if_ = 0;
  for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) move_back(*it);
  moved_.clear();
  if (host_if_ > 0) {
    LinkInfo l;
    if (host_.link(host_if_, l) == 0 && l.name == host_if_name_) host_.remove(host_if_);
  }
  host_if_ = 0;
  container_ns_.reset();
  host_ns_.reset();
}

}  // namespace ctrun::net
