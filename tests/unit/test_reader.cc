#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

#include "manifest/emit.h"
#include "manifest/schema.h"
#include "reader_helpers.h"

using namespace ctrun;
using namespace ctrun::manifest;
using ctrun::testing::base;
using ctrun::testing::read;

TEST_CASE("defaults of a minimal manifest") {
  auto r = read(base());
  REQUIRE_MESSAGE(r.valid, r.errors);
  const Manifest& m = r.m;
  CHECK(m.name == "t");
  CHECK(m.hostname == "t");
  CHECK(m.rootfs.path == "/srv/app/root");
  CHECK(m.process.cwd == "/");
  CHECK(m.process.user == "root");
  CHECK(m.process.umask == 022);
  CHECK(m.process.no_new_privileges);
  CHECK(m.process.terminal == Terminal::auto_);
  CHECK(m.namespaces.pid.mode == NamespaceMode::Mode::create);
  CHECK(m.namespaces.user.mode == NamespaceMode::Mode::host);
  CHECK(m.namespaces.time.mode == NamespaceMode::Mode::host);
  CHECK(m.network.mode == NetworkMode::none);
  CHECK(m.systemd.register_ == Register::auto_);
  CHECK(m.systemd.slice == "machine.slice");
  CHECK(m.stop.signal == SIGTERM);
  CHECK(m.stop.timeout_us == 10'000'000);
  CHECK(m.seccomp.profile == "default");
  CHECK_FALSE(m.resources.memory_max);
}

TEST_CASE("the name defaults to the file name, and must be valid") {
  auto r = read("version: 1\nrootfs: {host: true}\nprocess: {args: [sh]}\n");
  CHECK(r.m.name == "t");
  auto bad = read("version: 1\nname: a/b\nrootfs: {host: true}\nprocess: {args: [sh]}\n");
  CHECK(bad.errors.find("name: \"a/b\" is not a valid name") != std::string::npos);
  for (const char* n : {"..", ".", "a b", ""}) {
    auto v = read("version: 1\nname: \"" + std::string(n) + "\"\nrootfs: {host: true}\nprocess: {args: [sh]}\n");
    CAPTURE(n);
    CHECK_FALSE(v.valid);
  }
  CHECK(read("version: 1\nname: " + std::string(64, 'a') + "\nrootfs: {host: true}\nprocess: {args: [sh]}\n").valid);
  CHECK_FALSE(read("version: 1\nname: " + std::string(65, 'a') + "\nrootfs: {host: true}\nprocess: {args: [sh]}\n").valid);
}

TEST_CASE("a name that is no host name needs an explicit hostname") {
  // Found by the fuzzer: the default hostname must itself be valid.
  auto r = read("version: 1\nname: .net.\nrootfs: {path: /r}\nprocess: {args: [sh]}\n");
  CHECK(r.errors ==
        "t.yaml:2:1: name: \".net.\" is not a valid host name, so it cannot be the default hostname; set hostname:\n");
  CHECK(read("version: 1\nname: .net.\nhostname: net\nrootfs: {path: /r}\nprocess: {args: [sh]}\n").valid);
}

TEST_CASE("boot changes the default stop signal") {
  auto r = read("version: 1\nrootfs: {path: /r}\nboot: true\n");
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.stop.signal == SIGRTMIN + 3);
}

TEST_CASE("namespaces.net false makes host networking the default mode") {
  auto r = read(base("namespaces: {net: false}\n"));
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.network.mode == NetworkMode::host);
}

TEST_CASE("variables expand from the environment") {
  auto text = "version: 1\nrootfs: {path: /r}\nhostname: ${H}\nresources: {memory: {max: \"${MEM:-256M}\"}}\n"
              "process:\n  args: [a, \"$$HOME\", \"x${E:-}y\", \"${H:-zz}\"]\n";
  auto r = read(text, {}, {{"H", "box"}});
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.hostname == "box");
  CHECK(r.m.resources.memory_max->bytes == 256ULL << 20);
  CHECK(r.m.process.args == std::vector<std::string>{"a", "$HOME", "xy", "box"});
  auto bad = read("version: 1\nrootfs: {path: /r}\nprocess:\n  args: [\"${NOPE}\"]\n");
  CHECK(bad.errors ==
        "t.yaml:4:10: process.args[0]: environment variable NOPE is not set (write ${NOPE:-default} to give a default)\n");
  auto syntax = read("version: 1\nrootfs: {path: /r}\nprocess:\n  args: [\"${A\", \"${1x}\"]\n");
  CHECK(syntax.errors.find("unterminated ${") != std::string::npos);
  CHECK(syntax.errors.find("is not a variable reference") != std::string::npos);
}

TEST_CASE("relative paths resolve against the manifest's directory") {
  auto r = read(base("mounts:\n  - {type: bind, source: data, target: /data}\n"
                     "  - {type: overlay, lower: [../base, /abs], upper: ./up, work: wk, target: /opt}\n"
                     "seccomp: {profile: ./p.json}\n"));
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.mounts[0].source == "/srv/app/data");
  CHECK(r.m.mounts[1].lower == std::vector<std::string>{"/srv/app/../base", "/abs"});
  CHECK(r.m.mounts[1].upper == "/srv/app/up");
  CHECK(r.m.seccomp.profile == "/srv/app/p.json");
}

TEST_CASE("--set overrides, adds and removes keys, with command-line positions") {
  auto r = read(base("resources: {memory: {max: 1G}}\n"),
                {"resources.memory.max=256M", "hostname=other", "network.dns=[1.1.1.1]", "mounts=[]"});
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.resources.memory_max->bytes == 256ULL << 20);
  CHECK(r.m.hostname == "other");
  CHECK(r.m.network.dns.size() == 1);
  auto removed = read(base("resources: {memory: {max: 1G}}\n"), {"resources.memory.max="});
  REQUIRE_MESSAGE(removed.valid, removed.errors);
  CHECK_FALSE(removed.m.resources.memory_max);
  auto bad = read(base(), {"hostname=ok", "resources.memory.max=12Q"});
  CHECK(bad.errors == "<command line>:2:1: resources.memory.max: \"12Q\" is not a size (examples: 512M, 2G, max)\n");
  auto unknown = read(base(), {"resources.memroy.max=1G"});
  CHECK(unknown.errors == "<command line>:1:1: resources.memroy.max: unknown key (did you mean \"resources.memory.max\"?)\n");
  auto noeq = read(base(), {"hostname"});
  CHECK(noeq.errors == "<command line>:1:1: --set needs key.path=value, not \"hostname\"\n");
  auto syntax = read(base(), {"process.args=[a, b"});
  CHECK(syntax.errors.find("<command line>:1:") == 0);
  auto index = read(base("mounts:\n  - {type: tmpfs, target: /tmp}\n"), {"mounts[0].size=64M", "mounts[3].size=1M"});
  CHECK(index.errors == "<command line>:2:1: mounts[3].size: mounts[3] does not exist in the manifest\n");
  CHECK(index.m.mounts[0].size->bytes == 64ULL << 20);
}

TEST_CASE("unknown keys get suggestions from siblings or from elsewhere in the schema") {
  auto r = read(base("resources:\n  memroy: {max: 1G}\nargs: [x]\nhostnmae: a\nzzz: 1\nmount: true\n"));
  CHECK(r.errors ==
        "t.yaml:8:3: resources.memroy: unknown key (did you mean \"memory\"?)\n"
        "t.yaml:9:1: args: unknown key (did you mean \"process.args\"?)\n"
        "t.yaml:10:1: hostnmae: unknown key (did you mean \"hostname\"?)\n"
        "t.yaml:11:1: zzz: unknown key\n"
        "t.yaml:12:1: mount: unknown key (the mount namespace is always new)\n");
}

TEST_CASE("type errors are all reported in one run") {
  auto r = read("version: 1\nrootfs: {path: /r, readonly: yes}\nprocess:\n  args: /bin/sh\n  umask: 999\n"
                "  oom_score_adjust: 2000\n  terminal: maybe\n  env: [A]\nnamespaces: {pid: maybe}\n"
                "resources: {cpu: {max: 0, cpuset: x, weight: 0}, pids: {max: 0}}\n");
  CHECK(r.errors ==
        "t.yaml:2:20: rootfs.readonly: \"yes\" is not a boolean (true or false)\n"
        "t.yaml:4:3: process.args: must be a list of strings ([a, b])\n"
        "t.yaml:5:3: process.umask: \"999\" is not an octal mode from 0000 to 0777\n"
        "t.yaml:6:3: process.oom_score_adjust: 2000 is out of range (-1000 to 1000)\n"
        "t.yaml:7:3: process.terminal: \"maybe\" is not auto, true or false\n"
        "t.yaml:8:3: process.env: must be a mapping of variable names to strings ({KEY: value})\n"
        "t.yaml:9:14: namespaces.pid: \"maybe\" is neither true, false nor a path to a namespace\n"
        "t.yaml:10:19: resources.cpu.max: \"0\" is out of range (0.01 to 8192 CPUs)\n"
        "t.yaml:10:27: resources.cpu.cpuset: \"x\" is not a CPU list (examples: 0-3, 0,2,4-7)\n"
        "t.yaml:10:38: resources.cpu.weight: 0 is out of range (1 to 10000)\n"
        "t.yaml:10:57: resources.pids.max: \"0\" is not a positive integer or max\n");
}

TEST_CASE("namespaces can be joined by path") {
  auto r = read(base("namespaces: {net: /run/netns/blue, ipc: /proc/1/ns/ipc}\n"));
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.namespaces.net.mode == NamespaceMode::Mode::join);
  CHECK(r.m.namespaces.net.path == "/run/netns/blue");
  CHECK(r.m.network.mode == NetworkMode::none);
}

TEST_CASE("rlimits take one value or [soft, hard]") {
  auto r = read(base("  rlimits: {nofile: [1024, 4096], core: 0, stack: unlimited}\n"));
  REQUIRE_MESSAGE(r.valid, r.errors);
  REQUIRE(r.m.process.rlimits.size() == 3);
  CHECK(r.m.process.rlimits[0].soft == 1024);
  CHECK(r.m.process.rlimits[0].hard == 4096);
  CHECK(r.m.process.rlimits[1].hard == 0);
  auto bad = read(base("  rlimits: {nofle: 1, nproc: [5, 1], core: [1, 2, 3], as: -1}\n"));
  CHECK(bad.errors.find("process.rlimits.nofle: \"nofle\" is not a resource limit") != std::string::npos);
  CHECK(bad.errors.find("(did you mean \"nofile\"?)") != std::string::npos);
  CHECK(bad.errors.find("process.rlimits.nproc: the soft limit is above the hard limit") != std::string::npos);
  CHECK(bad.errors.find("process.rlimits.core: must be a limit or [soft, hard]") != std::string::npos);
  CHECK(bad.errors.find("process.rlimits.as: \"-1\" is not a limit") != std::string::npos);
}

TEST_CASE("capability names are normalised; unknown ones are refused") {
  auto r = read(base("capabilities: {add: [net_admin, CAP_SYS_PTRACE], drop: [MKNOD]}\n"));
  REQUIRE_MESSAGE(r.valid, r.errors);
  CHECK(r.m.capabilities.add == std::vector<int>{12, 19});
  auto bad = read(base("capabilities: {add: [CAP_NET_ADMN]}\n"));
  CHECK(bad.errors ==
        "t.yaml:7:22: capabilities.add[0]: \"CAP_NET_ADMN\" is not a capability known to libcap (did you mean \"CAP_NET_ADMIN\"?)\n");
}

TEST_CASE("enumerations suggest the closest word") {
  auto r = read(base("network: {mode: vet}\n"));
  CHECK(r.errors ==
        "t.yaml:7:11: network.mode: \"vet\" is not one of none, host, veth, bridge, macvlan, ipvlan, interface "
        "(did you mean \"veth\"?)\n");
}

TEST_CASE("null values and wrong shapes") {
  auto r = read("version: 1\nhostname:\nrootfs: {path: [a]}\nprocess: {args: [sh]}\n");
  CHECK(r.errors ==
        "t.yaml:2:1: hostname: has no value (remove the key to get the default)\n"
        "t.yaml:3:10: rootfs.path: must be a path, not a list\n");
  auto dup = read(base("rootfs: {host: true}\n"));
  CHECK(dup.errors == "t.yaml:7:1: rootfs: duplicate key (first given on line 3)\n");
  auto sec = read(base("resources: 5\n"));
  CHECK(sec.errors == "t.yaml:7:1: resources: must be a mapping of keys (memory, cpu, pids, io)\n");
  auto list = read(base("mounts: {type: bind}\ndevices: [5]\n"));
  CHECK(list.errors.find("mounts: must be a list of mappings") != std::string::npos);
  CHECK(list.errors.find("devices[0]: must be a mapping of keys (path, access)") != std::string::npos);
}

namespace {

const char* const kGoodFiles[] = {"all-keys", "boot", "userns", "net-bridge", "net-macvlan", "net-ipvlan", "net-interface"};

std::string slurp(const std::string& name) {
  std::ifstream in(std::string(CTRUN_SOURCE_DIR) + "/tests/data/good/" + name + ".yaml");
  REQUIRE_MESSAGE(in.good(), name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the good manifests together use every key of the schema, and every key is read") {
  // The reader reports "internal error: key accepted but not read" for a key
  // the schema accepts and the reader skips; this test makes both sides meet.
  std::set<std::string> given;
  for (const char* name : kGoodFiles) {
    auto r = read(slurp(name));
    CAPTURE(name);
    REQUIRE_MESSAGE(r.valid, r.errors);
    for (const auto& [path, loc] : r.locs.keys) given.insert(key_pattern(path));
  }
  for (const auto& k : schema()) {
    CAPTURE(k.path);
    CHECK(given.count(std::string(k.path)) == 1);
  }
}

TEST_CASE("the effective manifest reads back to the same values") {
  for (const char* name : kGoodFiles) {
    CAPTURE(name);
    auto first = read(slurp(name));
    REQUIRE_MESSAGE(first.valid, first.errors);
    std::string yaml = emit_yaml(first.m);
    auto second = read(yaml);
    REQUIRE_MESSAGE(second.valid, (second.errors + yaml));
    CHECK(first.m == second.m);
    CHECK(emit_yaml(second.m) == yaml);
  }
}
