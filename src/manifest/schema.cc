#include "manifest/schema.h"

#include <array>
#include <cstdint>

namespace ctrun::manifest {
namespace {

using K = Kind;

// Order matters: `ctrun validate` prints the effective manifest in this order,
// and the man page lists the keys in it.
constexpr KeyInfo kKeys[] = {
    {"version", K::integer, "", "manifest format version; required, must be 1", "", INT64_MIN, INT64_MAX},
    {"name", K::name, "the file name without extension",
     "container name: [A-Za-z0-9_.-], 1 to 64 characters, not . or ..; also the machine and scope name"},
    {"hostname", K::hostname, "the name", "host name inside the container"},

    {"rootfs", K::section, "", "the root file system; exactly one of path and host"},
    {"rootfs.path", K::host_path, "", "directory holding the container's root"},
    {"rootfs.host", K::boolean, "false", "a fresh tmpfs root holding the host's /usr read-only"},
    {"rootfs.readonly", K::boolean, "false", "mount the root read-only"},
    {"rootfs.ephemeral", K::boolean, "false",
     "writes go to a tmpfs overlay and vanish at exit; the directory is never modified"},

    {"process", K::section, "", "the command run in the container"},
    {"process.args", K::string_list, "",
     "command and arguments; required unless boot is true; `ctrun M -- cmd args` overrides"},
    {"process.env", K::env_map, "{}", "environment added over PATH, HOME, TERM and container=ctrun"},
    {"process.cwd", K::container_path, "/", "working directory, absolute, inside the container"},
    {"process.user", K::user, "root", "user name (from the container's /etc/passwd) or uid"},
    {"process.group", K::group, "the user's primary group", "group name or gid"},
    {"process.supplementary_groups", K::group_list, "[]", "further groups, names or gids"},
    {"process.terminal", K::terminal, "auto", "auto (a pty when stdin is a tty), true or false"},
    {"process.umask", K::octal, "0022", "file mode creation mask, octal", "", 0, 0777},
    {"process.no_new_privileges", K::boolean, "true", "set PR_SET_NO_NEW_PRIVS before exec"},
    {"process.oom_score_adjust", K::integer, "0", "OOM killer adjustment, -1000 to 1000", "", -1000, 1000},
    {"process.rlimits", K::rlimit_map, "{}",
     "resource limits: name (as in setrlimit without RLIMIT_, lower case) to soft or [soft, hard]"},

    {"boot", K::boolean, "false", "run an init system as PID 1 (/sbin/init unless process.args is given)"},

    {"init", K::section, "", "the init system's container (with boot: true only)"},
    {"init.cgroup", K::enumeration, "auto", "auto, unified, hybrid or legacy: the cgroup file systems PID 1 gets",
     "auto|unified|hybrid|legacy"},
    {"init.machine_id", K::string, "", "the container's UUID unless the rootfs has an /etc/machine-id (32 hex digits "
     "or a UUID; random when neither)"},
    {"init.link_journal", K::enumeration, "auto", "no, auto, host, guest, try-host or try-guest: journal sharing "
     "with the host", "no|auto|host|guest|try-host|try-guest"},

    {"namespaces", K::section, "", "true: new; false: share the host's; a path: join it"},
    {"namespaces.pid", K::namespace_mode, "true", "PID namespace"},
    {"namespaces.uts", K::namespace_mode, "true", "host name namespace"},
    {"namespaces.ipc", K::namespace_mode, "true", "System V IPC and POSIX message queue namespace"},
    {"namespaces.net", K::namespace_mode, "true", "network namespace (see network.mode)"},
    {"namespaces.cgroup", K::namespace_mode, "true", "cgroup namespace"},
    {"namespaces.user", K::namespace_mode, "false", "user namespace with the maps of user_namespace"},
    {"namespaces.time", K::namespace_mode, "false", "time namespace"},

    {"user_namespace", K::section, "", "id maps; only with namespaces.user: true"},
    {"user_namespace.uid_map", K::object_list, "[{inside: 0, outside: 100000, count: 65536}]",
     "user id ranges: inside, outside, count"},
    {"user_namespace.uid_map[].inside", K::integer, "", "first id inside the container", "", 0, 4294967294},
    {"user_namespace.uid_map[].outside", K::integer, "", "first id on the host", "", 0, 4294967294},
    {"user_namespace.uid_map[].count", K::integer, "", "number of ids", "", 1, 4294967295},
    {"user_namespace.gid_map", K::object_list, "[{inside: 0, outside: 100000, count: 65536}]",
     "group id ranges: inside, outside, count"},
    {"user_namespace.gid_map[].inside", K::integer, "", "first id inside the container", "", 0, 4294967294},
    {"user_namespace.gid_map[].outside", K::integer, "", "first id on the host", "", 0, 4294967294},
    {"user_namespace.gid_map[].count", K::integer, "", "number of ids", "", 1, 4294967295},

    {"mounts", K::object_list, "[]", "mounts applied in order after the rootfs, before pivot_root"},
    {"mounts[].type", K::enumeration, "", "bind, tmpfs or overlay; required", "bind|tmpfs|overlay"},
    {"mounts[].source", K::host_path, "", "bind: the host path; must exist"},
    {"mounts[].target", K::container_path, "", "absolute path inside the container; required"},
    {"mounts[].readonly", K::boolean, "false", "mount read-only"},
    {"mounts[].size", K::size, "", "tmpfs: size limit"},
    {"mounts[].mode", K::octal, "", "tmpfs: mode of the root directory", "", 0, 07777},
    {"mounts[].lower", K::host_path_list, "", "overlay: lower directories, uppermost first"},
    {"mounts[].upper", K::host_path, "", "overlay: upper directory (with work)"},
    {"mounts[].work", K::host_path, "", "overlay: work directory on the upper's file system"},

    {"devices", K::object_list, "[]", "extra device nodes, also allowed in the device cgroup"},
    {"devices[].path", K::container_path, "", "device node under /dev, as on the host; required"},
    {"devices[].access", K::device_access, "rwm", "r (read), w (write), m (mknod)"},

    {"resources", K::section, "", "cgroup limits (cgroup v2 names; mapped on cgroup v1)"},
    {"resources.memory", K::section, "", "memory controller"},
    {"resources.memory.max", K::size, "max", "hard memory limit (memory.max); max = none"},
    {"resources.memory.high", K::size, "max", "memory throttling threshold (memory.high)"},
    {"resources.memory.swap_max", K::size, "max", "swap limit (memory.swap.max)"},
    {"resources.cpu", K::section, "", "cpu and cpuset controllers"},
    {"resources.cpu.weight", K::integer, "100", "relative CPU weight, 1 to 10000 (cpu.weight)", "", 1, 10000},
    {"resources.cpu.max", K::cpu_max, "max", "CPUs' worth of time, e.g. 1.5 (cpu.max)"},
    {"resources.cpu.cpuset", K::cpu_list, "", "CPUs the container may run on, e.g. 0-1 (cpuset.cpus)"},
    {"resources.pids", K::section, "", "pids controller"},
    {"resources.pids.max", K::count_or_max, "max", "most tasks at once (pids.max)"},
    {"resources.io", K::section, "", "io controller"},
    {"resources.io.weight", K::integer, "100", "relative I/O weight, 1 to 10000 (io.weight)", "", 1, 10000},

    {"capabilities", K::section, "", "capability bounding set changes over the default set"},
    {"capabilities.add", K::capability_list, "[]", "capabilities added, e.g. CAP_NET_ADMIN"},
    {"capabilities.drop", K::capability_list, "[]", "capabilities removed"},

    {"seccomp", K::section, "", "system call filter"},
    {"seccomp.profile", K::seccomp_profile, "default", "default, unconfined, or an OCI/Docker JSON profile file"},
    {"seccomp.allow", K::syscall_list, "[]", "system calls added to the allowlist"},
    {"seccomp.deny", K::syscall_list, "[]", "system calls that fail with EPERM"},

    {"network", K::section, "", "network set-up"},
    {"network.mode", K::enumeration, "none (host when namespaces.net is false)",
     "none, host, veth, bridge, macvlan, ipvlan or interface", "none|host|veth|bridge|macvlan|ipvlan|interface"},
    {"network.bridge", K::ifname, "", "bridge the host side of the veth joins (mode bridge)"},
    {"network.parent", K::ifname, "", "parent interface (modes macvlan and ipvlan)"},
    {"network.macvlan_mode", K::enumeration, "bridge", "private, vepa, bridge or passthru",
     "private|vepa|bridge|passthru"},
    {"network.ipvlan_mode", K::enumeration, "l2", "l2, l3 or l3s", "l2|l3|l3s"},
    {"network.interfaces", K::ifname_list, "[]", "host interfaces moved into the container (mode interface)"},
    {"network.address", K::cidr_list, "[]", "container addresses with prefix, IPv4 or IPv6"},
    {"network.gateway", K::ip, "", "default route inside the container"},
    {"network.host_address", K::cidr, "", "address of the host side of the veth (modes veth and bridge)"},
    {"network.dns", K::ip_list, "[]", "name servers written to the container's /etc/resolv.conf"},
    {"network.hosts", K::hosts_map, "{}", "names added to the container's /etc/hosts"},

    {"systemd", K::section, "", "registration with systemd"},
    {"systemd.register", K::enumeration, "auto", "auto, scope, keep-unit or none", "auto|scope|keep-unit|none"},
    {"systemd.slice", K::unit_name, "machine.slice", "slice of the transient scope"},
    {"systemd.properties", K::property_map, "{}", "extra unit properties, e.g. {CPUWeight: 200}"},
    {"systemd.notify", K::enumeration, "auto", "auto, exec, container or none: when READY=1 is sent",
     "auto|exec|container|none"},
    {"systemd.machine", K::enumeration, "auto", "auto, yes or no: register with systemd-machined (auto: when it "
     "is there)", "auto|yes|no"},

    {"stop", K::section, "", "how ctrun stops the container on SIGTERM or SIGINT"},
    {"stop.signal", K::signal, "SIGTERM (SIGRTMIN+3 with boot)", "signal sent to PID 1"},
    {"stop.timeout", K::duration, "10s", "then SIGKILL to the whole container"},
};

}  // namespace

std::span<const KeyInfo> schema() { return kKeys; }

const KeyInfo* find_key(std::string_view pattern) {
  for (const auto& k : kKeys) {
    if (k.path == pattern) return &k;
  }
  return nullptr;
}

std::vector<std::string> child_keys(std::string_view parent) {
  std::vector<std::string> out;
  for (const auto& k : kKeys) {
    std::string_view p = k.path;
    if (parent.empty()) {
      if (p.find('.') == std::string_view::npos && p.find('[') == std::string_view::npos) out.emplace_back(p);
    } else if (p.size() > parent.size() + 1 && p.substr(0, parent.size()) == parent && p[parent.size()] == '.') {
      std::string_view rest = p.substr(parent.size() + 1);
      if (rest.find('.') == std::string_view::npos) out.emplace_back(rest);
    }
  }
  return out;
}

std::string key_pattern(std::string_view path) {
  std::string out;
  bool in_index = false;
  for (char c : path) {
    if (c == '[') {
      in_index = true;
      out += "[]";
    } else if (c == ']') {
      in_index = false;
    } else if (!in_index) {
      out += c;
    }
  }
  return out;
}

std::string_view kind_description(Kind kind) {
  switch (kind) {
    case K::section: return "a mapping";
    case K::object_list: return "a list of mappings";
    case K::boolean: return "true or false";
    case K::integer: return "an integer";
    case K::count_or_max: return "a positive integer or max";
    case K::string: return "a string";
    case K::name: return "a name";
    case K::hostname: return "a host name";
    case K::host_path: return "a path";
    case K::host_path_list: return "a list of paths";
    case K::container_path: return "an absolute path";
    case K::size: return "a size";
    case K::duration: return "a duration";
    case K::octal: return "an octal mode";
    case K::enumeration: return "one of a fixed set of words";
    case K::signal: return "a signal name";
    case K::capability_list: return "a list of capability names";
    case K::syscall_list: return "a list of system call names";
    case K::cidr: return "an address with prefix";
    case K::cidr_list: return "a list of addresses with prefix";
    case K::ip: return "an IP address";
    case K::ip_list: return "a list of IP addresses";
    case K::ifname: return "an interface name";
    case K::ifname_list: return "a list of interface names";
    case K::string_list: return "a list of strings";
    case K::env_map: return "a mapping of variable names to strings";
    case K::hosts_map: return "a mapping of host names to IP addresses";
    case K::property_map: return "a mapping of unit properties to values";
    case K::rlimit_map: return "a mapping of resource names to limits";
    case K::namespace_mode: return "true, false or a namespace path";
    case K::terminal: return "auto, true or false";
    case K::cpu_max: return "a number of CPUs or max";
    case K::cpu_list: return "a CPU list";
    case K::user: return "a user name or uid";
    case K::group: return "a group name or gid";
    case K::group_list: return "a list of group names or gids";
    case K::seccomp_profile: return "default, unconfined or a path";
    case K::unit_name: return "a slice name";
    case K::device_access: return "a combination of r, w and m";
  }
  return "a value";
}

std::vector<std::string> split_choices(std::string_view choices) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < choices.size()) {
    size_t j = choices.find('|', i);
    if (j == std::string_view::npos) j = choices.size();
    out.emplace_back(choices.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace ctrun::manifest
