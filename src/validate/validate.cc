#include "validate/validate.h"

#include <sys/socket.h>

#include <csignal>

#include <algorithm>
#include <set>

#include "base/text.h"
#include "base/uuid.h"
#include "caps/names.h"

namespace ctrun::validate {
namespace {

using manifest::MountType;
using manifest::NamespaceMode;
using manifest::NetworkMode;
using Mode = NamespaceMode::Mode;

void err(Diagnostics& d, const SourceMap& locs, const std::string& key, std::string msg) {
  d.error(locs.at(key), key, std::move(msg));
}

std::string mode_word(NetworkMode mode) { return manifest::choice_word("network.mode", static_cast<int>(mode)); }

void rootfs_exactly_one(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  bool path = !m.rootfs.path.empty();
  if (path && m.rootfs.host) {
    err(d, locs, "rootfs.host", "rootfs.path and rootfs.host: true exclude each other; give one");
  } else if (!path && !m.rootfs.host) {
    err(d, locs, "rootfs", "needs rootfs.path (a directory) or rootfs.host: true");
  }
}

void rootfs_modes(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (m.rootfs.readonly && m.rootfs.ephemeral) {
    err(d, locs, "rootfs.ephemeral", "rootfs.readonly and rootfs.ephemeral exclude each other");
  }
  if (m.rootfs.host && m.rootfs.ephemeral) {
    err(d, locs, "rootfs.ephemeral", "has no effect with rootfs.host: true (that root is a fresh tmpfs already)");
  }
  if (m.rootfs.path == "/" && !m.rootfs.readonly && !m.rootfs.ephemeral) {
    err(d, locs, "rootfs.path",
        "the host's / as a writable root would let the container change the host; "
        "add rootfs.readonly: true or rootfs.ephemeral: true, or use rootfs.host: true");
  }
}

void process_args(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (m.process.args.empty() && !m.boot) {
    err(d, locs, "process.args", "is required unless boot is true (the command to run)");
  } else if (!m.process.args.empty() && m.process.args.front().empty()) {
    err(d, locs, "process.args[0]", "the command is empty");
  }
}

void process_cwd(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  const std::string& c = m.process.cwd;
  if (c == "/proc" || c.starts_with("/proc/")) {
    err(d, locs, "process.cwd", "a working directory under /proc is refused (it can reach host files)");
  }
}

void boot_namespaces(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (!m.boot) return;
  const std::pair<const char*, const NamespaceMode*> needed[] = {
      {"namespaces.pid", &m.namespaces.pid}, {"namespaces.uts", &m.namespaces.uts},
      {"namespaces.cgroup", &m.namespaces.cgroup}};
  for (auto [key, ns] : needed) {
    if (ns->mode != Mode::create) err(d, locs, key, "must be true with boot: an init system needs its own namespace");
  }
}

// init.*: boot mode's keys; the machine id must be a usable id.
void init_keys(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (!m.boot) {
    for (const char* k : {"init.cgroup", "init.machine_id", "init.link_journal"}) {
      if (locs.has(k)) err(d, locs, k, "is for boot mode only (boot: true)");
    }
    return;
  }
  if (!locs.has("init.machine_id")) return;
  auto id = parse_id128(m.init.machine_id);
  if (!id) {
    err(d, locs, "init.machine_id", quoted(m.init.machine_id) + " is not 32 hex digits or a UUID");
  } else if (is_null(*id)) {
    err(d, locs, "init.machine_id", "the all-zero id is not a machine id");
  }
}

// What an init system needs from its container. ctrun tells a reboot from a
// power-off by the signal the kernel ends PID 1 with after reboot(2), which
// PID 1 may call only with CAP_SYS_BOOT: without it systemd simply exits
// and every reboot would look like a power-off. The rest only warns.
void boot_needs(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (!m.boot) return;
  const auto& drop = m.capabilities.drop;
  for (size_t i = 0; i < drop.size(); ++i) {
    std::string key = "capabilities.drop[" + std::to_string(i) + "]";
    std::string name = caps::capability_name(drop[i]);
    if (name == "CAP_SYS_BOOT") {
      err(d, locs, key, "CAP_SYS_BOOT cannot be dropped with boot: the init system's reboot and power-off "
                        "reach ctrun through reboot(2), which needs it");
    } else if (name == "CAP_SYS_ADMIN" || name == "CAP_MKNOD") {
      d.warning(locs.at(key), key, name + " dropped: systemd's units that mount file systems or create device "
                                          "nodes will fail in the container");
    }
  }
  if (m.process.no_new_privileges) {
    const char* at = locs.has("process.no_new_privileges") ? "process.no_new_privileges" : "boot";
    d.warning(locs.at(at), "process.no_new_privileges",
              "is true: setuid programs (su, sudo, ping) and file capabilities do not work in the booted "
              "system; set it to false for a full system");
  }
  if (locs.has("stop.signal") && m.stop.signal == SIGTERM) {
    d.warning(locs.at("stop.signal"), "stop.signal",
              "SIGTERM makes systemd re-execute itself instead of stopping; its halt signal is SIGRTMIN+3");
  }
  for (size_t i = 0; i < m.seccomp.deny.size(); ++i) {
    const auto& name = m.seccomp.deny[i];
    std::string why;
    if (name == "mount" || name == "umount2") why = "systemd mounts its file systems and sandboxes services with it";
    if (name == "unshare" || name == "setns") why = "systemd sandboxes its services with it";
    if (name == "reboot") why = "systemd's halt, power-off and reboot reach ctrun through it";
    if (!why.empty()) {
      std::string key = "seccomp.deny[" + std::to_string(i) + "]";
      d.warning(locs.at(key), key, name + " denied: " + why);
    }
  }
}

void hostname_needs_uts(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (locs.has("hostname") && m.namespaces.uts.mode != Mode::create) {
    err(d, locs, "hostname", "cannot be set without a new UTS namespace (namespaces.uts: true)");
  }
}

void user_namespace_keys(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  if (locs.has("user_namespace") && m.namespaces.user.mode != Mode::create) {
    err(d, locs, "user_namespace", "is used only with namespaces.user: true");
  }
}

void id_maps(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  constexpr uint64_t kIdEnd = 4294967295ULL;  // (uid_t)-1 is never a valid id
  for (auto [key, map] : {std::pair{"user_namespace.uid_map", &m.user_namespace.uid_map},
                          std::pair{"user_namespace.gid_map", &m.user_namespace.gid_map}}) {
    if (m.namespaces.user.mode != Mode::create) continue;
    if (map->empty()) {
      err(d, locs, key, "needs at least one range");
      continue;
    }
    if (map->size() > 340) err(d, locs, key, "has more than 340 ranges (the kernel's limit)");
    bool root_mapped = false;
    for (const auto& r : *map) root_mapped = root_mapped || (r.inside == 0 && r.count > 0);
    if (!root_mapped) {
      err(d, locs, key, "must map id 0 inside (a range with inside: 0): the container's root sets it up");
    }
    for (size_t i = 0; i < map->size(); ++i) {
      const auto& r = (*map)[i];
      std::string item = std::string(key) + "[" + std::to_string(i) + "]";
      if (r.inside + r.count > kIdEnd) {
        err(d, locs, item, "inside ids " + std::to_string(r.inside) + " + " + std::to_string(r.count) +
                               " go past 4294967294 (ids must stay below 2^32 - 1)");
      }
      if (r.outside + r.count > kIdEnd) {
        err(d, locs, item, "outside ids " + std::to_string(r.outside) + " + " + std::to_string(r.count) +
                               " go past 4294967294 (ids must stay below 2^32 - 1)");
      }
      for (size_t j = 0; j < i; ++j) {
        const auto& o = (*map)[j];
        auto overlap = [](uint64_t a, uint64_t an, uint64_t b, uint64_t bn) { return a < b + bn && b < a + an; };
        if (overlap(r.inside, r.count, o.inside, o.count)) {
          err(d, locs, item, "inside range overlaps " + std::string(key) + "[" + std::to_string(j) + "]");
        }
        if (overlap(r.outside, r.count, o.outside, o.count)) {
          err(d, locs, item, "outside range overlaps " + std::string(key) + "[" + std::to_string(j) + "]");
        }
      }
    }
  }
}

void mounts(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  for (size_t i = 0; i < m.mounts.size(); ++i) {
    const auto& mt = m.mounts[i];
    std::string p = "mounts[" + std::to_string(i) + "]";
    const char* type = mt.type == MountType::bind ? "bind" : mt.type == MountType::tmpfs ? "tmpfs" : "overlay";
    auto only = [&](const char* key, bool given, bool allowed) {
      if (given && !allowed) err(d, locs, p + "." + key, std::string("is not used by type ") + type);
    };
    only("source", locs.has(p + ".source"), mt.type == MountType::bind);
    only("size", locs.has(p + ".size"), mt.type == MountType::tmpfs);
    only("mode", locs.has(p + ".mode"), mt.type == MountType::tmpfs);
    only("lower", locs.has(p + ".lower"), mt.type == MountType::overlay);
    only("upper", locs.has(p + ".upper"), mt.type == MountType::overlay);
    only("work", locs.has(p + ".work"), mt.type == MountType::overlay);
    if (mt.type == MountType::bind && !locs.has(p + ".source")) err(d, locs, p, "a bind mount needs source");
    if (mt.type == MountType::overlay) {
      if (mt.lower.empty()) err(d, locs, p, "an overlay mount needs lower (one or more directories)");
      if (mt.upper.empty() != mt.work.empty()) {
        err(d, locs, p + (mt.upper.empty() ? ".work" : ".upper"), "upper and work go together");
      }
    }
    if (mt.target.empty()) continue;
    if (mt.target == "/") {
      err(d, locs, p + ".target", "cannot mount over the root (use rootfs)");
    } else if (mt.target == "/proc" || mt.target.starts_with("/proc/")) {
      err(d, locs, p + ".target", "mounts over /proc are refused (they could hide the masks that protect the host)");
    }
  }
}

void devices(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  std::set<std::string> seen;
  for (size_t i = 0; i < m.devices.size(); ++i) {
    std::string p = "devices[" + std::to_string(i) + "].path";
    const std::string& path = m.devices[i].path;
    if (path.empty()) continue;
    if (!path.starts_with("/dev/")) err(d, locs, p, quoted(path) + " is not under /dev");
    if (!seen.insert(path).second) err(d, locs, p, quoted(path) + " is listed twice");
  }
}

void capabilities(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  for (size_t i = 0; i < m.capabilities.drop.size(); ++i) {
    int cap = m.capabilities.drop[i];
    if (std::find(m.capabilities.add.begin(), m.capabilities.add.end(), cap) != m.capabilities.add.end()) {
      err(d, locs, "capabilities.drop[" + std::to_string(i) + "]",
          caps::capability_name(cap) + " is both added and dropped");
    }
  }
}

void seccomp(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  for (size_t i = 0; i < m.seccomp.deny.size(); ++i) {
    const auto& name = m.seccomp.deny[i];
    if (std::find(m.seccomp.allow.begin(), m.seccomp.allow.end(), name) != m.seccomp.allow.end()) {
      err(d, locs, "seccomp.deny[" + std::to_string(i) + "]", name + " is both allowed and denied");
    }
  }
  if (m.seccomp.profile == "unconfined" && !m.seccomp.allow.empty()) {
    err(d, locs, "seccomp.allow", "has no effect with profile unconfined (everything is allowed)");
  }
}

void network_namespace(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  const auto& net = m.namespaces.net;
  NetworkMode mode = m.network.mode;
  if (mode == NetworkMode::host && net.mode != Mode::host) {
    err(d, locs, "network.mode", "host needs namespaces.net: false");
  } else if (mode != NetworkMode::host && net.mode == Mode::host) {
    err(d, locs, locs.has("network.mode") ? "network.mode" : "namespaces.net",
        mode_word(mode) + " needs a network namespace; with namespaces.net: false use network.mode: host");
  } else if (net.mode == Mode::join && mode != NetworkMode::none) {
    err(d, locs, "network.mode", "must be none when namespaces.net joins an existing namespace (it is used as it is)");
  }
}

void network_mode_keys(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  NetworkMode mode = m.network.mode;
  auto is = [&](std::initializer_list<NetworkMode> modes) {
    return std::find(modes.begin(), modes.end(), mode) != modes.end();
  };
  struct Rule {
    const char* key;
    bool allowed;
    bool required;
    const char* modes;
  };
  const Rule rules[] = {
      {"network.bridge", is({NetworkMode::bridge}), mode == NetworkMode::bridge, "bridge"},
      {"network.parent", is({NetworkMode::macvlan, NetworkMode::ipvlan}), is({NetworkMode::macvlan, NetworkMode::ipvlan}),
       "macvlan and ipvlan"},
      {"network.macvlan_mode", is({NetworkMode::macvlan}), false, "macvlan"},
      {"network.ipvlan_mode", is({NetworkMode::ipvlan}), false, "ipvlan"},
      {"network.interfaces", is({NetworkMode::interface}), mode == NetworkMode::interface, "interface"},
      {"network.host_address", is({NetworkMode::veth, NetworkMode::bridge}), false, "veth and bridge"},
      {"network.address", !is({NetworkMode::none, NetworkMode::host}), false,
       "veth, bridge, macvlan, ipvlan and interface"},
      {"network.gateway", !is({NetworkMode::none, NetworkMode::host}), false,
       "veth, bridge, macvlan, ipvlan and interface"},
  };
  for (const auto& r : rules) {
    if (locs.has(r.key) && !r.allowed) {
      err(d, locs, r.key, std::string("is used only with network.mode ") + r.modes + ", not " + mode_word(mode));
    } else if (r.required && !locs.has(r.key)) {
      err(d, locs, "network.mode", mode_word(mode) + " needs " + r.key);
    }
  }
  if (mode == NetworkMode::interface && locs.has("network.interfaces") && m.network.interfaces.empty()) {
    err(d, locs, "network.interfaces", "needs at least one interface");
  }
}

void network_addresses(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  const auto& n = m.network;
  for (size_t i = 0; i < n.address.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (n.address[i].address == n.address[j].address) {
        err(d, locs, "network.address[" + std::to_string(i) + "]", format_cidr(n.address[i]) + " is listed twice");
      }
    }
    if (n.host_address && n.host_address->address == n.address[i].address) {
      err(d, locs, "network.host_address", "is the same address as network.address[" + std::to_string(i) + "]");
    }
  }
  if (n.gateway) {
    bool family = false, reachable = false;
    for (const auto& a : n.address) {
      if (a.address.family != n.gateway->family) continue;
      family = true;
      if (cidr_contains(a, *n.gateway)) reachable = true;
    }
    bool link_local = n.gateway->family == AF_INET6 && n.gateway->bytes[0] == 0xfe && (n.gateway->bytes[1] & 0xc0) == 0x80;
    if (!family) {
      err(d, locs, "network.gateway", "needs a network.address of the same family (IPv4 or IPv6)");
    } else if (!reachable && !link_local) {
      err(d, locs, "network.gateway", format_ip(*n.gateway) + " is not in the subnet of any network.address");
    }
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < n.interfaces.size(); ++i) {
    if (!seen.insert(n.interfaces[i]).second) {
      err(d, locs, "network.interfaces[" + std::to_string(i) + "]", quoted(n.interfaces[i]) + " is listed twice");
    }
  }
}

void memory_limits(const Manifest& m, const SourceMap& locs, Diagnostics& d) {
  const auto& r = m.resources;
  if (r.memory_high && r.memory_max && !r.memory_high->is_max && !r.memory_max->is_max &&
      r.memory_high->bytes > r.memory_max->bytes) {
    d.warning(locs.at("resources.memory.high"), "resources.memory.high",
              "is above resources.memory.max, so it never takes effect");
  }
}

constexpr Check kChecks[] = {
    {"rootfs_exactly_one", rootfs_exactly_one},
    {"rootfs_modes", rootfs_modes},
    {"process_args", process_args},
    {"process_cwd", process_cwd},
    {"boot_namespaces", boot_namespaces},
    {"init_keys", init_keys},
    {"boot_needs", boot_needs},
    {"hostname_needs_uts", hostname_needs_uts},
    {"user_namespace_keys", user_namespace_keys},
    {"id_maps", id_maps},
    {"mounts", mounts},
    {"devices", devices},
    {"capabilities", capabilities},
    {"seccomp", seccomp},
    {"network_namespace", network_namespace},
    {"network_mode_keys", network_mode_keys},
    {"network_addresses", network_addresses},
    {"memory_limits", memory_limits},
};

}  // namespace

std::span<const Check> checks() { return kChecks; }

bool validate(const Manifest& m, const SourceMap& locs, Diagnostics& diags) {
  Diagnostics local;
  for (const auto& c : kChecks) c.run(m, locs, local);
  // After read errors the manifest holds defaults where values were wrong; a
  // rule about such a key would only repeat the problem, so it is left out.
  auto related = [](const std::string& a, const std::string& b) {
    auto below = [](const std::string& x, const std::string& y) {
      return x.size() > y.size() && x.compare(0, y.size(), y) == 0 && (x[y.size()] == '.' || x[y.size()] == '[');
    };
    return a == b || below(a, b) || below(b, a);
  };
  Diagnostics kept;
  for (const auto& d : local.items()) {
    bool shadowed = false;
    for (const auto& earlier : diags.items()) {
      if (earlier.severity == Severity::error && !earlier.key.empty() && related(d.key, earlier.key)) shadowed = true;
    }
    if (shadowed) continue;
    if (d.severity == Severity::error) kept.error(d.loc, d.key, d.message);
    else kept.warning(d.loc, d.key, d.message);
  }
  bool ok = !kept.has_errors();
  diags.append(kept);
  diags.sort();
  return ok;
}

}  // namespace ctrun::validate
