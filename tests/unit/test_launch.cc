// The plan (pure), the child's step order and the mount builder against the
// recording fake kernel, and the passwd/group lookup. No root needed.
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "fake_kernel.h"
#include "launch/child.h"
#include "launch/ids.h"
#include "launch/protocol.h"
#include "mount/build.h"
#include "base/uuid.h"
#include "cgroup/host.h"
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
  auto p = make_plan(text_of("", "boot: true\nnamespaces: {user: /proc/1/ns/user}\n"));
  CHECK_FALSE(p.ok);
  CHECK(p.errors.find("namespaces.user: not supported yet: this version of ctrun boots no init system in a joined "
                      "user namespace") != std::string::npos);
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
  CHECK(c.size() == pivot + 2);  // (lo comes up from the parent's side)
  CHECK(k.open_fds == 0);  // every fd the builder opened was closed
  // Masks: the first file gets a read-only clone of the container's own
  // /dev/null, the first directory (/proc/kmsg, in the fake) a read-only
  // empty tmpfs; each later one a clone of that first mask's mount; absent
  // ones are skipped.
  size_t kcore = index_of(c, "resolve /proc/kcore existing");
  CHECK(c[kcore + 1] == "resolve /dev/null existing");
  CHECK(c[kcore + 2] == "clone-tree /dev/null");
  CHECK(c[kcore + 3] == "set-attrs tree " + std::to_string(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  CHECK(c[kcore + 4] == "attach tree on /proc/kcore");
  CHECK(c[kcore + 5] == "resolve /proc/kcore existing");
  size_t keys = index_of(c, "resolve /proc/keys existing");
  CHECK(c[keys + 1] == "clone-tree /proc/kcore");
  CHECK(c[keys + 2] == "attach tree on /proc/keys");
  size_t kmsg = index_of(c, "resolve /proc/kmsg existing");
  CHECK(c[kmsg + 1].rfind("new-fs tmpfs mode=000", 0) == 0);
  CHECK(c[kmsg + 2] == "attach tmpfs on /proc/kmsg");
  size_t acpi = index_of(c, "resolve /proc/acpi existing");
  CHECK(c[acpi + 1] == "clone-tree /proc/kmsg");
  CHECK(c[acpi + 2] == "attach tree on /proc/acpi");
  size_t sched = index_of(c, "resolve /proc/sched_debug existing");
  CHECK(c[sched + 1].rfind("resolve ", 0) == 0);
}

TEST_CASE("child: what the plan makes in a tmpfs it has just mounted is made relative to that tmpfs") {
  auto p = make_plan(text_of());
  REQUIRE(p.ok);
  FakeKernel k;
  Failure f;
  REQUIRE(mount::build_root(p.plan, k, f));
  const auto& c = k.calls;
  // /dev: nodes, directories and links made by mknodat and friends on the
  // tmpfs's own fd, no path resolved from the root; /run and its files too.
  CHECK(index_of(c, "mknod-in tmpfs null ") < c.size());
  CHECK(index_of(c, "mkdir-in tmpfs pts ") < c.size());
  CHECK(index_of(c, "symlink-in tmpfs ptmx -> pts/ptmx") < c.size());
  CHECK(index_of(c, "mkdir-in tmpfs host ") < c.size());
  CHECK(index_of(c, "write-in tmpfs host/container-manager") < c.size());
  CHECK(std::none_of(c.begin(), c.end(), [](const std::string& s) {
    return s.rfind("mknod /", 0) == 0 || s.rfind("symlink /", 0) == 0 || s.rfind("write /run", 0) == 0;
  }));
  CHECK(k.open_fds == 0);

  // Not below something mounted on it since, not below a directory it did
  // not make, not through "..", not once the tmpfs itself is covered.
  using K = plan::MountStep::Kind;
  auto step = [](K kind, std::string target, std::string source = {}) {
    plan::MountStep s;
    s.kind = kind;
    s.target = std::move(target);
    s.source = std::move(source);
    s.mode = 0755;
    return s;
  };
  p.plan.mounts = {step(K::fs, "/t", "tmpfs"),      step(K::mkdir, "/t/a"),         step(K::mkdir, "/t/a/b"),
                   step(K::bind, "/t/a", "/srv/x"), step(K::mkdir, "/t/a/c"),       step(K::mkdir, "/t/d/e"),
                   step(K::mkdir, "/t/../u"),       step(K::symlink, "/t/l", "a"),  step(K::bind, "/t", "/srv/y"),
                   step(K::mkdir, "/t/f")};
  FakeKernel t;
  REQUIRE(mount::build_root(p.plan, t, f));
  const auto& d = t.calls;
  CHECK(index_of(d, "mkdir-in tmpfs a 493") < d.size());
  CHECK(index_of(d, "mkdir-in tmpfs a/b 493") < d.size());
  CHECK(index_of(d, "mkdir /t/a/c 493") < d.size());
  CHECK(index_of(d, "mkdir /t/d/e 493") < d.size());
  CHECK(index_of(d, "mkdir /t/../u 493") < d.size());
  CHECK(index_of(d, "symlink-in tmpfs l -> a") < d.size());
  CHECK(index_of(d, "mkdir /t/f 493") < d.size());
  CHECK(t.open_fds == 0);

  // A failure there is the step's, with its key.
  FakeKernel bad;
  bad.fail_on = "mkdir-in tmpfs a ";
  bad.fail_errno = ENOSPC;
  CHECK_FALSE(mount::build_root(p.plan, bad, f));
  CHECK(render(f) == "ctrun: failed to create /t/a: No space left on device");
  CHECK(bad.open_fds == 0);
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
}

TEST_CASE("plan: a joined user namespace") {
  auto p = make_plan(text_of("", "namespaces: {user: /proc/1/ns/user}\n"));
  REQUIRE_MESSAGE(p.ok, p.errors);
  // The namespaces the container creates are made in it (by the parent's
  // helper), not a new one: CLONE_NEWUSER is not among the flags.
  CHECK((p.plan.clone_flags & CLONE_NEWUSER) == 0);
  CHECK((p.plan.clone_flags & (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET)) == (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET));
  CHECK(p.plan.userns.joined);
  CHECK_FALSE(p.plan.userns.create);
  CHECK(p.plan.userns.active());
  REQUIRE(p.plan.joins.size() == 1);
  CHECK(p.plan.joins[0].type == CLONE_NEWUSER);
  CHECK(p.plan.joins[0].path == "/proc/1/ns/user");
  CHECK(p.plan.joins[0].key == "namespaces.user");
  // No mknod in it either.
  CHECK(p.plan.mounts[target_index(p.plan, "/dev/null", plan::MountStep::Kind::bind)].source == "/dev/null");
  CHECK(std::none_of(p.plan.mounts.begin(), p.plan.mounts.end(),
                     [](const plan::MountStep& s) { return s.kind == plan::MountStep::Kind::mknod; }));
  std::string text = plan::format_plan(p.plan);
  CHECK(text.find("join: {user: /proc/1/ns/user}") != std::string::npos);
  CHECK(text.find("user_namespace: joined") != std::string::npos);
  // sysfs: mounted in a network namespace of its own or a joined one (which
  // the joined user namespace owns, or the child could not join it); the
  // host's /sys, bound, on the host's network.
  auto host_net = make_plan(text_of("", "namespaces: {user: /proc/1/ns/user, net: false}\n"));
  REQUIRE_MESSAGE(host_net.ok, host_net.errors);
  CHECK(host_net.plan.mounts[target_index(host_net.plan, "/sys", plan::MountStep::Kind::bind)].source == "/sys");
  auto joined_net = make_plan(text_of("", "namespaces: {user: /proc/1/ns/user, net: /run/netns/x}\n"));
  REQUIRE_MESSAGE(joined_net.ok, joined_net.errors);
  CHECK(joined_net.plan.mounts[target_index(joined_net.plan, "/sys", plan::MountStep::Kind::fs)].source == "sysfs");
}

TEST_CASE("child: in a joined user namespace it becomes its root, then joins the others, never the user one") {
  auto p = make_plan(text_of("", "namespaces: {user: /proc/1/ns/user, ipc: /run/ipc/x}\n"));
  REQUIRE_MESSAGE(p.ok, p.errors);
  REQUIRE(p.plan.joins.size() == 2);
  FakeKernel k;
  Failure f;
  REQUIRE(launch::setup_container(p.plan, {7, 8}, -1, k, f));
  const auto& c = k.calls;
  CHECK(c[0] == "become-root");
  CHECK(c[1] == "setns 8 " + std::to_string(CLONE_NEWIPC));
  CHECK(std::none_of(c.begin(), c.end(), [](const std::string& s) { return s.rfind("setns 7", 0) == 0; }));
  CHECK(c[2] == "make-slave /");
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

namespace {

const char* kHybridHost =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
const char* kUnifiedHost = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
const char* kLegacyHost = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                          "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";

plan::HostFacts boot_host(const char* mountinfo, int systemd = 252) {
  plan::HostFacts h;
  h.cgroups = cgroup::parse_host(mountinfo, "");
  h.guest.systemd_version = systemd;
  h.guest.host_os = {{"ID", "debian"}, {"VERSION_ID", "12"}};
  h.random_id = *parse_id128("aaaaaaaabbbbccccddddeeeeeeeeeeee");
  return h;
}

std::string boot_text(const std::string& more = "") {
  return "version: 1\nname: deb\nrootfs: {path: /m/deb}\nboot: true\nprocess: {no_new_privileges: false}\n" + more;
}

std::string cgroup_mode(const Planned& p) {
  static const char* kNames[] = {"unified", "hybrid", "legacy"};
  return p.ok ? kNames[static_cast<int>(p.plan.boot.cgroup)] : "error: " + p.errors;
}

}  // namespace

TEST_CASE("boot plan: PID 1 is /sbin/init with exactly the container interface's environment") {
  auto h = boot_host(kUnifiedHost);
  auto p = make_plan("version: 1\nname: deb\nrootfs: {path: /m/deb}\nboot: true\n"
                     "process: {no_new_privileges: false, env: {LANG: C.UTF-8, PATH: /usr/bin:/bin}}\n", h);
  REQUIRE_MESSAGE(p.ok, p.errors);
  CHECK(p.plan.exec.argv == std::vector<std::string>{"/sbin/init"});
  // Random UUID (no machine id anywhere), no TERM without a tty, the
  // manifest's PATH in place of the default, its other variables last.
  CHECK(p.plan.exec.env == std::vector<std::string>{
                               "PATH=/usr/bin:/bin", "container=ctrun", "HOME=/root", "USER=root", "LOGNAME=root",
                               "container_uuid=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "NOTIFY_SOCKET=/run/host/notify",
                               "container_host_id=debian", "container_host_version_id=12", "LANG=C.UTF-8"});
  CHECK(p.plan.exec.path_var == "/usr/bin:/bin");
  CHECK(p.plan.boot.uuid_source == "random");
  CHECK(p.plan.terminal);
  CHECK_FALSE(p.plan.interactive);
  CHECK(p.plan.notify.mode == plan::NotifyPlan::Mode::container);
  CHECK(p.plan.notify.guest_socket);
  CHECK(p.plan.boot.reboot_in_process);
  h.stdin_is_tty = true;
  h.term = "vt220";
  h.under_unit = true;
  auto tty = make_plan(boot_text(), h);
  REQUIRE(tty.ok);
  CHECK(std::count(tty.plan.exec.env.begin(), tty.plan.exec.env.end(), "TERM=vt220") == 1);
  CHECK(tty.plan.interactive);
  CHECK_FALSE(tty.plan.boot.reboot_in_process);
  // systemd.notify: none still listens (for EXIT_STATUS=), passes nothing on
  auto none = make_plan(boot_text("systemd: {notify: none}\n"), h);
  CHECK(none.plan.notify.mode == plan::NotifyPlan::Mode::none);
  CHECK(none.plan.notify.guest_socket);
}

TEST_CASE("boot plan: the UUID from the rootfs's machine id, else init.machine_id, else random") {
  auto h = boot_host(kUnifiedHost);
  auto given = make_plan(boot_text("init: {machine_id: 0123456789ABCDEF0123456789abcdef}\n"), h);
  CHECK(given.plan.container_uuid == "01234567-89ab-cdef-0123-456789abcdef");
  CHECK(given.plan.boot.uuid_source == "init.machine_id");
  h.guest.machine_id = parse_id128("fedcba9876543210fedcba9876543210");
  auto rootfs = make_plan(boot_text("init: {machine_id: 0123456789ABCDEF0123456789abcdef}\n"), h);
  CHECK(rootfs.plan.container_uuid == "fedcba98-7654-3210-fedc-ba9876543210");
  CHECK(rootfs.plan.boot.uuid_source == "rootfs /etc/machine-id");
  size_t file = target_index(rootfs.plan, "/run/host/container-uuid", plan::MountStep::Kind::file);
  CHECK(rootfs.plan.mounts[file].data == "fedcba98-7654-3210-fedc-ba9876543210\n");
  // app mode: random per start, and /run/systemd/container
  auto app = make_plan(text_of(), h);
  CHECK(app.plan.container_uuid == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  CHECK(app.plan.mounts[target_index(app.plan, "/run/systemd/container", plan::MountStep::Kind::file)].data == "ctrun\n");
}

TEST_CASE("boot plan: a user namespace needs a cgroup v2 guest, and delegates payload/ to its root") {
  const std::string text = boot_text("namespaces: {user: true}\n");
  auto v2 = make_plan(text, boot_host(kUnifiedHost));
  REQUIRE_MESSAGE(v2.ok, v2.errors);
  CHECK(v2.plan.userns.create);
  CHECK(v2.plan.cgroups.delegate_uid == 100000);
  CHECK(v2.plan.cgroups.delegate_gid == 100000);
  auto app = make_plan(text_of("", "namespaces: {user: true}\n"), boot_host(kUnifiedHost));
  REQUIRE_MESSAGE(app.ok, app.errors);
  CHECK(app.plan.cgroups.delegate_uid == -1);  // an application manages no tree
  auto hybrid = make_plan(text, boot_host(kHybridHost));
  CHECK(hybrid.errors == "t.yaml:6:14: namespaces.user: boot mode in a user namespace needs cgroup v2 for the guest "
                         "(init.cgroup: unified, a cgroup v2 host): cgroup v1 hierarchies cannot be mounted in a user "
                         "namespace\n");
  // (a guest of systemd 256 or later gets cgroup v2 on a hybrid host too)
  CHECK(make_plan(text, boot_host(kHybridHost, 256)).ok);
}

TEST_CASE("boot plan: init.link_journal, as systemd-nspawn links journals") {
  using J = plan::BootPlan::Journal;
  const std::string id = "fedcba9876543210fedcba9876543210", host_dir = "/var/log/journal/" + id;
  auto h = boot_host(kUnifiedHost);
  h.guest.machine_id = parse_id128(id);
  h.guest.host_journal = true;
  h.guest.guest_journal = true;
  // (more: the rootfs's further keys)
  auto with = [&](const std::string& mode, const std::string& more = "") {
    std::string t = boot_text("init: {link_journal: " + mode + "}\n");
    t.replace(t.find("{path: /m/deb}"), 14, "{path: /m/deb" + more + "}");
    return make_plan(t, h);
  };
  // host: the host's directory bound at the same path in the guest
  auto host = with("host");
  REQUIRE_MESSAGE(host.ok, host.errors);
  CHECK(host.plan.boot.journal == J::host);
  CHECK(host.plan.boot.journal_host == host_dir);
  const auto& bind = host.plan.mounts[target_index(host.plan, host_dir, plan::MountStep::Kind::bind)];
  CHECK(bind.source == host_dir);
  CHECK(bind.key == "init.link_journal");
  CHECK(plan::format_plan(host.plan).find("journal: host's " + host_dir) != std::string::npos);
  // guest: the guest's own directory, linked from the host
  auto guest = with("guest");
  REQUIRE_MESSAGE(guest.ok, guest.errors);
  CHECK(guest.plan.boot.journal == J::guest);
  CHECK(guest.plan.boot.journal_guest == "/m/deb" + host_dir);
  CHECK(guest.plan.mounts[target_index(guest.plan, host_dir, plan::MountStep::Kind::mkdir)].key == "init.link_journal");
  // (linked before, to this guest: fine)
  h.guest.journal_entry = "link /m/deb" + host_dir;
  CHECK(with("guest").plan.boot.journal == J::guest);
  // auto: bound when the host's directory exists, else nothing; no: nothing
  CHECK(with("auto").plan.boot.journal == J::none);
  h.guest.journal_entry = "dir";
  CHECK(with("auto").plan.boot.journal == J::host);
  CHECK(with("no").plan.boot.journal == J::none);
  CHECK(make_plan(boot_text(), h).plan.boot.journal == J::host);  // auto is the default
  // What cannot be done: an error at the key for host and guest, nothing for try-*.
  auto refused = [&](const std::string& mode, const std::string& more = "") {
    auto strict = with(mode, more);
    auto lenient = with("try-" + mode, more);
    CHECK(lenient.ok);
    CHECK(lenient.plan.boot.journal == J::none);
    return strict.errors;
  };
  CHECK(refused("guest") == "t.yaml:6:8: init.link_journal: " + host_dir + " exists on the host and is not a link to the guest's\n");
  h.guest.journal_entry = "link /elsewhere";
  CHECK(refused("guest") == "t.yaml:6:8: init.link_journal: " + host_dir + " on the host links elsewhere (/elsewhere)\n");
  CHECK(refused("host") == "t.yaml:6:8: init.link_journal: " + host_dir + " on the host is a symbolic link (linked with guest before)\n");
  h.guest.journal_entry = "other";
  CHECK(refused("host") == "t.yaml:6:8: init.link_journal: " + host_dir + " on the host is not a directory\n");
  h.guest.journal_entry.clear();
  CHECK(refused("guest", ", ephemeral: true").find("the rootfs is ephemeral") != std::string::npos);
  CHECK(refused("guest", ", readonly: true").find("rootfs.readonly is true") != std::string::npos);
  h.guest.guest_journal = false;
  CHECK(refused("guest").find("the rootfs has no /var/log/journal") != std::string::npos);
  CHECK(with("host").plan.boot.journal == J::host);  // host mode makes the guest's path itself
  h.guest.host_journal = false;
  CHECK(refused("host") == "t.yaml:6:8: init.link_journal: the host has no /var/log/journal (no persistent journal)\n");
  h.guest.host_journal = true;
  h.guest.machine_id.reset();
  CHECK(refused("host").find("needs a fixed machine ID") != std::string::npos);
  CHECK(with("auto").plan.boot.journal == J::none);
}

TEST_CASE("boot plan: init.cgroup against the host and the guest's systemd") {
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kUnifiedHost))) == "unified");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kHybridHost, 252))) == "hybrid");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kHybridHost, 233))) == "hybrid");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kHybridHost, 232))) == "legacy");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kHybridHost, 256))) == "unified");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kHybridHost, 0))) == "unified");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kLegacyHost, 252))) == "legacy");
  CHECK(cgroup_mode(make_plan(boot_text(), boot_host(kLegacyHost, 257))) ==
        "error: t.yaml:4:1: init.cgroup: the host runs cgroup v1 only, and the guest's systemd 257 needs cgroup v2\n");
  CHECK(cgroup_mode(make_plan(boot_text("init: {cgroup: unified}\n"), boot_host(kHybridHost))) == "unified");
  CHECK(cgroup_mode(make_plan(boot_text("init: {cgroup: legacy}\n"), boot_host(kHybridHost))) == "legacy");
  CHECK(cgroup_mode(make_plan(boot_text("init: {cgroup: hybrid}\n"), boot_host(kUnifiedHost))) ==
        "error: t.yaml:6:8: init.cgroup: hybrid needs a host with both cgroup v1 controllers and cgroup2; this "
        "host runs unified\n");
  CHECK(cgroup_mode(make_plan(boot_text("init: {cgroup: legacy}\n"), boot_host(kUnifiedHost))) ==
        "error: t.yaml:6:8: init.cgroup: legacy needs cgroup v1 controllers, which this host does not have\n");
  CHECK(cgroup_mode(make_plan(boot_text("init: {cgroup: unified}\n"), boot_host(kLegacyHost))) ==
        "error: t.yaml:6:8: init.cgroup: unified needs a cgroup2 hierarchy, which this host does not have\n");
}

TEST_CASE("boot plan: the hybrid /sys/fs/cgroup, as nspawn builds it") {
  auto p = make_plan(boot_text(), boot_host(kHybridHost));
  REQUIRE_MESSAGE(p.ok, p.errors);
  using K = plan::MountStep::Kind;
  const auto& m = p.plan.mounts;
  CHECK(m[target_index(p.plan, "/sys/fs/cgroup", K::fs)].source == "tmpfs");
  auto cg = [&](const std::string& t) { return m[target_index(p.plan, t, K::fs)]; };
  CHECK(cg("/sys/fs/cgroup/cpu,cpuacct").data == "cpu,cpuacct");
  CHECK((cg("/sys/fs/cgroup/cpu,cpuacct").attrs & MOUNT_ATTR_RDONLY) != 0);
  CHECK((cg("/sys/fs/cgroup/memory").attrs & MOUNT_ATTR_RDONLY) != 0);
  CHECK(cg("/sys/fs/cgroup/systemd").data == "none,name=systemd");
  CHECK((cg("/sys/fs/cgroup/systemd").attrs & MOUNT_ATTR_RDONLY) == 0);
  CHECK(cg("/sys/fs/cgroup/unified").source == "cgroup2");
  CHECK((cg("/sys/fs/cgroup/unified").attrs & MOUNT_ATTR_RDONLY) == 0);
  CHECK(m[target_index(p.plan, "/sys/fs/cgroup/cpu", K::symlink)].source == "cpu,cpuacct");
  CHECK(target_index(p.plan, "/sys/fs/cgroup", K::seal) > target_index(p.plan, "/sys/fs/cgroup/unified", K::fs));
  CHECK(target_index(p.plan, "/proc/sys/kernel/random/boot_id", K::random_id) <
        target_index(p.plan, "/proc/sys", K::readonly));
  CHECK(p.plan.cgroups.boot);
  auto legacy = make_plan(boot_text("init: {cgroup: legacy}\n"), boot_host(kHybridHost));
  for (const auto& s : legacy.plan.mounts) CHECK(s.target != "/sys/fs/cgroup/unified");
  auto unified = make_plan(boot_text(), boot_host(kUnifiedHost));
  CHECK(unified.plan.mounts[target_index(unified.plan, "/sys/fs/cgroup", K::fs)].attrs == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
}

TEST_CASE("sync socket: a child's last report survives the parent's unread message") {
  // The child fails and exits while the parent's network_ready sits unread
  // in its queue: the kernel then marks the parent's end ECONNRESET, and the
  // first recvmsg returns that error before the report queued behind it.
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  launch::Message report = launch::failure_message({"mount overlay on /o", ENOENT, "mounts[1]", {}}, 125);
  REQUIRE(launch::send_message(sv[1], report));
  launch::Message ready;
  ready.step = launch::Step::network_ready;
  REQUIRE(launch::send_message(sv[0], ready));
  close(sv[1]);  // the child ends with `ready` unread
  launch::Message got;
  REQUIRE(launch::recv_message(sv[0], got));
  CHECK(got.step == launch::Step::failed);
  CHECK(std::string(got.key) == "mounts[1]");
  CHECK(got.status == 125);
  CHECK_FALSE(launch::recv_message(sv[0], got));  // then the end
  close(sv[0]);
}
