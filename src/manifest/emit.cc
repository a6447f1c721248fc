#include "manifest/emit.h"

#include <yaml-cpp/yaml.h>

#include <sys/resource.h>

#include <cstdio>

#include "base/signals.h"
#include "caps/names.h"

namespace ctrun::manifest {
namespace {

// Strings are written so that reading them back gives them unchanged: a
// literal $ was $$ in the source and must be again.
std::string lit(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}

template <typename E>
std::string word(const char* key, E value) {
  return choice_word(key, static_cast<int>(value));
}

std::string ns_text(const NamespaceMode& ns) {
  switch (ns.mode) {
    case NamespaceMode::Mode::create: return "true";
    case NamespaceMode::Mode::host: return "false";
    case NamespaceMode::Mode::join: return lit(ns.path);
  }
  return "?";
}

std::string limit_text(uint64_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

std::string cpus_text(const CpuMax& c) {
  if (c.is_max) return "max";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", c.cpus);
  return buf;
}

void strings(YAML::Emitter& e, const char* key, const std::vector<std::string>& items) {
  e << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& s : items) e << lit(s);
  e << YAML::EndSeq;
}

void pairs(YAML::Emitter& e, const char* key, const StringPairs& items) {
  e << YAML::Key << key << YAML::Value;
  if (items.empty()) e << YAML::Flow;
  e << YAML::BeginMap;
  for (const auto& [k, v] : items) e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << lit(v);
  e << YAML::EndMap;
}

void id_map(YAML::Emitter& e, const char* key, const std::vector<IdRange>& map) {
  e << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const auto& r : map) {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "inside" << YAML::Value << r.inside << YAML::Key << "outside"
      << YAML::Value << r.outside << YAML::Key << "count" << YAML::Value << r.count << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

// Unset limits are left out: the kernel's default applies.
template <typename T, typename F>
void optional(YAML::Emitter& e, const char* key, const std::optional<T>& v, F text) {
  if (v) e << YAML::Key << key << YAML::Value << text(*v);
}

}  // namespace

std::string emit_yaml(const Manifest& m) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "version" << YAML::Value << m.version;
  e << YAML::Key << "name" << YAML::Value << m.name;
  e << YAML::Key << "hostname" << YAML::Value << m.hostname;

  e << YAML::Key << "rootfs" << YAML::Value << YAML::BeginMap;
  if (!m.rootfs.path.empty()) e << YAML::Key << "path" << YAML::Value << lit(m.rootfs.path);
  e << YAML::Key << "host" << YAML::Value << m.rootfs.host;
  e << YAML::Key << "readonly" << YAML::Value << m.rootfs.readonly;
  e << YAML::Key << "ephemeral" << YAML::Value << m.rootfs.ephemeral;
  e << YAML::EndMap;

  const auto& p = m.process;
  e << YAML::Key << "process" << YAML::Value << YAML::BeginMap;
  if (!p.args.empty()) strings(e, "args", p.args);
  pairs(e, "env", p.env);
  e << YAML::Key << "cwd" << YAML::Value << lit(p.cwd);
  e << YAML::Key << "user" << YAML::Value << p.user;
  if (!p.group.empty()) e << YAML::Key << "group" << YAML::Value << p.group;
  strings(e, "supplementary_groups", p.supplementary_groups);
  e << YAML::Key << "terminal" << YAML::Value
    << (p.terminal == Terminal::auto_ ? "auto" : p.terminal == Terminal::yes ? "true" : "false");
  e << YAML::Key << "umask" << YAML::Value << YAML::DoubleQuoted << format_octal(p.umask);
  e << YAML::Key << "no_new_privileges" << YAML::Value << p.no_new_privileges;
  e << YAML::Key << "oom_score_adjust" << YAML::Value << p.oom_score_adjust;
  e << YAML::Key << "rlimits" << YAML::Value << YAML::BeginMap;
  for (const auto& r : p.rlimits) {
    e << YAML::Key << r.name << YAML::Value << YAML::Flow << YAML::BeginSeq << limit_text(r.soft)
      << limit_text(r.hard) << YAML::EndSeq;
  }
  e << YAML::EndMap << YAML::EndMap;

  e << YAML::Key << "boot" << YAML::Value << m.boot;
  if (m.boot) {
    e << YAML::Key << "init" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "cgroup" << YAML::Value << word("init.cgroup", m.init.cgroup);
    if (!m.init.machine_id.empty()) e << YAML::Key << "machine_id" << YAML::Value << m.init.machine_id;
    e << YAML::Key << "link_journal" << YAML::Value << word("init.link_journal", m.init.link_journal);
    e << YAML::EndMap;
  }

  const auto& n = m.namespaces;
  e << YAML::Key << "namespaces" << YAML::Value << YAML::BeginMap;
  for (auto [key, ns] : {std::pair{"pid", &n.pid}, {"uts", &n.uts}, {"ipc", &n.ipc}, {"net", &n.net},
                         {"cgroup", &n.cgroup}, {"user", &n.user}, {"time", &n.time}}) {
    e << YAML::Key << key << YAML::Value << ns_text(*ns);
  }
  e << YAML::EndMap;

  if (n.user.mode == NamespaceMode::Mode::create) {
    e << YAML::Key << "user_namespace" << YAML::Value << YAML::BeginMap;
    id_map(e, "uid_map", m.user_namespace.uid_map);
    id_map(e, "gid_map", m.user_namespace.gid_map);
    e << YAML::EndMap;
  }

  e << YAML::Key << "mounts" << YAML::Value;
  if (m.mounts.empty()) e << YAML::Flow;
  e << YAML::BeginSeq;
  for (const auto& mt : m.mounts) {
    e << YAML::BeginMap;
    e << YAML::Key << "type" << YAML::Value << word("mounts[].type", mt.type);
    if (!mt.source.empty()) e << YAML::Key << "source" << YAML::Value << lit(mt.source);
    e << YAML::Key << "target" << YAML::Value << lit(mt.target);
    e << YAML::Key << "readonly" << YAML::Value << mt.readonly;
    if (mt.size) e << YAML::Key << "size" << YAML::Value << format_size(*mt.size);
    if (mt.mode) e << YAML::Key << "mode" << YAML::Value << YAML::DoubleQuoted << format_octal(*mt.mode);
    if (!mt.lower.empty()) strings(e, "lower", mt.lower);
    if (!mt.upper.empty()) e << YAML::Key << "upper" << YAML::Value << lit(mt.upper);
    if (!mt.work.empty()) e << YAML::Key << "work" << YAML::Value << lit(mt.work);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;

  e << YAML::Key << "devices" << YAML::Value;
  if (m.devices.empty()) e << YAML::Flow;
  e << YAML::BeginSeq;
  for (const auto& d : m.devices) {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "path" << YAML::Value << d.path << YAML::Key << "access"
      << YAML::Value << d.access << YAML::EndMap;
  }
  e << YAML::EndSeq;

  const auto& r = m.resources;
  auto size_text = [](const Size& s) { return format_size(s); };
  auto num_text = [](uint32_t v) { return std::to_string(v); };
  e << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "memory" << YAML::Value << YAML::BeginMap;
  optional(e, "max", r.memory_max, size_text);
  optional(e, "high", r.memory_high, size_text);
  optional(e, "swap_max", r.memory_swap_max, size_text);
  e << YAML::EndMap;
  e << YAML::Key << "cpu" << YAML::Value << YAML::BeginMap;
  optional(e, "weight", r.cpu_weight, num_text);
  optional(e, "max", r.cpu_max, cpus_text);
  if (!r.cpuset.empty()) e << YAML::Key << "cpuset" << YAML::Value << YAML::DoubleQuoted << r.cpuset;
  e << YAML::EndMap;
  e << YAML::Key << "pids" << YAML::Value << YAML::BeginMap;
  optional(e, "max", r.pids_max, [](const Limit& l) { return l.is_max ? std::string("max") : std::to_string(l.value); });
  e << YAML::EndMap;
  e << YAML::Key << "io" << YAML::Value << YAML::BeginMap;
  optional(e, "weight", r.io_weight, num_text);
  e << YAML::EndMap << YAML::EndMap;

  auto cap_names = [](const std::vector<int>& caps) {
    std::vector<std::string> out;
    for (int c : caps) out.push_back(caps::capability_name(c));
    return out;
  };
  e << YAML::Key << "capabilities" << YAML::Value << YAML::BeginMap;
  strings(e, "add", cap_names(m.capabilities.add));
  strings(e, "drop", cap_names(m.capabilities.drop));
  e << YAML::EndMap;

  e << YAML::Key << "seccomp" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "profile" << YAML::Value << lit(m.seccomp.profile);
  strings(e, "allow", m.seccomp.allow);
  strings(e, "deny", m.seccomp.deny);
  e << YAML::EndMap;

  const auto& net = m.network;
  e << YAML::Key << "network" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "mode" << YAML::Value << word("network.mode", net.mode);
  if (!net.bridge.empty()) e << YAML::Key << "bridge" << YAML::Value << net.bridge;
  if (!net.parent.empty()) e << YAML::Key << "parent" << YAML::Value << net.parent;
  if (net.mode == NetworkMode::macvlan)
    e << YAML::Key << "macvlan_mode" << YAML::Value << word("network.macvlan_mode", net.macvlan_mode);
  if (net.mode == NetworkMode::ipvlan)
    e << YAML::Key << "ipvlan_mode" << YAML::Value << word("network.ipvlan_mode", net.ipvlan_mode);
  if (!net.interfaces.empty()) strings(e, "interfaces", net.interfaces);
  std::vector<std::string> addresses, dns;
  for (const auto& a : net.address) addresses.push_back(format_cidr(a));
  for (const auto& a : net.dns) dns.push_back(format_ip(a));
  if (!addresses.empty()) strings(e, "address", addresses);
  if (net.gateway) e << YAML::Key << "gateway" << YAML::Value << format_ip(*net.gateway);
  if (net.host_address) e << YAML::Key << "host_address" << YAML::Value << format_cidr(*net.host_address);
  strings(e, "dns", dns);
  e << YAML::Key << "hosts" << YAML::Value << YAML::BeginMap;
  for (const auto& [host, ip] : net.hosts) e << YAML::Key << host << YAML::Value << format_ip(ip);
  e << YAML::EndMap << YAML::EndMap;

  e << YAML::Key << "systemd" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "register" << YAML::Value << word("systemd.register", m.systemd.register_);
  e << YAML::Key << "machine" << YAML::Value << word("systemd.machine", m.systemd.machine);
  e << YAML::Key << "slice" << YAML::Value << m.systemd.slice;
  pairs(e, "properties", m.systemd.properties);
  e << YAML::Key << "notify" << YAML::Value << word("systemd.notify", m.systemd.notify);
  e << YAML::EndMap;

  e << YAML::Key << "stop" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "signal" << YAML::Value << signal_name(m.stop.signal);
  e << YAML::Key << "timeout" << YAML::Value << format_duration_us(m.stop.timeout_us);
  e << YAML::EndMap;

  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace ctrun::manifest
