// The pure half of networking: veth names, resolv.conf and hosts contents,
// the network plan of each mode, and how the mount builder binds ctrun's
// files. The netlink half runs in tests/integration/network.sh.
#include <doctest/doctest.h>
#include <linux/if_link.h>
#include <sys/mount.h>

#include <algorithm>
#include <set>

#include "fake_kernel.h"
#include "mount/build.h"
#include "net/config.h"
#include "plan/plan.h"
#include "reader_helpers.h"

using namespace ctrun;

namespace {

ctrun::testing::Planned net_plan(const std::string& network, const std::string& name = "web") {
  return ctrun::testing::plan_text("version: 1\nname: " + name +
                                   "\nrootfs: {path: /srv/root}\nprocess: {args: [/bin/sh]}\nnetwork: " + network + "\n");
}

std::vector<const plan::MountStep*> contents(const plan::LaunchPlan& p) {
  std::vector<const plan::MountStep*> out;
  for (const auto& s : p.mounts) {
    if (s.kind == plan::MountStep::Kind::content) out.push_back(&s);
  }
  return out;
}

}  // namespace

TEST_CASE("veth names: ve-NAME when it fits, else a stable hash in 15 bytes") {
  CHECK(net::veth_host_name("web") == "ve-web");
  CHECK(net::veth_host_name("twelve-chars") == "ve-twelve-chars");  // exactly 15
  std::string long_name = "a-container-with-a-long-name";
  std::string v = net::veth_host_name(long_name);
  CHECK(v.size() == 15);
  CHECK(v.rfind("ve-a-co-", 0) == 0);
  // Stable: the same on every run and machine (FNV-1a of the whole name;
  // the value checked against an independent computation).
  CHECK(v == "ve-a-co-" + v.substr(8));
  CHECK(net::veth_host_name(long_name) == v);
  CHECK(v == "ve-a-co-07d5d70");
  // Names that share a long prefix, or differ only at the end, differ.
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(net::veth_host_name("build-worker-" + std::to_string(i)));
  CHECK(seen.size() == 2000);
  CHECK(net::veth_host_name("thirteen-char") != net::veth_host_name("thirteen-chas"));
}

TEST_CASE("resolv.conf and hosts contents") {
  CHECK(net::resolv_conf({*parse_ip("10.0.3.1"), *parse_ip("fd00::53")}) ==
        "# written by ctrun from network.dns\nnameserver 10.0.3.1\nnameserver fd00::53\n");
  std::string h = net::hosts_file("web", {*parse_cidr("10.0.3.2/24")}, {{"db", *parse_ip("10.0.3.3")}});
  CHECK(h ==
        "# written by ctrun from network.hosts\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "10.0.3.2\tweb\n10.0.3.3\tdb\n");
  // Without an address of its own, the name is on 127.0.1.1 (Debian's way).
  CHECK(net::hosts_file("web", {}, {}).find("127.0.1.1\tweb\n") != std::string::npos);
}

TEST_CASE("network plan of each mode") {
  auto none = net_plan("{mode: none}");
  REQUIRE(none.ok);
  CHECK_FALSE(none.plan.network.active());
  CHECK(none.plan.loopback_up);

  auto veth = net_plan("{mode: veth, address: [10.0.3.2/24, \"fd00::2/64\"], gateway: 10.0.3.1, host_address: 10.0.3.1/24}");
  REQUIRE(veth.ok);
  const auto& v = veth.plan.network;
  CHECK(v.active());
  CHECK(v.host_if == "ve-web");
  CHECK(v.inner_if == "eth0");
  CHECK(v.address.size() == 2);
  CHECK(format_ip(*v.gateway) == "10.0.3.1");
  CHECK(format_cidr(*v.host_address) == "10.0.3.1/24");
  CHECK(veth.plan.loopback_up);
  CHECK(plan::format_plan(veth.plan).find("network: {lo: up, mode: veth, host: ve-web, inside: eth0, address: "
                                          "[10.0.3.2/24, fd00::2/64], gateway: 10.0.3.1, host_address: 10.0.3.1/24}") !=
        std::string::npos);

  auto br = net_plan("{mode: bridge, bridge: br0}", "a-container-with-a-long-name");
  REQUIRE(br.ok);
  CHECK(br.plan.network.bridge == "br0");
  CHECK(br.plan.network.host_if == "ve-a-co-07d5d70");

  auto mv = net_plan("{mode: macvlan, parent: eth1, macvlan_mode: passthru}");
  REQUIRE(mv.ok);
  CHECK(mv.plan.network.kind == "macvlan");
  CHECK(mv.plan.network.kind_mode == MACVLAN_MODE_PASSTHRU);
  CHECK(mv.plan.network.parent == "eth1");
  CHECK(mv.plan.network.host_if.empty());
  CHECK(plan::format_plan(mv.plan).find("macvlan: {parent: eth1, mode: passthru}") != std::string::npos);
  for (auto [word, mode] : {std::pair{"private", MACVLAN_MODE_PRIVATE}, {"vepa", MACVLAN_MODE_VEPA}, {"bridge", MACVLAN_MODE_BRIDGE}}) {
    CHECK(net_plan(std::string("{mode: macvlan, parent: e, macvlan_mode: ") + word + "}").plan.network.kind_mode == mode);
  }

  for (auto [word, mode] : {std::pair{"l2", IPVLAN_MODE_L2}, {"l3", IPVLAN_MODE_L3}, {"l3s", IPVLAN_MODE_L3S}}) {
    auto ip = net_plan(std::string("{mode: ipvlan, parent: e, ipvlan_mode: ") + word + "}");
    REQUIRE(ip.ok);
    CHECK(ip.plan.network.kind == "ipvlan");
    CHECK(ip.plan.network.kind_mode == static_cast<uint32_t>(mode));
  }

  // Moved interfaces keep their names; the addresses go on the first.
  auto mi = net_plan("{mode: interface, interfaces: [eth1, eth2], address: [10.0.4.2/24]}");
  REQUIRE(mi.ok);
  CHECK(mi.plan.network.interfaces == std::vector<std::string>{"eth1", "eth2"});
  CHECK(mi.plan.network.inner_if == "eth1");

  // Host networking: nothing to build, no loopback to bring up.
  auto host = ctrun::testing::plan_text(
      "version: 1\nname: h\nrootfs: {path: /r}\nprocess: {args: [/bin/sh]}\nnamespaces: {net: false}\n");
  REQUIRE(host.ok);
  CHECK_FALSE(host.plan.network.active());
  CHECK_FALSE(host.plan.loopback_up);
  // A joined namespace is used as it is.
  auto joined = ctrun::testing::plan_text(
      "version: 1\nname: j\nrootfs: {path: /r}\nprocess: {args: [/bin/sh]}\nnamespaces: {net: /run/netns/blue}\n");
  REQUIRE(joined.ok);
  CHECK_FALSE(joined.plan.network.active());
  CHECK_FALSE(joined.plan.loopback_up);
}

TEST_CASE("network.dns and network.hosts become read-only content binds") {
  auto p = net_plan("{mode: veth, address: [10.0.3.2/24], dns: [10.0.3.1], hosts: {db: 10.0.3.3}}");
  REQUIRE(p.ok);
  auto c = contents(p.plan);
  REQUIRE(c.size() == 2);
  CHECK(c[0]->target == "/etc/resolv.conf");
  CHECK(c[0]->key == "network.dns");
  CHECK(c[0]->data == net::resolv_conf({*parse_ip("10.0.3.1")}));
  CHECK(c[1]->target == "/etc/hosts");
  CHECK(c[1]->key == "network.hosts");
  CHECK(c[1]->data.find("10.0.3.2\tweb\n10.0.3.3\tdb\n") != std::string::npos);
  // After the user's mounts (an /etc bind cannot cover them), before the masks.
  auto at = [&](const std::string& target) {
    return std::find_if(p.plan.mounts.begin(), p.plan.mounts.end(), [&](const auto& s) { return s.target == target; }) -
           p.plan.mounts.begin();
  };
  CHECK(at("/run") < at("/etc/resolv.conf"));
  CHECK(at("/etc/hosts") < at("/proc/kcore"));
  CHECK(plan::format_plan(p.plan).find("content /etc/resolv.conf (56 bytes, from network.dns)") != std::string::npos);
  // Without the keys the rootfs's own files are used.
  CHECK(contents(net_plan("{mode: veth}").plan).empty());

  // The builder: one small tmpfs, attached below the root first, each file
  // written there and bound read-only over its target.
  ctrun::testing::FakeKernel k;
  Failure f;
  REQUIRE(mount::build_root(p.plan, k, f));
  const auto& calls = k.calls;
  CHECK(calls[1].rfind("new-fs tmpfs mode=700,size=", 0) == 0);
  CHECK(calls[2] == "attach tmpfs at /run/ctrun");
  CHECK(calls[3] == "open-host /srv/root");
  auto from = std::find(calls.begin(), calls.end(), "write /0");
  REQUIRE(from != calls.end());
  std::vector<std::string> expect = {
      "write /0",
      "resolve /0 existing",
      "resolve /etc/resolv.conf file",
      "clone-tree /0",
      "set-attrs tree " + std::to_string(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC),
      "attach tree on /etc/resolv.conf",
      "write /1",
  };
  CHECK(std::vector<std::string>(from, from + static_cast<long>(expect.size())) == expect);
  CHECK(k.open_fds == 0);
}
