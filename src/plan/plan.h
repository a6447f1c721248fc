// The launch plan: everything the launcher will do, as a value. Built by a
// pure function from a validated manifest and the host facts, printed by
// `ctrun validate --plan`, executed by src/launch. No YAML types here: an OCI
// front end will fill the same plan later.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/diagnostic.h"
#include "base/uuid.h"
#include "caps/sets.h"
#include "cgroup/driver.h"
#include "cgroup/host.h"
#include "manifest/manifest.h"
#include "seccomp/compile.h"
#include "systemd/scope.h"

namespace ctrun::plan {

// What boot mode needs to know about the rootfs and the host's identity,
// read (read_guest_facts) only for boot: true.
struct GuestFacts {
  // The init's path inside the rootfs did not resolve to an executable file:
  // what went wrong, and the status (127 missing, 126 not executable).
  std::string init_problem;
  int init_status = 0;
  int systemd_version = 0;          // from libsystemd-shared-N.so; 0: no systemd found
  std::optional<Id128> machine_id;  // the rootfs's /etc/machine-id, when it holds one
  // init.link_journal, for the container's machine ID (the rootfs's, else
  // init.machine_id): the host's /var/log/journal/ID as found ("", "dir",
  // "link TARGET" or "other"), and whether the host and the rootfs have a
  // /var/log/journal directory (persistent journals).
  std::string journal_entry;
  bool host_journal = false;
  bool guest_journal = false;
  // ID, VERSION_ID, BUILD_ID, VARIANT_ID of the host's os-release, for
  // $container_host_id and friends.
  std::vector<std::pair<std::string, std::string>> host_os;
};

// What the launcher needs to know about the machine, read once
// (host_facts.cc) and passed in, so that tests can fake it.
struct HostFacts {
  bool stdin_is_tty = false;
  std::string term;  // the caller's $TERM, handed on with a terminal
  // The host's top-level merged-/usr symlinks (bin -> usr/bin, ...), copied
  // into a `rootfs.host` root.
  std::vector<std::pair<std::string, std::string>> usr_links;
  std::string os_release;  // path of the host's os-release below /usr, if any
  caps::CapSet bounding = ~caps::CapSet{0};  // ctrun's own bounding set
  cgroup::Host cgroups;                      // the host's hierarchies
  std::string kernel_release;                // uname -r
  // The systemd service ctrun is the only process of (INVOCATION_ID set,
  // its cgroup2 cgroup a .service holding nothing else): keep-unit's unit.
  std::string own_unit;
  std::string own_cgroup;  // that unit's cgroup path ("/machine.slice/ctrun@web.service")
  bool system_bus = false;  // systemd is PID 1 and its bus socket exists
  std::string notify_socket;   // $NOTIFY_SOCKET: ctrun runs as a Type=notify service
  uint64_t watchdog_usec = 0;  // $WATCHDOG_USEC, when it is meant for ctrun
  bool under_unit = false;     // $INVOCATION_ID: a systemd unit started ctrun
  // The container's UUID when nothing else gives one (app mode always;
  // boot mode without a machine id): random, drawn here.
  Id128 random_id{};
  GuestFacts guest;            // boot mode only
};

HostFacts read_host_facts();
// Fills host.guest for a boot-mode manifest: resolves the init inside the
// rootfs (RESOLVE_IN_ROOT), finds the guest's systemd version, reads its
// machine id and the host's os-release.
void read_guest_facts(const manifest::Manifest& m, HostFacts& host);

// A namespace the container joins instead of creating.
struct NamespaceJoin {
  int type = 0;          // CLONE_NEWNET, ...
  std::string name;      // "net"
  std::string path;      // /run/netns/blue
  std::string key;       // namespaces.net
};

// The root: where the container's / comes from before the API filesystems
// and the user's mounts are put on it.
struct RootPlan {
  enum class Kind { bind, ephemeral, host };
  Kind kind = Kind::bind;
  std::string path;  // bind, ephemeral: the host directory
  bool readonly = false;
};

// One step of building the container's tree, in order. Targets are paths
// inside the new root, resolved with RESOLVE_IN_ROOT at run time.
struct MountStep {
  enum class Kind {
    fs,       // a new filesystem instance: source = fs type, data = options
    bind,     // source = host path; recursive; readonly => MOUNT_ATTR_RDONLY recursively
    overlay,  // data = lowerdir=..,upperdir=..,workdir=..
    mkdir,    // a directory (mode)
    mknod,    // a character device (mode, dev)
    symlink,  // target -> source
    file,     // a regular file with content data (mode)
    mask,     // make target inaccessible: /dev/null over a file, ro tmpfs over a dir
    readonly, // bind target onto itself read-only (optional: skipped if absent)
    bind_rw,  // bind target onto itself writable (the hole in a read-only parent)
    device,   // the host's device node `source` made at target (bound in a user namespace)
    content,  // a read-only file holding `data` bound over target; the rootfs's own file stays as it was
    random_id,  // as content, holding a UUID drawn when the step runs (a fresh boot_id per start)
    seal,       // make the mount an earlier step put at target read-only (after filling it)
  };
  Kind kind = Kind::fs;
  std::string source;
  std::string target;
  std::string data;
  uint64_t attrs = 0;  // MOUNT_ATTR_* for new mounts
  uint32_t mode = 0;
  dev_t dev = 0;
  bool optional = false;  // the target may be missing on this kernel: skip it
  bool api = false;       // /proc, /sys, /dev, /run: the target must be a real directory
  std::string key;        // manifest key named in errors ("mounts[2]"), or empty
};

struct RlimitPlan {
  int resource = 0;
  std::string name;
  uint64_t soft = 0, hard = 0;
};

// The seccomp part of the plan: which profile, how the manifest adjusts it,
// and (after prepare()) the compiled programs.
struct SeccompPlan {
  bool enabled = true;               // false: profile unconfined
  std::string profile = "default";   // default or an absolute path
  std::vector<std::string> allow, deny;
  SourceLoc where;                   // of seccomp.profile, for errors
  seccomp::Compiled compiled;        // filled by prepare()
};

struct ExecPlan {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value, sorted by name
  std::string path_var;          // the PATH the command is searched in
  std::string cwd = "/";
  std::string user = "root";     // name or number, resolved in the container
  std::string group;             // empty: the user's primary group
  std::vector<std::string> supplementary_groups;
  uint32_t umask = 022;
  std::vector<RlimitPlan> rlimits;
  int oom_score_adjust = 0;
  bool no_new_privileges = true;
  // uid 0 gets the bounding set as permitted and effective; another user
  // gets `ambient` (capabilities.add) as ambient, permitted, effective and
  // inheritable. Whether the user is uid 0 is known only in the container.
  caps::Grant caps;
  SeccompPlan seccomp;
};

// The host id a map gives to id 0 inside; nullopt when it maps none.
std::optional<uint32_t> host_of_root(const std::vector<manifest::IdRange>& map);

// A new user namespace: the maps the parent writes during the handshake,
// and the host ids of the container's root (inside 0), which decide whether
// the rootfs needs an idmapped mount. Or a joined one (namespaces.user a
// path, in `joins` too): its maps are its own, read once the child is in it.
struct UserNsPlan {
  bool create = false;
  bool joined = false;
  std::vector<manifest::IdRange> uid_map, gid_map;
  uint32_t root_uid = 0, root_gid = 0;
  // The container runs in a user namespace of its own or a joined one.
  bool active() const { return create || joined; }
};

// The network the parent builds between clone and the payload's start,
// from the host's side (src/net/network.cc). Not `active` for modes none
// and host: then only the loopback, or nothing, is set up.
struct NetworkPlan {
  manifest::NetworkMode mode = manifest::NetworkMode::none;
  std::string host_if;   // veth, bridge: the host side (net::veth_host_name)
  std::string inner_if;  // the container's interface the addresses go on
  std::string bridge;    // bridge: the host bridge the veth joins
  std::string parent;    // macvlan, ipvlan: the host's lower device
  std::string kind;      // macvlan, ipvlan: the link kind
  uint32_t kind_mode = 0;  // IFLA_MACVLAN_MODE or IFLA_IPVLAN_MODE value
  std::string kind_mode_word;  // its manifest word ("bridge", "l3s")
  std::vector<std::string> interfaces;  // interface: moved in, and back at the end
  std::vector<Cidr> address;
  std::optional<IpAddress> gateway;
  std::optional<Cidr> host_address;
  bool active() const { return mode != manifest::NetworkMode::none && mode != manifest::NetworkMode::host; }
};

// systemd.notify, resolved: what ctrun tells the service manager, and when.
struct NotifyPlan {
  enum class Mode { none, exec, container };
  Mode mode = Mode::none;
  std::string upstream;        // the manager's socket ($NOTIFY_SOCKET); may be empty
  uint64_t watchdog_usec = 0;  // WATCHDOG=1 every half of this
  // container: the container's socket, made by the child after pivot_root;
  // the payload finds it in $NOTIFY_SOCKET. Boot mode always has it (PID 1
  // tells its exit status there), whatever is passed on.
  bool guest_socket = false;
  static constexpr const char* kGuestSocket = "/run/host/notify";
};

// boot: true. The init system is PID 1 itself (no stub init), with the
// files and file systems systemd's container interface asks for.
struct BootPlan {
  bool enabled = false;
  enum class Cgroup { unified, hybrid, legacy };
  Cgroup cgroup = Cgroup::unified;
  std::string cgroup_why;   // how auto decided, for the plan printout
  std::string uuid;         // 8-4-4-4-12: $container_uuid, /run/host/container-uuid
  std::string uuid_source;  // rootfs, init.machine_id or random
  std::string init_problem; // the init cannot be run: ctrun exits init_status before creating anything
  int init_status = 0;
  // init.link_journal, resolved: the guest's journal directory for its
  // machine ID is the host's (bound in) or the guest's (linked from the
  // host), as systemd-nspawn does it, so that journalctl -m on the host
  // reads it; journal_host is /var/log/journal/ID on the host, journal_guest
  // the guest's directory as the host sees it (the link's target).
  enum class Journal { none, host, guest };
  Journal journal = Journal::none;
  std::string journal_host, journal_guest;
  // A reboot of the guest boots it again in this ctrun; under a systemd
  // unit ctrun exits 133 instead and the unit restarts it
  // (RestartForceExitStatus=133).
  bool reboot_in_process = true;
};

struct LaunchPlan {
  std::string name;
  std::string hostname;  // empty: the uts namespace is the host's
  unsigned long clone_flags = 0;  // CLONE_NEW* created by clone3
  std::vector<NamespaceJoin> joins;
  UserNsPlan userns;
  // The container's cgroups (and the host's hierarchies they go in). A
  // cgroup namespace (CLONE_NEWCGROUP in clone_flags) is entered by the
  // child after it has been placed, so that its own cgroup is its root.
  cgroup::Plan cgroups;
  cgroup::Host cgroup_host;
  // systemd.register, resolved (auto decided): scope starts the transient
  // unit `scope` with the limits as its properties; keep-unit sets them on
  // ctrun's own unit (scope.unit). Either way cgroups.systemd_scope is set:
  // ctrun, in the unit's delegated cgroup, builds supervisor/ and payload/.
  bool systemd_scope = false;
  bool keep_unit = false;
  systemd::ScopeRequest scope;
  RootPlan root;
  std::vector<MountStep> mounts;
  bool loopback_up = false;  // a new network namespace: lo is brought up (by the parent)
  NetworkPlan network;
  NotifyPlan notify;
  bool terminal = false;
  // With a terminal: whether the caller's stdin feeds it (a tty). Boot mode
  // always has a console; without a tty ctrun only copies its output.
  bool interactive = true;
  BootPlan boot;
  // systemd.machine: register with systemd-machined between the network's
  // set-up and the payload's start (the child waits for it).
  enum class Machine { no, auto_, yes };
  Machine machine = Machine::no;
  // Whether the child waits for the parent's network_ready before the
  // payload starts: the loopback, a network or machined come from the host
  // side while the child builds its mounts.
  bool host_sets_up_network() const { return loopback_up || network.active() || machine != Machine::no; }
  std::string container_uuid;  // /run/host/container-uuid (random per start in app mode)
  ExecPlan exec;
  int stop_signal = 15;
  uint64_t stop_timeout_us = 10'000'000;
  std::string state_dir = "/run/ctrun";
  std::string lock_path;  // /run/ctrun/<name>.lock
  std::string container_dir;  // /run/ctrun/<name>: state.json while it runs
  std::string manifest_path;  // as given on the command line (for the state)
  // The effective manifest, written as YAML into the state (what exec
  // plans from) while the child builds the container.
  std::optional<manifest::Manifest> effective;
};

// Refuses with a diagnostic naming the key what this build cannot do yet, and
// otherwise turns the manifest into the plan. Pure.
bool build_plan(const manifest::Manifest& m, const manifest::SourceMap& locs, const HostFacts& host,
                LaunchPlan& out, Diagnostics& diags);

// The half of planning that reads files: loads the seccomp profile and
// compiles it for the plan's capabilities and this kernel, or takes the
// programs from the cache in the plan's state directory (use_cache; see
// seccomp/cache.h). Errors name the profile's file:line:column or the key.
bool prepare(LaunchPlan& plan, const HostFacts& host, Diagnostics& diags, bool use_cache);

// The plan as YAML-like text for `ctrun validate --plan`.
std::string format_plan(const LaunchPlan& plan);

}  // namespace ctrun::plan
