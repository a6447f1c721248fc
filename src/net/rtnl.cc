#include "net/rtnl.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "base/fd.h"

namespace ctrun::net {
namespace {

// libmnl is opened on the first netlink request (dlopen), not linked: most
// containers (network none or host) never make one, and loading a shared
// library costs every start of ctrun about 0.1 ms. The prototypes still come
// from libmnl's header, so every call is type-checked.
#define CTRUN_MNL_FUNCTIONS(X) \
  X(attr_get_payload) \
  X(attr_get_payload_len) \
  X(attr_get_str) \
  X(attr_get_type) \
  X(attr_get_u32) \
  X(attr_nest_end) \
  X(attr_nest_start) \
  X(attr_parse) \
  X(attr_parse_nested) \
  X(attr_put) \
  X(attr_put_strz) \
  X(attr_put_u16) \
  X(attr_put_u32) \
  X(cb_run2) \
  X(nlmsg_get_payload) \
  X(nlmsg_get_payload_tail) \
  X(nlmsg_put_extra_header) \
  X(nlmsg_put_header) \
  X(socket_bind) \
  X(socket_close) \
  X(socket_fdopen) \
  X(socket_get_portid) \
  X(socket_recvfrom) \
  X(socket_sendto) \
  X(socket_setsockopt)

struct Mnl {
#define CTRUN_MNL_POINTER(name) decltype(&::mnl_##name) name = nullptr;
  CTRUN_MNL_FUNCTIONS(CTRUN_MNL_POINTER)
#undef CTRUN_MNL_POINTER
};

Mnl g_mnl;

// Whether libmnl is loaded with every function; once only.
bool load_mnl() {
  static const bool loaded = [] {
    void* handle = dlopen("libmnl.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) return false;
    bool all = true;
#define CTRUN_MNL_SYMBOL(name)                                                                      \
  g_mnl.name = reinterpret_cast<decltype(g_mnl.name)>(dlsym(handle, "mnl_" #name)); \
  all = all && g_mnl.name != nullptr;
    CTRUN_MNL_FUNCTIONS(CTRUN_MNL_SYMBOL)
#undef CTRUN_MNL_SYMBOL
    return all;
  }();
  return loaded;
}

// The loaded library: only called on behalf of an Rtnl that opened.
const Mnl& lib() { return g_mnl; }

constexpr uint16_t kCreate = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
constexpr uint16_t kAcked = NLM_F_REQUEST | NLM_F_ACK;

nlmsghdr* start(std::vector<char>& buf, uint16_t type, uint16_t flags) {
  std::fill(buf.begin(), buf.end(), 0);
  nlmsghdr* nlh = lib().nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  return nlh;
}

ifinfomsg* link_header(nlmsghdr* nlh, int index) {
  auto* ifi = static_cast<ifinfomsg*>(lib().nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return ifi;
}

size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

// The attributes of one message, by type (nested ones parsed on request).
struct Attrs {
  const nlattr* at[256] = {};
  static int collect(const nlattr* a, void* data) {
    auto* self = static_cast<Attrs*>(data);
    uint16_t type = lib().attr_get_type(a);
    if (type < std::size(self->at)) self->at[type] = a;
    return MNL_CB_OK;
  }
};

}  // namespace

Rtnl::~Rtnl() {
  if (nl_) lib().socket_close(nl_);
}

int socket_in(int netns_fd, int domain, int type, int protocol) {
  UniqueFd home;
  if (netns_fd >= 0) {
    home.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home) return -errno;
    if (setns(netns_fd, CLONE_NEWNET) < 0) return -errno;
  }
  int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
  int err = errno;
  // Back home at once: nothing else of ctrun's may run in the container's
  // namespace. Failing to get back would leave ctrun astray: abort.
  if (home && setns(home.get(), CLONE_NEWNET) < 0) abort();
  return fd >= 0 ? fd : -err;
}

int set_loopback_up(int netns_fd) {
  int s = socket_in(netns_fd, AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return s;
  UniqueFd sock(s);
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -errno;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ioctl(s, SIOCSIFFLAGS, &ifr) == 0 ? 0 : -errno;
}

int Rtnl::open(int netns_fd) {
  if (!load_mnl()) return -ELIBACC;
  buf_.assign(MNL_SOCKET_BUFFER_SIZE, 0);
  int fd = socket_in(netns_fd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (fd < 0) return fd;
  nl_ = lib().socket_fdopen(fd);
  if (!nl_) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  int one = 1;
  lib().socket_setsockopt(nl_, NETLINK_EXT_ACK, &one, sizeof one);
  lib().socket_setsockopt(nl_, NETLINK_CAP_ACK, &one, sizeof one);
  if (lib().socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) return -errno;
  portid_ = lib().socket_get_portid(nl_);
  return 0;
}

template <typename F>
int Rtnl::transact(F&& on_reply) {
  if (!nl_) return -EBADF;
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data());
  nlh->nlmsg_seq = ++seq_;
  error_.clear();
  if (lib().socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return -errno;
  struct Ctx {
    F* reply;
    std::string* error;
    int err = 0;
  } ctx{&on_reply, &error_};
  auto data_cb = [](const nlmsghdr* m, void* data) -> int {
    auto* c = static_cast<Ctx*>(data);
    return (*c->reply)(m) ? MNL_CB_OK : MNL_CB_ERROR;
  };
  // NLMSG_ERROR: 0 is the ack; else the errno, with the kernel's message
  // when it sent one (extended ack).
  auto error_cb = [](const nlmsghdr* m, void* data) -> int {
    auto* c = static_cast<Ctx*>(data);
    const auto* e = static_cast<const nlmsgerr*>(lib().nlmsg_get_payload(m));
    if (e->error == 0) return MNL_CB_STOP;
    c->err = e->error;
    if (m->nlmsg_flags & NLM_F_ACK_TLVS) {
      size_t off = sizeof(nlmsgerr);
      if (!(m->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - sizeof(nlmsghdr);
      Attrs a;
      if (lib().attr_parse(m, static_cast<unsigned>(off), Attrs::collect, &a) >= 0 && a.at[NLMSGERR_ATTR_MSG]) {
        *c->error = lib().attr_get_str(a.at[NLMSGERR_ATTR_MSG]);
      }
    }
    return MNL_CB_ERROR;
  };
  // Every control type handled: libmnl skips a type whose entry is null.
  mnl_cb_t ctl[NLMSG_MIN_TYPE] = {};
  ctl[NLMSG_NOOP] = [](const nlmsghdr*, void*) { return MNL_CB_OK; };
  ctl[NLMSG_ERROR] = error_cb;
  ctl[NLMSG_DONE] = [](const nlmsghdr*, void*) { return MNL_CB_STOP; };
  ctl[NLMSG_OVERRUN] = [](const nlmsghdr*, void* data) {
    static_cast<Ctx*>(data)->err = -EOVERFLOW;
    return MNL_CB_ERROR;
  };
  std::vector<char> in(32768);  // a dump part is at most 32 KiB
  while (true) {
    ssize_t n = lib().socket_recvfrom(nl_, in.data(), in.size());
    if (n < 0) return -errno;
    int rc = lib().cb_run2(in.data(), static_cast<size_t>(n), seq_, portid_, data_cb, &ctx, ctl, NLMSG_MIN_TYPE);
    if (rc == MNL_CB_ERROR) return ctx.err ? ctx.err : (errno ? -errno : -EPROTO);
    if (rc <= MNL_CB_STOP) return 0;
  }
}

int Rtnl::transact() {
  return transact([](const nlmsghdr*) { return true; });
}

namespace {

bool parse_link(const nlmsghdr* m, LinkInfo& out) {
  if (m->nlmsg_type != RTM_NEWLINK) return true;
  const auto* ifi = static_cast<const ifinfomsg*>(lib().nlmsg_get_payload(m));
  Attrs a;
  lib().attr_parse(m, sizeof(ifinfomsg), Attrs::collect, &a);
  out.index = ifi->ifi_index;
  out.up = (ifi->ifi_flags & IFF_UP) != 0;
  if (a.at[IFLA_IFNAME]) out.name = lib().attr_get_str(a.at[IFLA_IFNAME]);
  if (a.at[IFLA_IFALIAS]) out.alias = lib().attr_get_str(a.at[IFLA_IFALIAS]);
  if (a.at[IFLA_MASTER]) out.master = static_cast<int>(lib().attr_get_u32(a.at[IFLA_MASTER]));
  if (a.at[IFLA_ADDRESS]) {
    out.hwaddr.assign(static_cast<const char*>(lib().attr_get_payload(a.at[IFLA_ADDRESS])),
                      lib().attr_get_payload_len(a.at[IFLA_ADDRESS]));
  }
  if (a.at[IFLA_LINKINFO]) {
    Attrs info;
    lib().attr_parse_nested(a.at[IFLA_LINKINFO], Attrs::collect, &info);
    if (info.at[IFLA_INFO_KIND]) out.kind = lib().attr_get_str(info.at[IFLA_INFO_KIND]);
  }
  return true;
}

}  // namespace

int Rtnl::link(int index, LinkInfo& out) {
  nlmsghdr* nlh = start(buf_, RTM_GETLINK, kAcked);  // the reply, then an ack
  link_header(nlh, index);
  return transact([&](const nlmsghdr* m) { return parse_link(m, out); });
}

int Rtnl::link(const std::string& name, LinkInfo& out) {
  nlmsghdr* nlh = start(buf_, RTM_GETLINK, kAcked);  // the reply, then an ack
  link_header(nlh, 0);
  lib().attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  return transact([&](const nlmsghdr* m) { return parse_link(m, out); });
}

int Rtnl::index_of(const std::string& name) {
  LinkInfo l;
  int rc = link(name, l);
  return rc < 0 ? rc : l.index;
}

int Rtnl::add_veth(const std::string& name, const std::string& peer, int peer_netns, int master) {
  nlmsghdr* nlh = start(buf_, RTM_NEWLINK, kCreate);
  link_header(nlh, 0);
  lib().attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  if (master > 0) lib().attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(master));
  nlattr* info = lib().attr_nest_start(nlh, IFLA_LINKINFO);
  lib().attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = lib().attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer_info = lib().attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer is a whole link request: its ifinfomsg, then its attributes.
  auto* ifi = static_cast<ifinfomsg*>(lib().nlmsg_get_payload_tail(nlh));
  std::memset(ifi, 0, sizeof *ifi);
  nlh->nlmsg_len += MNL_ALIGN(sizeof *ifi);
  lib().attr_put_strz(nlh, IFLA_IFNAME, peer.c_str());
  lib().attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns));
  lib().attr_nest_end(nlh, peer_info);
  lib().attr_nest_end(nlh, data);
  lib().attr_nest_end(nlh, info);
  return transact();
}

int Rtnl::add_lower(const std::string& kind, const std::string& name, int lower, int netns, uint32_t mode) {
  nlmsghdr* nlh = start(buf_, RTM_NEWLINK, kCreate);
  link_header(nlh, 0);
  lib().attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  lib().attr_put_u32(nlh, IFLA_LINK, static_cast<uint32_t>(lower));
  lib().attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(netns));
  nlattr* info = lib().attr_nest_start(nlh, IFLA_LINKINFO);
  lib().attr_put_strz(nlh, IFLA_INFO_KIND, kind.c_str());
  nlattr* data = lib().attr_nest_start(nlh, IFLA_INFO_DATA);
  if (kind == "ipvlan") lib().attr_put_u16(nlh, IFLA_IPVLAN_MODE, static_cast<uint16_t>(mode));
  else lib().attr_put_u32(nlh, IFLA_MACVLAN_MODE, mode);
  lib().attr_nest_end(nlh, data);
  lib().attr_nest_end(nlh, info);
  return transact();
}

int Rtnl::add_link(const std::string& kind, const std::string& name) {
  nlmsghdr* nlh = start(buf_, RTM_NEWLINK, kCreate);
  link_header(nlh, 0);
  lib().attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  nlattr* info = lib().attr_nest_start(nlh, IFLA_LINKINFO);
  lib().attr_put_strz(nlh, IFLA_INFO_KIND, kind.c_str());
  lib().attr_nest_end(nlh, info);
  return transact();
}

int Rtnl::move(int index, int netns, const std::string& new_name) {
  nlmsghdr* nlh = start(buf_, RTM_NEWLINK, kAcked);
  link_header(nlh, index);
  lib().attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(netns));
  if (!new_name.empty()) lib().attr_put_strz(nlh, IFLA_IFNAME, new_name.c_str());
  return transact();
}

int Rtnl::set_up(int index, bool up) {
  nlmsghdr* nlh = start(buf_, RTM_NEWLINK, kAcked);
  ifinfomsg* ifi = link_header(nlh, index);
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = up ? IFF_UP : 0;
  return transact();
}

int Rtnl::set_alias(int index, const std::string& alias) {
  nlmsghdr* nlh = start(buf_, RTM_NEWLINK, kAcked);
  link_header(nlh, index);
  lib().attr_put_strz(nlh, IFLA_IFALIAS, alias.c_str());
  return transact();
}

int Rtnl::remove(int index) {
  nlmsghdr* nlh = start(buf_, RTM_DELLINK, kAcked);
  link_header(nlh, index);
  return transact();
}

int Rtnl::add_address(int index, const Cidr& a) {
  nlmsghdr* nlh = start(buf_, RTM_NEWADDR, kCreate);
  auto* ifa = static_cast<ifaddrmsg*>(lib().nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  int family = a.address.family;
  ifa->ifa_family = static_cast<uint8_t>(family);
  ifa->ifa_prefixlen = static_cast<uint8_t>(a.prefix);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(index);
  size_t len = addr_len(family);
  lib().attr_put(nlh, IFA_LOCAL, len, a.address.bytes.data());
  lib().attr_put(nlh, IFA_ADDRESS, len, a.address.bytes.data());
  if (family == AF_INET6) {
    // No duplicate address detection: a tentative address cannot be used
    // for the second or so DAD takes, and the payload starts right away.
    lib().attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  } else if (a.prefix < 31) {
    IpAddress brd = a.address;
    uint32_t host_bits = a.prefix == 0 ? ~0u : (1u << (32 - a.prefix)) - 1;
    uint32_t v;
    std::memcpy(&v, brd.bytes.data(), 4);
    v = htonl(ntohl(v) | host_bits);
    lib().attr_put(nlh, IFA_BROADCAST, 4, &v);
  }
  return transact();
}

int Rtnl::addresses(int index, std::vector<AddrInfo>& out) {
  nlmsghdr* nlh = start(buf_, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  auto* ifa = static_cast<ifaddrmsg*>(lib().nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_UNSPEC;
  return transact([&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWADDR) return true;
    const auto* r = static_cast<const ifaddrmsg*>(lib().nlmsg_get_payload(m));
    if ((index > 0 && static_cast<int>(r->ifa_index) != index) || (r->ifa_family != AF_INET && r->ifa_family != AF_INET6)) {
      return true;
    }
    Attrs a;
    lib().attr_parse(m, sizeof(ifaddrmsg), Attrs::collect, &a);
    const nlattr* at = a.at[IFA_LOCAL] ? a.at[IFA_LOCAL] : a.at[IFA_ADDRESS];
    if (!at || lib().attr_get_payload_len(at) != addr_len(r->ifa_family)) return true;
    AddrInfo info;
    info.cidr.address.family = r->ifa_family;
    std::memcpy(info.cidr.address.bytes.data(), lib().attr_get_payload(at), addr_len(r->ifa_family));
    info.cidr.prefix = r->ifa_prefixlen;
    info.scope = r->ifa_scope;
    info.flags = a.at[IFA_FLAGS] ? lib().attr_get_u32(a.at[IFA_FLAGS]) : r->ifa_flags;
    out.push_back(info);
    return true;
  });
}

int Rtnl::add_default_route(int index, const IpAddress& gateway) {
  nlmsghdr* nlh = start(buf_, RTM_NEWROUTE, kCreate);
  auto* rt = static_cast<rtmsg*>(lib().nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rt->rtm_family = static_cast<uint8_t>(gateway.family);
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_STATIC;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  lib().attr_put(nlh, RTA_GATEWAY, addr_len(gateway.family), gateway.bytes.data());
  lib().attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(index));
  return transact();
}

}  // namespace ctrun::net
