// The plan (pure), the child's step order and the mount builder against the
// recording fake kernel, and the passwd/group lookup. No root needed.
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>

#include <algorithm>

#include "fake_kernel.h"
#include "launch/child.h"
#include "launch/ids.h"
#include "mount/build.h"
#include "plan/plan.h"
#include "reader_helpers.h"

using namespace ctrun;
using ctrun::testing::FakeKernel;

namespace {

using ctrun::testing::Planned;

Planned make_plan(const std::string& text, plan::HostFacts host = {}) { return ctrun::testing::plan_text(text, host); }

// A manifest named web on /srv/root with `process` keys and more lines.
std::string text_of(const std::string& process = "", const std::string& rest = "") {
  return "version: 1\nname: web\nrootfs: {path: /srv/root}\nprocess:\n  args: [/bin/sh]\n" + process + rest;
}

size_t index_of(const std::vector<std::string>& calls, const std::string& prefix) {
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].rfind(prefix, 0) == 0) return i;
  }
  FAIL("no call starting with " << prefix);
  return 0;
}

size_t target_index(const plan::LaunchPlan& p, const std::string& target, plan::MountStep::Kind kind) {
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    if (p.mounts[i].target == target && p.mounts[i].kind == kind) return i;
  }
  FAIL("no step for " << target);
  return 0;
}

}  // namespace

TEST_CASE("plan: namespaces, hostname, lock, defaults") {
  auto p = make_plan(text_of());
  REQUIRE(p.ok);
  CHECK(p.plan.clone_flags ==
        (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP));
  CHECK(p.plan.hostname == "web");
  CHECK(p.plan.lock_path == "/run/ctrun/web.lock");
  CHECK(p.plan.loopback_up);
  CHECK_FALSE(p.plan.terminal);
  CHECK(p.plan.exec.env == std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                                    "TERM=dumb", "container=ctrun"});
  CHECK(p.plan.root.kind == plan::RootPlan::Kind::bind);
  CHECK(p.plan.root.path == "/srv/root");

  auto host = make_plan(text_of("", "namespaces: {net: false, uts: false, time: true, ipc: /run/ipc/x}\n"));
  REQUIRE(host.ok);
  CHECK((host.plan.clone_flags & (CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)) == 0);
  CHECK((host.plan.clone_flags & CLONE_NEWTIME) != 0);
  CHECK(host.plan.hostname.empty());
  CHECK_FALSE(host.plan.loopback_up);
  REQUIRE(host.plan.joins.size() == 1);
  CHECK(host.plan.joins[0].type == CLONE_NEWIPC);
  CHECK(host.plan.joins[0].key == "namespaces.ipc");
  // No ipc namespace of our own: no mqueue mount of our own.
  CHECK(std::none_of(host.plan.mounts.begin(), host.plan.mounts.end(),
                     [](const plan::MountStep& s) { return s.target == "/dev/mqueue"; }));
}

TEST_CASE("plan: terminal and environment") {
  plan::HostFacts tty;
  tty.stdin_is_tty = true;
  tty.term = "screen";
  auto a = make_plan(text_of(), tty);
  CHECK(a.plan.terminal);
  CHECK(std::count(a.plan.exec.env.begin(), a.plan.exec.env.end(), "TERM=screen") == 1);
  CHECK(a.plan.mounts[target_index(a.plan, "/dev/console", plan::MountStep::Kind::file)].mode == 0600);
  CHECK_FALSE(make_plan(text_of("  terminal: false\n"), tty).plan.terminal);
  CHECK(make_plan(text_of("  terminal: true\n")).plan.terminal);
  auto env = make_plan(text_of("  env: {TERM: vt100, PATH: /x, A: b}\n"), tty);
  CHECK(env.plan.exec.env == std::vector<std::string>{"A=b", "PATH=/x", "TERM=vt100", "container=ctrun"});
  CHECK(env.plan.exec.path_var == "/x");
}

TEST_CASE("plan: API filesystems first, then the user's mounts, then the masks") {
  auto p = make_plan(text_of("", "mounts:\n  - {type: tmpfs, target: /run/x, size: 1M, mode: \"0700\"}\n"
                                  "  - {type: bind, source: /srv/data, target: /data, readonly: true}\n"
                                  "  - {type: overlay, lower: [/a, /b], upper: /u, work: /w, target: /o}\n"));
  REQUIRE(p.ok);
  using K = plan::MountStep::Kind;
  size_t proc = target_index(p.plan, "/proc", K::fs), run = target_index(p.plan, "/run", K::fs);
  size_t user = target_index(p.plan, "/run/x", K::fs), bind = target_index(p.plan, "/data", K::bind);
  size_t overlay = target_index(p.plan, "/o", K::overlay), mask = target_index(p.plan, "/proc/kcore", K::mask);
  size_t ro = target_index(p.plan, "/proc/sys", K::readonly), hole = target_index(p.plan, "/proc/sys/net", K::bind_rw);
  CHECK(proc < run);
  CHECK(run < user);
  CHECK(user < bind);
  CHECK(bind < overlay);
  CHECK(overlay < mask);
  CHECK(hole < ro);  // the writable hole is made before its parent turns read-only
  CHECK(p.plan.mounts[proc].api);
  CHECK(p.plan.mounts[user].data == "mode=0700,size=1048576");
  CHECK(p.plan.mounts[user].key == "mounts[0]");
  CHECK(p.plan.mounts[bind].attrs == MOUNT_ATTR_RDONLY);
  CHECK(p.plan.mounts[bind].source == "/srv/data");
  CHECK(p.plan.mounts[overlay].data == "lowerdir=/a:/b,upperdir=/u,workdir=/w");
  CHECK((p.plan.mounts[target_index(p.plan, "/sys", K::fs)].attrs & MOUNT_ATTR_RDONLY) != 0);
  CHECK(p.plan.mounts[target_index(p.plan, "/dev/null", K::mknod)].dev == makedev(1, 3));
  CHECK(p.plan.mounts[target_index(p.plan, "/dev/pts", K::fs)].data == "newinstance,ptmxmode=0666,mode=620,gid=5");
  CHECK(p.plan.mounts[target_index(p.plan, "/dev/ptmx", K::symlink)].source == "pts/ptmx");
  CHECK(p.plan.mounts[mask].optional);
  // The plan prints.
  std::string text = plan::format_plan(p.plan);
  CHECK(text.find("  - bind /srv/data on /data [ro]\n") != std::string::npos);
  CHECK(text.find("  - mount tmpfs on /run/x (mode=0700,size=1048576) [nosuid,nodev]\n") != std::string::npos);
}

TEST_CASE("plan: a throwaway root of the host's /usr") {
  plan::HostFacts host;
  host.usr_links = {{"bin", "usr/bin"}, {"lib", "usr/lib"}};
  host.os_release = "/usr/lib/os-release";
  auto p = make_plan("version: 1\nname: shell\nrootfs: {host: true}\nprocess: {args: [/bin/sh]}\n", host);
  REQUIRE(p.ok);
  using K = plan::MountStep::Kind;
  CHECK(p.plan.root.kind == plan::RootPlan::Kind::host);
  CHECK(p.plan.mounts[target_index(p.plan, "/usr", K::bind)].attrs == MOUNT_ATTR_RDONLY);
  CHECK(p.plan.mounts[target_index(p.plan, "/bin", K::symlink)].source == "usr/bin");
  CHECK(p.plan.mounts[target_index(p.plan, "/etc/os-release", K::symlink)].source == "../usr/lib/os-release");
  CHECK(p.plan.mounts[target_index(p.plan, "/tmp", K::mkdir)].mode == 01777);
  CHECK(p.plan.mounts[target_index(p.plan, "/etc/hostname", K::file)].data == "shell\n");
  CHECK(target_index(p.plan, "/usr", K::bind) < target_index(p.plan, "/proc", K::fs));
}

TEST_CASE("plan: keys of later versions are refused at their position") {
  auto p = make_plan(text_of("", "namespaces: {user: /proc/1/ns/user}\n"));
  CHECK_FALSE(p.ok);
  CHECK(p.errors.find("namespaces.user: not supported yet") != std::string::npos);
  auto boot = make_plan("version: 1\nname: b\nrootfs: {path: /r}\nboot: true\n");
  CHECK(boot.errors.find("t.yaml:4:1: boot: not supported yet") != std::string::npos);
  auto overlay = make_plan(text_of("", "mounts: [{type: overlay, lower: [/a:b], target: /o}]\n"));
  CHECK(overlay.errors.find("mounts[0]: overlay paths cannot contain ',', ':' or '\\': \"/a:b\"") != std::string::npos);
  CHECK(make_plan(text_of("", "seccomp: {profile: unconfined}\n")).ok);
}

TEST_CASE("child: steps in order against the fake kernel") {
  auto p = make_plan(text_of("", "namespaces: {ipc: /run/ipc/x, pid: /proc/9/ns/pid}\n"));
  REQUIRE(p.ok);
  FakeKernel k;
  Failure f;
  REQUIRE(launch::setup_container(p.plan, {7, 8}, -1, k, f));
  const auto& c = k.calls;
  // Joins come in the plan's order (pid, then ipc): ipc is joined in the
  // child (fd 8); the pid namespace (fd 7) is the parent's job.
  CHECK(c[0] == "setns 8 " + std::to_string(CLONE_NEWIPC));
  CHECK(std::none_of(c.begin(), c.end(), [](const std::string& s) { return s.rfind("setns 7", 0) == 0; }));
  CHECK(c[1] == "make-slave /");
  CHECK(c[2] == "open-host /srv/root");
  CHECK(c[3] == "clone-tree host:/srv/root recursive");
  CHECK(c[4] == "attach tree at /run/ctrun");
  CHECK(c[5] == "open-host /run/ctrun");
  CHECK(c[6] == "resolve /proc real-dir");
  CHECK(c[7] == "new-fs proc  attrs=" + std::to_string(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  CHECK(c[8] == "attach proc on /proc");
  size_t pivot = index_of(c, "pivot host:/run/ctrun");
  CHECK(index_of(c, "resolve /proc/keys existing") < pivot);
  CHECK(c[pivot + 1] == "hostname web");
  CHECK(c[pivot + 2] == "lo up");
  CHECK(c.size() == pivot + 3);
  CHECK(k.open_fds == 0);  // every fd the builder opened was closed
  // Masks: a file gets a read-only clone of the container's own /dev/null;
  // a directory a read-only empty tmpfs; absent ones are skipped.
  size_t keys = index_of(c, "resolve /proc/keys existing");
  CHECK(c[keys + 1] == "resolve /dev/null existing");
  CHECK(c[keys + 2] == "clone-tree /dev/null");
  CHECK(c[keys + 4] == "attach tree on /proc/keys");
  size_t acpi = index_of(c, "resolve /proc/acpi existing");
  CHECK(c[acpi + 1].rfind("new-fs tmpfs mode=000", 0) == 0);
  CHECK(c[acpi + 2] == "attach tmpfs on /proc/acpi");
  size_t sched = index_of(c, "resolve /proc/sched_debug existing");
  CHECK(c[sched + 1].rfind("resolve ", 0) == 0);
}

TEST_CASE("child: an ephemeral root, a read-only root") {
  auto p = make_plan("version: 1\nname: e\nrootfs: {path: /srv/root, ephemeral: true}\n"
                     "process: {args: [/bin/sh]}\n");
  REQUIRE(p.ok);
  FakeKernel k;
  Failure f;
  REQUIRE(mount::build_root(p.plan, k, f));
  const auto& c = k.calls;
  CHECK(c[1] == "new-fs tmpfs mode=755 attrs=0");
  CHECK(c[2] == "mkdir /upper 493");
  CHECK(c[3] == "mkdir /work 493");
  // The tmpfs is attached before the overlay uses it (older kernels clone
  // only attached layers); the overlay then sits on top of it.
  CHECK(c[4] == "attach tmpfs at /run/ctrun");
  CHECK(c[5] == "new-fs overlay lowerdir=/srv/root,upperdir=/proc/self/fd/100/upper,workdir=/proc/self/fd/100/work attrs=0");
  CHECK(c[6] == "attach overlay at /run/ctrun");
  CHECK(std::none_of(c.begin(), c.end(), [](const std::string& s) { return s.rfind("set-attrs host:", 0) == 0; }));
  CHECK(k.open_fds == 0);

  auto ro = make_plan("version: 1\nname: e\nrootfs: {path: /srv/root, readonly: true}\nprocess: {args: [/bin/sh]}\n");
  REQUIRE(ro.ok);
  FakeKernel rk;
  REQUIRE(mount::build_root(ro.plan, rk, f));
  // Read-only last: the mount targets were created while it was writable.
  size_t pivot = index_of(rk.calls, "pivot");
  CHECK(rk.calls[pivot - 1] == "set-attrs host:/run/ctrun " + std::to_string(MOUNT_ATTR_RDONLY));
}

TEST_CASE("child: a failing step stops the build, names its key and closes its fds") {
  auto p = make_plan(text_of("", "mounts:\n  - {type: tmpfs, target: /a}\n"
                                  "  - {type: bind, source: /srv/missing, target: /b}\n"));
  REQUIRE(p.ok);
  FakeKernel k;
  k.fail_on = "open-host /srv/missing";
  k.fail_errno = ENOENT;
  Failure f;
  CHECK_FALSE(launch::setup_container(p.plan, {}, -1, k, f));
  CHECK(render(f) == "ctrun: failed to bind-mount /srv/missing on /b: No such file or directory (mounts[1])");
  CHECK(std::none_of(k.calls.begin(), k.calls.end(), [](const std::string& s) { return s.rfind("pivot", 0) == 0; }));
  CHECK(k.open_fds == 0);

  FakeKernel mask;
  mask.fail_on = "attach tree on /proc/keys";
  Failure mf;
  CHECK_FALSE(launch::setup_container(p.plan, {}, -1, mask, mf));
  CHECK(render(mf) == "ctrun: failed to mask /proc/keys: Operation not permitted");

  FakeKernel api;
  api.fail_on = "resolve /dev real-dir";
  api.fail_errno = ELOOP;
  Failure af;
  CHECK_FALSE(launch::setup_container(p.plan, {}, -1, api, af));
  CHECK(render(af) == "ctrun: failed to mount tmpfs on /dev: the rootfs's /dev must be a directory, not a symlink or a file");
}

TEST_CASE("identity: names and numbers from the container's passwd and group") {
  const std::string passwd = "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1000:app:/home/app:/bin/sh\nbroken\n";
  const std::string group = "root:x:0:\napp:x:1000:\nextra:x:2000:other,app\nother:x:3000:\n";
  plan::ExecPlan e;
  launch::Identity id;
  Failure f;
  e.user = "app";
  REQUIRE(launch::resolve_identity(passwd, group, e, id, f));
  CHECK(id.uid == 1000);
  CHECK(id.gid == 1000);
  CHECK(id.home == "/home/app");
  CHECK(id.groups == std::vector<gid_t>{1000, 2000});

  e.user = "1000";
  e.group = "other";
  e.supplementary_groups = {"4000", "extra"};
  REQUIRE(launch::resolve_identity(passwd, group, e, id, f));
  CHECK(id.uid == 1000);
  CHECK(id.gid == 3000);
  CHECK(id.groups == std::vector<gid_t>{2000, 3000, 4000});

  e = {};
  e.user = "4321";
  REQUIRE(launch::resolve_identity(passwd, group, e, id, f));
  CHECK(id.uid == 4321);
  CHECK(id.gid == 4321);
  CHECK(id.home == "/");

  e.user = "nobody";
  CHECK_FALSE(launch::resolve_identity(passwd, group, e, id, f));
  CHECK(render(f) == "ctrun: failed to look up user nobody in the container's /etc/passwd: no such user (process.user)");
  e.user = "root";
  e.supplementary_groups = {"extra", "nope"};
  CHECK_FALSE(launch::resolve_identity(passwd, group, e, id, f));
  CHECK(f.key == "process.supplementary_groups[1]");
  e.supplementary_groups.clear();
  e.group = "4294967295";
  CHECK_FALSE(launch::resolve_identity(passwd, group, e, id, f));
  CHECK(f.key == "process.group");
}

TEST_CASE("plan: a user namespace") {
  auto p = make_plan(text_of("", "namespaces: {user: true}\nuser_namespace:\n  uid_map: [{inside: 0, outside: 200000, count: 1000}]\n"
                                 "  gid_map: [{inside: 0, outside: 300000, count: 1000}]\n"));
  REQUIRE_MESSAGE(p.ok, p.errors);
  CHECK((p.plan.clone_flags & CLONE_NEWUSER) != 0);
  CHECK(p.plan.userns.create);
  CHECK(p.plan.userns.root_uid == 200000);
  CHECK(p.plan.userns.root_gid == 300000);
  // No mknod in a user namespace: the host's device nodes are bound.
  auto dev_null = std::find_if(p.plan.mounts.begin(), p.plan.mounts.end(),
                               [](const plan::MountStep& s) { return s.target == "/dev/null"; });
  REQUIRE(dev_null != p.plan.mounts.end());
  CHECK(dev_null->kind == plan::MountStep::Kind::bind);
  CHECK(dev_null->source == "/dev/null");
  CHECK(std::none_of(p.plan.mounts.begin(), p.plan.mounts.end(),
                     [](const plan::MountStep& s) { return s.kind == plan::MountStep::Kind::mknod; }));
  CHECK(plan::format_plan(p.plan).find("user_namespace: {uid_map: [0-999:200000], gid_map: [0-999:300000], root: "
                                       "200000:300000}") != std::string::npos);
  // On the host's network, /sys is the host's, bound read-only.
  auto host_net = make_plan(text_of("", "namespaces: {user: true, net: false}\n"));
  REQUIRE_MESSAGE(host_net.ok, host_net.errors);
  auto sys = std::find_if(host_net.plan.mounts.begin(), host_net.plan.mounts.end(),
                          [](const plan::MountStep& s) { return s.target == "/sys"; });
  REQUIRE(sys != host_net.plan.mounts.end());
  CHECK(sys->kind == plan::MountStep::Kind::bind);
  CHECK((sys->attrs & MOUNT_ATTR_RDONLY) != 0);
}

TEST_CASE("plan: what a user namespace cannot be combined with") {
  auto pid = make_plan(text_of("", "namespaces: {user: true, pid: false}\n"));
  CHECK(pid.errors == "t.yaml:6:26: namespaces.pid: must be true with namespaces.user: only the owner of a pid "
                      "namespace mounts its /proc\n");
  auto join = make_plan(text_of("", "namespaces: {user: true, net: /run/netns/x}\n"));
  CHECK(join.errors.find("namespaces.net: cannot be joined together with a new user namespace") != std::string::npos);
  auto user_join = make_plan(text_of("", "namespaces: {user: /proc/1/ns/user}\n"));
  CHECK(user_join.errors.find("namespaces.user: not supported yet: this version of ctrun joins no user namespaces") !=
        std::string::npos);
}

TEST_CASE("child: in a user namespace it becomes root first, then builds the tree from the parent's tree") {
  auto p = make_plan(text_of("", "namespaces: {user: true}\n"));
  REQUIRE(p.ok);
  FakeKernel k;
  Failure f;
  REQUIRE(launch::setup_container(p.plan, {}, 42, k, f));
  const auto& c = k.calls;
  CHECK(c[0] == "become-root");
  CHECK(c[1] == "make-slave /");
  // The parent's (idmapped) tree is the root: no clone of rootfs.path here.
  CHECK(c[2] == "attach fd42 at /run/ctrun");
  CHECK(std::none_of(c.begin(), c.end(), [](const std::string& s) { return s == "open-host /srv/root"; }));
  CHECK(index_of(c, "open-host /dev/null") < c.size());
}

TEST_CASE("child: an ephemeral root in a user namespace uses the parent's tree as its lower layer") {
  auto p = make_plan("version: 1\nname: web\nrootfs: {path: /srv/root, ephemeral: true}\nprocess:\n  args: [/bin/sh]\n"
                     "namespaces: {user: true}\n");
  REQUIRE(p.ok);
  FakeKernel k;
  Failure f;
  REQUIRE(launch::setup_container(p.plan, {}, 42, k, f));
  const auto& c = k.calls;
  size_t tmp = index_of(c, "attach tmpfs at /run/ctrun");
  size_t lower = index_of(c, "attach fd42 on /lower");
  size_t overlay = index_of(c, "new-fs overlay lowerdir=/proc/self/fd/");
  CHECK(tmp < lower);
  CHECK(lower < overlay);
  REQUIRE(overlay < c.size());
  CHECK(c[overlay].find("/lower,upperdir=") != std::string::npos);
  CHECK(c[overlay].find(",userxattr") != std::string::npos);
}

TEST_CASE("plan and child: extra devices") {
  auto p = make_plan(text_of("", "devices: [{path: /dev/fuse}]\n"));
  REQUIRE_MESSAGE(p.ok, p.errors);
  auto d = std::find_if(p.plan.mounts.begin(), p.plan.mounts.end(),
                        [](const plan::MountStep& s) { return s.kind == plan::MountStep::Kind::device; });
  REQUIRE(d != p.plan.mounts.end());
  CHECK(d->target == "/dev/fuse");
  CHECK(d->key == "devices[0].path");
  auto access = make_plan(text_of("", "devices: [{path: /dev/fuse, access: rw}]\n"));
  REQUIRE(access.ok);
  CHECK(access.plan.cgroups.extra_devices.empty());  // no cgroups on the default (fake) host
  // A host path that is no device: the step fails naming the item.
  FakeKernel k;
  Failure f;
  CHECK_FALSE(launch::setup_container(p.plan, {}, -1, k, f));
  CHECK(f.key == "devices[0].path");
  CHECK(f.detail == "/dev/fuse is not a device node on the host");
}
