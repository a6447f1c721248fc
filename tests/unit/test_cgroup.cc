// cgroups: reading the host's hierarchies from mountinfo, the manifest's
// limits in cgroup v1 and v2 terms, and the plan's choices. No root needed.
#include <doctest/doctest.h>
#include <sys/mount.h>

#include <algorithm>

#include "cgroup/driver.h"
#include "cgroup/host.h"
#include "cgroup/settings.h"
#include "plan/plan.h"
#include "reader_helpers.h"

using namespace ctrun;

namespace {

// This development machine's: v1 controllers, a named systemd hierarchy and
// an (almost empty) cgroup2.
const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    // a bind of a sub-cgroup elsewhere is not a hierarchy root
    "90 31 0:32 /some/sub /mnt/x rw,relatime - cgroup cgroup rw,memory\n";

const char* kUnified = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
                       "rw,nsdelegate,memory_recursiveprot\n";

ctrun::testing::Planned plan_on(const cgroup::Host& host, const std::string& extra, const std::string& own_unit = "",
                                bool bus = false) {
  plan::HostFacts facts;
  facts.cgroups = host;
  facts.own_unit = own_unit;
  facts.system_bus = bus;
  return ctrun::testing::plan_text(ctrun::testing::web(extra), facts);
}

}  // namespace

TEST_CASE("the host's hierarchies from mountinfo") {
  auto h = cgroup::parse_host(kHybrid, "hugetlb\n");
  CHECK(h.mode == cgroup::Host::Mode::hybrid);
  CHECK(h.unified == "/sys/fs/cgroup/unified");
  CHECK(h.v1.at("memory") == "/sys/fs/cgroup/memory");
  CHECK(h.v1.at("name=systemd") == "/sys/fs/cgroup/systemd");
  CHECK(h.v2_controllers == std::vector<std::string>{"hugetlb"});
  auto u = cgroup::parse_host(kUnified, "cpuset cpu io memory hugetlb pids rdma misc\n");
  CHECK(u.mode == cgroup::Host::Mode::unified);
  CHECK(u.unified == "/sys/fs/cgroup");
  CHECK(u.v1.empty());
  auto legacy = cgroup::parse_host("32 31 0:29 / /cg/cpu rw - cgroup cgroup rw,cpu,cpuacct\n", "");
  CHECK(legacy.mode == cgroup::Host::Mode::legacy);
  CHECK(legacy.v1.at("cpu") == "/cg/cpu");
  CHECK(legacy.v1.at("cpuacct") == "/cg/cpu");
  CHECK(cgroup::parse_host("", "").mode == cgroup::Host::Mode::none);
  // A mount point with a space, escaped as mountinfo does.
  auto spaced = cgroup::parse_host("41 31 0:38 / /sys/fs/my\\040cg rw - cgroup2 cgroup2 rw\n", "");
  CHECK(spaced.unified == "/sys/fs/my cg");
}

TEST_CASE("a host with cgroup2 alone, from /proc/self/cgroup") {
  CHECK(cgroup::unified_only_path("0::/user.slice/session-1.scope\n") == "/user.slice/session-1.scope");
  CHECK(cgroup::unified_only_path("0::/\n") == "/");
  CHECK(cgroup::unified_only_path("0::/x") == "/x");
  // Any v1 hierarchy (a controller's or a named one): mountinfo decides.
  CHECK(cgroup::unified_only_path("1:name=systemd:/init.scope\n0::/init.scope\n").empty());
  CHECK(cgroup::unified_only_path("12:memory:/\n0::/\n").empty());
  CHECK(cgroup::unified_only_path("0::/a\n1:cpu:/\n").empty());
  CHECK(cgroup::unified_only_path("").empty());
}

TEST_CASE("limits in cgroup v1 terms") {
  auto r = ctrun::testing::read(
      "version: 1\nname: web\nrootfs: {path: /r}\nprocess: {args: [/bin/sh]}\n"
      "resources:\n  memory: {max: 512M, swap_max: 64M}\n  cpu: {weight: 200, max: 1.5, cpuset: \"0-1\"}\n"
      "  pids: {max: 256}\n  io: {weight: 300}\n");
  REQUIRE(r.valid);
  std::vector<std::string> unsupported;
  auto s = cgroup::v1_settings(r.m.resources, unsupported);
  CHECK(unsupported.empty());
  std::vector<std::string> got;
  for (const auto& x : s) got.push_back(x.files.front() + "=" + x.value + " (" + x.key + ")");
  CHECK(got == std::vector<std::string>{
                   "memory.limit_in_bytes=536870912 (resources.memory.max)",
                   "memory.memsw.limit_in_bytes=603979776 (resources.memory.swap_max)",
                   "cpu.shares=2048 (resources.cpu.weight)",
                   "cpu.cfs_period_us=100000 (resources.cpu.max)",
                   "cpu.cfs_quota_us=150000 (resources.cpu.max)",
                   "cpuset.cpus=0-1 (resources.cpu.cpuset)",
                   "pids.max=256 (resources.pids.max)",
                   "blkio.weight=1000 (resources.io.weight)",
               });
  // blkio.bfq.weight, where the host has it instead, takes BFQ's scale.
  CHECK(s.back().files[1] == "blkio.bfq.weight");
  CHECK(s.back().value_for(1) == "300");
  CHECK(cgroup::weight_to_shares(100) == 1024);
  CHECK(cgroup::weight_to_shares(1) == 10);
  CHECK(cgroup::weight_to_shares(10000) == 102400);
  CHECK(cgroup::weight_to_blkio(100) == 500);
  CHECK(cgroup::weight_to_blkio(1) == 10);
  CHECK(cgroup::weight_to_blkio(10000) == 1000);
}

TEST_CASE("limits in cgroup v2 terms") {
  auto r = ctrun::testing::read(
      "version: 1\nname: web\nrootfs: {path: /r}\nprocess: {args: [/bin/sh]}\n"
      "resources:\n  memory: {max: 512M, high: 400M, swap_max: 0}\n  cpu: {weight: 200, max: 0.25}\n"
      "  pids: {max: max}\n  io: {weight: 300}\n");
  REQUIRE(r.valid);
  std::vector<std::string> got;
  for (const auto& x : cgroup::v2_settings(r.m.resources)) got.push_back(x.files.front() + "=" + x.value);
  CHECK(got == std::vector<std::string>{"memory.max=536870912", "memory.high=419430400", "memory.swap.max=0",
                                        "cpu.weight=200", "cpu.max=25000 100000", "pids.max=max",
                                        "io.weight=default 300"});
}

TEST_CASE("plan: what v1 cannot express is refused at its key") {
  auto h = cgroup::parse_host(kHybrid, "");
  auto high = plan_on(h, "resources:\n  memory: {high: 100M}\n");
  CHECK(high.errors == "t.yaml:7:12: resources.memory.high: has no cgroup v1 equivalent (this host runs cgroup v1)\n");
  auto swap = plan_on(h, "resources:\n  memory: {swap_max: 100M}\n");
  CHECK(swap.errors.find("resources.memory.swap_max: needs resources.memory.max on cgroup v1") != std::string::npos);
  auto ok = plan_on(h, "resources:\n  memory: {max: 64M}\n");
  REQUIRE_MESSAGE(ok.ok, ok.errors);
  CHECK(ok.plan.cgroups.enabled);
  CHECK_FALSE(ok.plan.cgroups.v2);
  CHECK(ok.plan.cgroups.slice == "machine.slice");
  CHECK(ok.plan.cgroups.scope == "ctrun-web.scope");
  CHECK(ok.plan.cgroups.oom_hint == "memory.max 64M");
  CHECK(plan::format_plan(ok.plan).find("cgroups: {host: hybrid, path: machine.slice/ctrun-web.scope, "
                                        "memory.limit_in_bytes: 67108864}") != std::string::npos);
}

TEST_CASE("plan: on cgroup v2 the names go through; without cgroups limits are refused") {
  auto u = plan_on(cgroup::parse_host(kUnified, "cpu memory pids"),
                   "resources:\n  memory: {high: 100M}\nsystemd: {slice: test.slice}\n");
  REQUIRE_MESSAGE(u.ok, u.errors);
  CHECK(u.plan.cgroups.v2);
  CHECK(u.plan.cgroups.slice == "test.slice");
  CHECK(u.plan.cgroups.settings.front().files.front() == "memory.high");
  // Its own cgroup2 subtree, read-only, at /sys/fs/cgroup.
  CHECK(std::any_of(u.plan.mounts.begin(), u.plan.mounts.end(), [](const plan::MountStep& s) {
    return s.source == "cgroup2" && s.target == "/sys/fs/cgroup" && (s.attrs & MOUNT_ATTR_RDONLY);
  }));
  auto none = plan_on(cgroup::Host{}, "resources:\n  pids: {max: 10}\n");
  CHECK(none.errors.find("resources: this host has no cgroup file system mounted") != std::string::npos);
  CHECK(plan_on(cgroup::Host{}, "").ok);
}

TEST_CASE("the device allowlist: the container's own nodes") {
  std::vector<std::string> lines;
  for (const auto& d : cgroup::default_devices()) lines.push_back(cgroup::v1_device_line(d));
  CHECK(lines == std::vector<std::string>{"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                                          "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm"});
}

#include "cgroup/bpf_devices.h"

namespace {

// Whether the device program allows one access (it must be runnable).
bool allows(const std::vector<bpf_insn>& prog, char type, unsigned major, unsigned minor, const char* access) {
  auto r = cgroup::run_device_program(prog, type, major, minor, access);
  REQUIRE(r.has_value());
  return *r == 1;
}

}  // namespace

TEST_CASE("the cgroup v2 device program allows exactly its rules") {
  auto prog = cgroup::device_program(cgroup::default_devices());
  CHECK(allows(prog, 'c', 1, 3, "rw"));
  CHECK(allows(prog, 'c', 1, 3, "m"));
  CHECK(allows(prog, 'c', 5, 2, "rw"));
  CHECK(allows(prog, 'c', 136, 0, "rw"));
  CHECK(allows(prog, 'c', 136, 4711, "rw"));
  CHECK_FALSE(allows(prog, 'b', 1, 3, "r"));   // the type counts
  CHECK_FALSE(allows(prog, 'b', 8, 0, "r"));   // a disk
  CHECK_FALSE(allows(prog, 'c', 1, 1, "r"));   // /dev/mem
  CHECK_FALSE(allows(prog, 'c', 10, 229, "rw"));
  CHECK_FALSE(allows(prog, 'c', 4, 1, "w"));   // a host tty
  // Access: a read-only rule takes reads only.
  auto ro = cgroup::device_program({{'c', 1, 5, "r"}, {'b', 7, -1, "rw"}});
  CHECK(allows(ro, 'c', 1, 5, "r"));
  CHECK_FALSE(allows(ro, 'c', 1, 5, "w"));
  CHECK_FALSE(allows(ro, 'c', 1, 5, "m"));
  CHECK(allows(ro, 'b', 7, 0, "rw"));
  CHECK(allows(ro, 'b', 7, 99, "r"));
  CHECK_FALSE(allows(ro, 'b', 7, 0, "m"));
  CHECK_FALSE(allows(ro, 'c', 7, 0, "r"));
  // No rules: nothing.
  CHECK_FALSE(allows(cgroup::device_program({}), 'c', 1, 3, "r"));
}

TEST_CASE("plan: systemd.register: scope passes the limits as unit properties") {
  auto u = plan_on(cgroup::parse_host(kUnified, "cpu memory pids"),
                   "resources:\n  memory: {max: 64M}\n  cpu: {max: 0.5}\n  pids: {max: max}\n"
                   "systemd:\n  register: scope\n  properties: {CPUWeight: 200, Description: x y}\n");
  REQUIRE_MESSAGE(u.ok, u.errors);
  CHECK(u.plan.systemd_scope);
  CHECK(u.plan.cgroups.systemd_scope);
  // systemd writes them; ctrun only makes sure that the host has the files
  CHECK(std::all_of(u.plan.cgroups.settings.begin(), u.plan.cgroups.settings.end(),
                    [](const cgroup::Setting& s) { return s.by_systemd; }));
  CHECK(u.plan.cgroups.settings.size() == 3);
  CHECK(u.plan.scope.unit == "ctrun-web.scope");
  CHECK(u.plan.scope.slice == "machine.slice");
  std::vector<std::string> props;
  for (const auto& p : u.plan.scope.properties) {
    props.push_back(p.name + "=" + (p.type == 't' ? std::to_string(p.t) : p.type == 'b' ? (p.b ? "yes" : "no") : p.s));
  }
  CHECK(props == std::vector<std::string>{"MemoryMax=67108864", "CPUQuotaPerSecUSec=500000",
                                          "TasksMax=18446744073709551615", "TimeoutStopUSec=20000000",
                                          "CPUWeight=200", "Description=x y"});
  // (systemd waits stop.timeout + 10 s for ctrun's stop; systemd.properties may set it)
  auto timeout = plan_on(cgroup::parse_host(kUnified, ""),
                         "stop: {timeout: 1min}\nsystemd:\n  register: scope\n  properties: {TimeoutStopUSec: 5}\n");
  REQUIRE_MESSAGE(timeout.ok, timeout.errors);
  REQUIRE(timeout.plan.scope.properties.size() == 1);
  CHECK(timeout.plan.scope.properties[0].t == 5);
  auto props_alone = plan_on(cgroup::parse_host(kUnified, ""), "systemd: {properties: {CPUWeight: 5}}\n");
  CHECK(props_alone.errors.find("systemd.properties: not supported yet") != std::string::npos);
  // ctrun's own process is one task of the scope: TasksMax is pids.max + 1.
  auto pids = plan_on(cgroup::parse_host(kUnified, "pids"), "resources:\n  pids: {max: 50}\nsystemd: {register: scope}\n");
  REQUIRE_MESSAGE(pids.ok, pids.errors);
  REQUIRE(pids.plan.scope.properties.size() == 2);
  CHECK(pids.plan.scope.properties[0].name == "TasksMax");
  CHECK(pids.plan.scope.properties[0].t == 51);
  CHECK(pids.plan.scope.properties[1].name == "TimeoutStopUSec");
  // AllowedCPUs: a bit mask, CPU 0 in bit 0 of byte 0.
  auto cpus = plan_on(cgroup::parse_host(kUnified, "cpuset"), "resources:\n  cpu: {cpuset: \"0,2-3,9\"}\nsystemd: {register: scope}\n");
  REQUIRE_MESSAGE(cpus.ok, cpus.errors);
  REQUIRE(cpus.plan.scope.properties.size() == 2);
  CHECK(cpus.plan.scope.properties[0].name == "AllowedCPUs");
  CHECK(cpus.plan.scope.properties[0].type == 'y');
  CHECK(cpus.plan.scope.properties[0].s == std::string("\x0d\x02", 2));
}

TEST_CASE("plan: systemd.register: keep-unit sets the limits on ctrun's own service") {
  auto none = plan_on(cgroup::parse_host(kUnified, ""), "systemd: {register: keep-unit}\n");
  CHECK(none.errors.find("systemd.register: keep-unit needs ctrun started by a systemd service as its only process") !=
        std::string::npos);
  auto k = plan_on(cgroup::parse_host(kUnified, "memory"),
                   "resources:\n  memory: {max: 64M}\nsystemd: {register: keep-unit, properties: {CPUWeight: 7}}\n",
                   "ctrun@web.service");
  REQUIRE_MESSAGE(k.ok, k.errors);
  CHECK(k.plan.keep_unit);
  CHECK_FALSE(k.plan.systemd_scope);
  CHECK(k.plan.cgroups.systemd_scope);  // the unit's cgroup, delegated: supervisor/ and payload/
  REQUIRE(k.plan.cgroups.settings.size() == 1);
  CHECK(k.plan.cgroups.settings[0].by_systemd);
  CHECK(k.plan.scope.unit == "ctrun@web.service");
  REQUIRE(k.plan.scope.properties.size() == 2);
  CHECK(k.plan.scope.properties[0].name == "MemoryMax");
  CHECK(k.plan.scope.properties[1].name == "CPUWeight");
  CHECK(plan::format_plan(k.plan).find("cgroups: {host: unified, path: <ctrun@web.service>, systemd: keep-unit, "
                                       "MemoryMax: 67108864, CPUWeight: 7}") != std::string::npos);
}

TEST_CASE("plan: a scope on cgroup v1: systemd maps what it can, ctrun writes memsw and cpuset") {
  auto h = cgroup::parse_host(kHybrid, "");
  auto v1 = plan_on(h,
                    "resources:\n  memory: {max: 64M, swap_max: 16M}\n  cpu: {weight: 50, max: 0.5, cpuset: \"1\"}\n"
                    "  pids: {max: 20}\n  io: {weight: 200}\nsystemd: {register: scope}\n");
  REQUIRE_MESSAGE(v1.ok, v1.errors);
  CHECK(v1.plan.systemd_scope);
  CHECK(v1.plan.cgroups.systemd_scope);
  CHECK_FALSE(v1.plan.cgroups.v2);
  std::vector<std::string> props, files;
  for (const auto& p : v1.plan.scope.properties) props.push_back(p.name + "=" + std::to_string(p.t));
  // no MemorySwapMax, no AllowedCPUs: systemd has no v1 form of them
  CHECK(props == std::vector<std::string>{"MemoryMax=67108864", "CPUWeight=50", "CPUQuotaPerSecUSec=500000",
                                          "TasksMax=21", "IOWeight=200", "TimeoutStopUSec=20000000"});
  for (const auto& s : v1.plan.cgroups.settings) {
    files.push_back((s.by_systemd ? "(systemd) " : "") + s.controller + ":" + s.files.front() + "=" + s.value);
  }
  CHECK(files == std::vector<std::string>{"(systemd) memory:memory.limit_in_bytes=67108864",
                                          "memory:memory.memsw.limit_in_bytes=83886080",
                                          "(systemd) cpu:cpu.shares=512", "(systemd) cpu:cpu.cfs_period_us=100000",
                                          "(systemd) cpu:cpu.cfs_quota_us=50000", "cpuset:cpuset.cpus=1",
                                          "(systemd) pids:pids.max=20", "(systemd) blkio:blkio.weight=1000"});
  // the plan shows what ctrun writes itself beside the properties
  CHECK(plan::format_plan(v1.plan).find("TimeoutStopUSec: 20000000, memory.memsw.limit_in_bytes: 83886080, cpuset.cpus: 1}") !=
        std::string::npos);
  // keep-unit alike; what v1 cannot express is still refused
  auto k = plan_on(h, "resources:\n  memory: {max: 64M}\nsystemd: {register: keep-unit}\n", "ctrun@web.service");
  REQUIRE_MESSAGE(k.ok, k.errors);
  CHECK(k.plan.keep_unit);
  REQUIRE(k.plan.cgroups.settings.size() == 1);
  CHECK(k.plan.cgroups.settings[0].by_systemd);
  REQUIRE(k.plan.scope.properties.size() == 1);
  CHECK(k.plan.scope.properties[0].name == "MemoryMax");
  auto high = plan_on(h, "resources:\n  memory: {high: 100M}\nsystemd: {register: scope}\n");
  CHECK(high.errors.find("resources.memory.high: has no cgroup v1 equivalent") != std::string::npos);
}

TEST_CASE("a process's cgroups from /proc/self/cgroup") {
  auto own = cgroup::own_cgroups(
      "12:pids:/machine.slice/ctrun-web.scope\n"
      "4:cpu,cpuacct:/machine.slice/ctrun-web.scope/supervisor\n"
      "3:freezer:/\n"
      "1:name=systemd:/machine.slice/ctrun-web.scope\n"
      "0::/machine.slice/ctrun-web.scope/supervisor\n");
  CHECK(own.size() == 6);
  CHECK(own["pids"] == "/machine.slice/ctrun-web.scope");
  CHECK(own["cpu"] == "/machine.slice/ctrun-web.scope/supervisor");
  CHECK(own["cpuacct"] == own["cpu"]);
  CHECK(own["freezer"] == "/");
  CHECK(own["name=systemd"] == "/machine.slice/ctrun-web.scope");
  CHECK(own[""] == "/machine.slice/ctrun-web.scope/supervisor");
  CHECK(cgroup::own_cgroups("0::/\n").at("") == "/");
  CHECK(cgroup::own_cgroups("garbage\n").empty());
}

TEST_CASE("plan: systemd.register: auto picks keep-unit, a scope, or the cgroup file system") {
  auto unified = cgroup::parse_host(kUnified, "memory");
  auto service = plan_on(unified, "", "ctrun@web.service", true);
  REQUIRE(service.ok);
  CHECK(service.plan.keep_unit);
  auto bus = plan_on(unified, "", "", true);
  REQUIRE(bus.ok);
  CHECK(bus.plan.systemd_scope);
  CHECK(bus.plan.scope.unit == "ctrun-web.scope");
  auto bare = plan_on(unified, "");
  REQUIRE(bare.ok);
  CHECK_FALSE(bare.plan.systemd_scope);
  CHECK_FALSE(bare.plan.keep_unit);
  // The same on cgroup v1 hosts.
  auto hybrid = cgroup::parse_host(kHybrid, "");
  auto v1_service = plan_on(hybrid, "", "ctrun@web.service", true);
  REQUIRE(v1_service.ok);
  CHECK(v1_service.plan.keep_unit);
  CHECK(v1_service.plan.cgroups.systemd_scope);
  auto v1_bus = plan_on(hybrid, "", "", true);
  REQUIRE(v1_bus.ok);
  CHECK(v1_bus.plan.systemd_scope);
  auto v1_bare = plan_on(hybrid, "");  // this machine: no systemd
  REQUIRE(v1_bare.ok);
  CHECK_FALSE(v1_bare.plan.systemd_scope);
  CHECK_FALSE(v1_bare.plan.keep_unit);
  CHECK_FALSE(v1_bare.plan.cgroups.systemd_scope);
}

TEST_CASE("plan: CAP_SYS_ADMIN and cgroups: a cgroup namespace, and the mount guard where v1 hierarchies exist") {
  auto hybrid = cgroup::parse_host(kHybrid, "");
  auto unified = cgroup::parse_host(kUnified, "cpu memory pids");
  const std::string admin = "capabilities: {add: [CAP_SYS_ADMIN]}\n";
  auto on_v1 = plan_on(hybrid, admin);
  REQUIRE_MESSAGE(on_v1.ok, on_v1.errors);
  CHECK(on_v1.plan.cgroups.mount_guard);
  CHECK(plan::format_plan(on_v1.plan).find(", mount_guard: cgroup-v1}") != std::string::npos);
  // cgroup v2 alone: nothing for it to mount (a new hierarchy needs the
  // host's cgroup namespace).
  CHECK_FALSE(plan_on(unified, admin).plan.cgroups.mount_guard);
  // Without CAP_SYS_ADMIN, or root only in a user namespace: no mount at all.
  CHECK_FALSE(plan_on(hybrid, "").plan.cgroups.mount_guard);
  auto userns = plan_on(hybrid, admin + "namespaces: {user: true}\n");
  REQUIRE_MESSAGE(userns.ok, userns.errors);
  CHECK_FALSE(userns.plan.cgroups.mount_guard);
  // Boot mode has CAP_SYS_ADMIN by default.
  auto boot = plan_on(hybrid, "boot: true\n");
  CHECK(boot.plan.cgroups.mount_guard);
  // The host's cgroup namespace with CAP_SYS_ADMIN would show it the host's
  // whole tree: refused, on every host.
  for (const auto& h : {hybrid, unified}) {
    auto shared = plan_on(h, admin + "namespaces: {cgroup: false}\n");
    CHECK_FALSE(shared.ok);
    CHECK(shared.errors == "t.yaml:7:14: namespaces.cgroup: must be true when the container has CAP_SYS_ADMIN (and no "
                           "user namespace): it could mount the host's cgroup tree and leave its limits and device "
                           "list\n");
  }
  CHECK(plan_on(hybrid, admin + "namespaces: {cgroup: false, user: true}\n").ok);
  CHECK(plan_on(hybrid, "namespaces: {cgroup: false}\n").ok);
}

#include <linux/btf.h>
#include <linux/magic.h>

#include <cstring>

#include "cgroup/mount_guard.h"

namespace {

// A BTF blob as the kernel exports it: header, types, strings.
struct BtfBuilder {
  std::string types, strings = std::string(1, '\0');
  uint32_t str(const std::string& s) {
    auto off = static_cast<uint32_t>(strings.size());
    strings += s + '\0';
    return off;
  }
  template <typename T>
  void put(const T& v) { types.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void type(const std::string& name, uint32_t kind, uint32_t vlen, uint32_t size_or_type, bool kflag = false) {
    btf_type t{};
    t.name_off = name.empty() ? 0 : str(name);
    t.info = (kind << 24) | vlen | (kflag ? 1u << 31 : 0);
    t.size = size_or_type;
    put(t);
  }
  std::string blob(uint16_t magic = BTF_MAGIC) const {
    btf_header h{};
    h.magic = magic;
    h.version = 1;
    h.hdr_len = sizeof h;
    h.type_off = 0;
    h.type_len = static_cast<uint32_t>(types.size());
    h.str_off = h.type_len;
    h.str_len = static_cast<uint32_t>(strings.size());
    return std::string(reinterpret_cast<const char*>(&h), sizeof h) + types + strings;
  }
};

// Types 1..6 as a kernel has them: an int, an enum, a struct super_block
// (s_magic at byte 96, written with or without kind_flag), a function
// prototype and the hook, with kinds of every size in between.
std::string kernel_like_btf(bool kflag, bool with_hook = true, const std::string& member = "s_magic") {
  BtfBuilder b;
  b.type("long unsigned int", BTF_KIND_INT, 0, 8);  // 1
  b.put(uint32_t{64});
  b.type("e", BTF_KIND_ENUM, 2, 4);                 // 2
  for (int i = 0; i < 2; ++i) b.put(btf_enum{b.str("E" + std::to_string(i)), i});
  b.type("super_block", BTF_KIND_STRUCT, 2, 128, kflag);  // 3
  b.put(btf_member{b.str("s_dev"), 1, 0});
  b.put(btf_member{b.str(member), 1, 96 * 8});
  b.type("", BTF_KIND_PTR, 0, 3);                    // 4
  b.type("", BTF_KIND_FUNC_PROTO, 1, 1);             // 5
  b.put(btf_param{b.str("sb"), 4});
  b.type(with_hook ? "bpf_lsm_sb_kern_mount" : "bpf_lsm_sb_mount", BTF_KIND_FUNC, 0, 5);  // 6
  return b.blob();
}

// The guard program's instructions, run on one super block's s_magic.
int run_guard(const std::vector<bpf_insn>& prog, int32_t offset, uint64_t magic) {
  std::vector<char> sb(256);
  std::memcpy(sb.data() + offset, &magic, sizeof magic);
  uint64_t ctx[1] = {reinterpret_cast<uint64_t>(sb.data())};
  uint64_t r[11] = {};
  r[1] = reinterpret_cast<uint64_t>(ctx);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    if (i.code == (BPF_LDX | BPF_DW | BPF_MEM)) std::memcpy(&r[i.dst_reg], reinterpret_cast<char*>(r[i.src_reg]) + i.off, 8);
    else if (i.code == (BPF_ALU64 | BPF_MOV | BPF_K)) r[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    else if (i.code == (BPF_JMP | BPF_JNE | BPF_K)) pc += r[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm)) ? i.off : 0;
    else if (i.code == (BPF_JMP | BPF_EXIT)) return static_cast<int>(r[0]);
    else FAIL("an instruction this test does not know: " << int(i.code));
  }
  FAIL("the program runs off its end");
  return -1;
}

}  // namespace

TEST_CASE("the mount guard finds its hook and s_magic in the kernel's BTF") {
  for (bool kflag : {false, true}) {
    cgroup::GuardTargets t;
    std::string why;
    REQUIRE_MESSAGE(cgroup::find_guard_targets(kernel_like_btf(kflag), t, why), why);
    CHECK(t.hook_id == 6);
    CHECK(t.magic_offset == 96);
  }
  cgroup::GuardTargets t;
  std::string why;
  CHECK_FALSE(cgroup::find_guard_targets(kernel_like_btf(false, false), t, why));
  CHECK(why == "the kernel has no BPF LSM hook bpf_lsm_sb_kern_mount (Linux 5.7 or later with CONFIG_BPF_LSM)");
  CHECK_FALSE(cgroup::find_guard_targets(kernel_like_btf(false, true, "s_flags"), t, why));
  CHECK(why == "the kernel's BTF has no struct super_block with s_magic");
  std::string good = kernel_like_btf(false);
  CHECK_FALSE(cgroup::find_guard_targets(good.substr(0, good.size() - 10), t, why));
  CHECK(why == "the kernel's BTF is truncated");
  CHECK_FALSE(cgroup::find_guard_targets("", t, why));
  CHECK(why == "the kernel's BTF is not BTF (bad magic)");
  BtfBuilder odd;
  odd.type("x", 30, 0, 0);
  CHECK_FALSE(cgroup::find_guard_targets(odd.blob(), t, why));
  CHECK(why == "the kernel's BTF has a type kind this ctrun does not know (30)");
}

TEST_CASE("the mount guard refuses cgroup v1 super blocks and nothing else") {
  for (int32_t offset : {96, 104}) {
    auto prog = cgroup::mount_guard_program(offset);
    CHECK(run_guard(prog, offset, CGROUP_SUPER_MAGIC) == 0);
    CHECK(run_guard(prog, offset, CGROUP2_SUPER_MAGIC) == 1);
    CHECK(run_guard(prog, offset, TMPFS_MAGIC) == 1);
    CHECK(run_guard(prog, offset, PROC_SUPER_MAGIC) == 1);
  }
}
