#include <doctest/doctest.h>

#include <set>
#include <string_view>

#include "reader_helpers.h"

using ctrun::testing::base;
using ctrun::testing::read;

namespace {

// The errors of a manifest made of `text`, which must parse.
std::string errors_of(const std::string& text) {
  auto r = read(text);
  CHECK(r.status != ctrun::manifest::ReadStatus::unreadable);
  return r.errors;
}

const char* kHead = "version: 1\nname: t\n";

}  // namespace

TEST_CASE("every check is named and listed once") {
  std::set<std::string_view> names;
  for (const auto& c : ctrun::validate::checks()) CHECK(names.insert(c.name).second);
  CHECK(names.size() >= 16);
}

TEST_CASE("rootfs: path xor host; readonly xor ephemeral; / only read-only") {
  CHECK(errors_of(std::string(kHead) + "process: {args: [sh]}\n") ==
        "t.yaml:1:1: rootfs: needs rootfs.path (a directory) or rootfs.host: true\n");
  CHECK(errors_of(std::string(kHead) + "rootfs: {path: /r, host: true}\nprocess: {args: [sh]}\n") ==
        "t.yaml:3:20: rootfs.host: rootfs.path and rootfs.host: true exclude each other; give one\n");
  CHECK(errors_of(std::string(kHead) + "rootfs: {path: /r, readonly: true, ephemeral: true}\nprocess: {args: [sh]}\n") ==
        "t.yaml:3:36: rootfs.ephemeral: rootfs.readonly and rootfs.ephemeral exclude each other\n");
  CHECK(errors_of(std::string(kHead) + "rootfs: {host: true, ephemeral: true}\nprocess: {args: [sh]}\n")
            .find("has no effect with rootfs.host") != std::string::npos);
  CHECK(errors_of(std::string(kHead) + "rootfs: {path: /}\nprocess: {args: [sh]}\n")
            .find("rootfs.path: the host's / as a writable root") != std::string::npos);
  CHECK(read(std::string(kHead) + "rootfs: {path: /, readonly: true}\nprocess: {args: [sh]}\n").valid);
}

TEST_CASE("process: args unless boot; no cwd under /proc") {
  CHECK(errors_of(std::string(kHead) + "rootfs: {path: /r}\n") ==
        "t.yaml:1:1: process.args: is required unless boot is true (the command to run)\n");
  CHECK(errors_of(std::string(kHead) + "rootfs: {path: /r}\nprocess: {args: []}\n") ==
        "t.yaml:4:11: process.args: is required unless boot is true (the command to run)\n");
  CHECK(errors_of(std::string(kHead) + "rootfs: {path: /r}\nprocess: {args: [\"\"]}\n") ==
        "t.yaml:4:18: process.args[0]: the command is empty\n");
  CHECK(errors_of(base("  cwd: /proc/self/fd\n")) ==
        "t.yaml:7:3: process.cwd: a working directory under /proc is refused (it can reach host files)\n");
  CHECK(errors_of(base("  cwd: /a/../b\n")) == "t.yaml:7:3: process.cwd: \"/a/../b\" must not contain \"..\"\n");
}

TEST_CASE("boot needs its own pid, uts and cgroup namespaces") {
  CHECK(errors_of("version: 1\nrootfs: {path: /r}\nboot: true\nnamespaces: {pid: false, cgroup: /proc/1/ns/cgroup}\n") ==
        "t.yaml:3:1: process.no_new_privileges: warning: is true: setuid programs (su, sudo, ping) and file "
        "capabilities do not work in the booted system; set it to false for a full system\n"
        "t.yaml:4:14: namespaces.pid: must be true with boot: an init system needs its own namespace\n"
        "t.yaml:4:26: namespaces.cgroup: must be true with boot: an init system needs its own namespace\n");
}

TEST_CASE("hostname needs a UTS namespace") {
  CHECK(errors_of(base("hostname: x\nnamespaces: {uts: false}\n")) ==
        "t.yaml:7:1: hostname: cannot be set without a new UTS namespace (namespaces.uts: true)\n");
  CHECK(read(base("namespaces: {uts: false}\n")).valid);
}

TEST_CASE("user namespace maps: only with namespaces.user, no overlap, below 2^32 - 1") {
  CHECK(errors_of(base("user_namespace: {uid_map: [{inside: 0, outside: 1, count: 1}]}\n")) ==
        "t.yaml:7:1: user_namespace: is used only with namespaces.user: true\n");
  std::string overlap = base(
      "namespaces: {user: true}\nuser_namespace:\n  uid_map:\n"
      "    - {inside: 0, outside: 100000, count: 1000}\n"
      "    - {inside: 500, outside: 100500, count: 10}\n"
      "    - {inside: 4294967000, outside: 0, count: 1000}\n");
  CHECK(errors_of(overlap) ==
        "t.yaml:11:7: user_namespace.uid_map[1]: inside range overlaps user_namespace.uid_map[0]\n"
        "t.yaml:11:7: user_namespace.uid_map[1]: outside range overlaps user_namespace.uid_map[0]\n"
        "t.yaml:12:7: user_namespace.uid_map[2]: inside ids 4294967000 + 1000 go past 4294967294 (ids must stay below 2^32 - 1)\n");
  CHECK(errors_of(base("namespaces: {user: true}\nuser_namespace: {gid_map: []}\n")) ==
        "t.yaml:8:18: user_namespace.gid_map: needs at least one range\n");
  CHECK(errors_of(base("namespaces: {user: true}\nuser_namespace: {gid_map: [{inside: 0, count: 1}]}\n")) ==
        "t.yaml:8:28: user_namespace.gid_map[0]: needs outside\n");
  CHECK(errors_of(base("namespaces: {user: true}\nuser_namespace: {gid_map: [{inside: 0, outside: 0, count: 4294967296}]}\n"))
            .find("4294967296 is out of range (1 to 4294967295)") != std::string::npos);
}

TEST_CASE("mounts: keys by type, required keys, forbidden targets") {
  CHECK(errors_of(base("mounts:\n  - {type: tmpfs, source: /x, target: /t, lower: [/a]}\n")) ==
        "t.yaml:8:19: mounts[0].source: is not used by type tmpfs\n"
        "t.yaml:8:43: mounts[0].lower: is not used by type tmpfs\n");
  CHECK(errors_of(base("mounts:\n  - {type: bind, target: /t, size: 1M}\n")) ==
        "t.yaml:8:5: mounts[0]: a bind mount needs source\n"
        "t.yaml:8:30: mounts[0].size: is not used by type bind\n");
  CHECK(errors_of(base("mounts:\n  - {type: overlay, target: /t, upper: /u}\n")) ==
        "t.yaml:8:5: mounts[0]: an overlay mount needs lower (one or more directories)\n"
        "t.yaml:8:33: mounts[0].upper: upper and work go together\n");
  CHECK(errors_of(base("mounts:\n  - {type: tmpfs, target: /proc/sys}\n  - {type: tmpfs, target: /}\n")) ==
        "t.yaml:8:19: mounts[0].target: mounts over /proc are refused (they could hide the masks that protect the host)\n"
        "t.yaml:9:19: mounts[1].target: cannot mount over the root (use rootfs)\n");
  CHECK(errors_of(base("mounts:\n  - {source: /a}\n")) ==
        "t.yaml:8:5: mounts[0]: needs type (bind, tmpfs or overlay)\n"
        "t.yaml:8:5: mounts[0]: needs target\n");
  CHECK(errors_of(base("mounts:\n  - {type: tmpfs, target: tmp}\n")) ==
        "t.yaml:8:19: mounts[0].target: \"tmp\" is not an absolute path\n");
}

TEST_CASE("devices: under /dev, once each, valid access") {
  CHECK(errors_of(base("devices:\n  - {path: /etc/passwd}\n  - {path: /dev/fuse}\n  - {path: /dev/fuse, access: rx}\n")) ==
        "t.yaml:8:6: devices[0].path: \"/etc/passwd\" is not under /dev\n"
        "t.yaml:10:6: devices[2].path: \"/dev/fuse\" is listed twice\n"
        "t.yaml:10:23: devices[2].access: \"rx\" is not a combination of r, w and m\n");
}

TEST_CASE("capabilities and system calls cannot be both added and removed") {
  CHECK(errors_of(base("capabilities: {add: [CAP_KILL], drop: [kill]}\n")) ==
        "t.yaml:7:40: capabilities.drop[0]: CAP_KILL is both added and dropped\n");
  CHECK(errors_of(base("seccomp: {allow: [ptrace], deny: [ptrace]}\n")) ==
        "t.yaml:7:35: seccomp.deny[0]: ptrace is both allowed and denied\n");
  CHECK(errors_of(base("seccomp: {profile: unconfined, allow: [ptrace]}\n")) ==
        "t.yaml:7:32: seccomp.allow: has no effect with profile unconfined (everything is allowed)\n");
  CHECK(read(base("seccomp: {profile: unconfined, deny: [ptrace]}\n")).valid);
}

TEST_CASE("network mode and namespace agree") {
  CHECK(errors_of(base("network: {mode: host}\n")) == "t.yaml:7:11: network.mode: host needs namespaces.net: false\n");
  CHECK(errors_of(base("namespaces: {net: false}\nnetwork: {mode: veth}\n")) ==
        "t.yaml:8:11: network.mode: veth needs a network namespace; with namespaces.net: false use network.mode: host\n");
  CHECK(errors_of(base("namespaces: {net: /run/netns/x}\nnetwork: {mode: veth}\n")) ==
        "t.yaml:8:11: network.mode: must be none when namespaces.net joins an existing namespace (it is used as it is)\n");
}

TEST_CASE("network keys belong to their modes") {
  CHECK(errors_of(base("network: {mode: bridge}\n")) == "t.yaml:7:11: network.mode: bridge needs network.bridge\n");
  CHECK(errors_of(base("network: {mode: macvlan}\n")) == "t.yaml:7:11: network.mode: macvlan needs network.parent\n");
  CHECK(errors_of(base("network: {mode: interface}\n")) ==
        "t.yaml:7:11: network.mode: interface needs network.interfaces\n");
  CHECK(errors_of(base("network: {mode: veth, bridge: br0, ipvlan_mode: l3, address: [10.0.0.2/24, 10.0.0.2/24]}\n")) ==
        "t.yaml:7:23: network.bridge: is used only with network.mode bridge, not veth\n"
        "t.yaml:7:36: network.ipvlan_mode: is used only with network.mode ipvlan, not veth\n"
        "t.yaml:7:76: network.address[1]: 10.0.0.2/24 is listed twice\n");
  CHECK(errors_of(base("network: {address: [10.0.0.2/24]}\n")) ==
        "t.yaml:7:11: network.address: is used only with network.mode veth, bridge, macvlan, ipvlan and interface, not none\n");
}

TEST_CASE("the gateway lies in an address's subnet") {
  CHECK(errors_of(base("network: {mode: veth, address: [10.0.0.2/24], gateway: 10.0.1.1}\n")) ==
        "t.yaml:7:47: network.gateway: 10.0.1.1 is not in the subnet of any network.address\n");
  CHECK(errors_of(base("network: {mode: veth, address: [10.0.0.2/24], gateway: \"fd00::1\"}\n")) ==
        "t.yaml:7:47: network.gateway: needs a network.address of the same family (IPv4 or IPv6)\n");
  CHECK(errors_of(base("network: {mode: veth, address: [10.0.0.2/24], host_address: 10.0.0.2/24}\n")) ==
        "t.yaml:7:47: network.host_address: is the same address as network.address[0]\n");
}

TEST_CASE("memory.high above memory.max is a warning, not an error") {
  auto r = read(base("resources: {memory: {max: 1G, high: 2G}}\n"));
  CHECK(r.valid);
  CHECK(r.errors ==
        "t.yaml:7:31: resources.memory.high: warning: is above resources.memory.max, so it never takes effect\n");
}

TEST_CASE("read errors hide rule violations of the same key") {
  auto r = read(base("network: {mode: hots}\n"));
  CHECK(r.errors.find("\"hots\" is not one of") != std::string::npos);
  CHECK(r.errors.find("needs") == std::string::npos);
}
