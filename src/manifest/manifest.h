// The manifest as plain values: what the reader produces after types,
// defaults, ${VAR} expansion and relative paths are settled. No YAML types
// here, so that an OCI front end can fill the same structs later.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/diagnostic.h"
#include "base/netaddr.h"
#include "base/units.h"

namespace ctrun::manifest {

// Enumerations list their values in the order of the schema's choices.
enum class MountType { bind, tmpfs, overlay };
enum class NetworkMode { none, host, veth, bridge, macvlan, ipvlan, interface };
enum class MacvlanMode { private_, vepa, bridge, passthru };
enum class IpvlanMode { l2, l3, l3s };
enum class Register { auto_, scope, keep_unit, none };
enum class Machine { auto_, yes, no };
enum class Notify { auto_, exec, container, none };
enum class InitCgroup { auto_, unified, hybrid, legacy };
enum class LinkJournal { no, auto_, host, guest, try_host, try_guest };
enum class Terminal { auto_, yes, no };

struct NamespaceMode {
  enum class Mode { create, host, join };
  Mode mode = Mode::create;
  std::string path;  // join only
  friend bool operator==(const NamespaceMode&, const NamespaceMode&) = default;
};

struct IdRange {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint64_t count = 0;
  friend bool operator==(const IdRange&, const IdRange&) = default;
};

struct Mount {
  MountType type = MountType::bind;
  std::string source;  // bind: absolute host path
  std::string target;  // absolute container path
  bool readonly = false;
  std::optional<Size> size;      // tmpfs
  std::optional<uint32_t> mode;  // tmpfs
  std::vector<std::string> lower;  // overlay, absolute host paths
  std::string upper, work;         // overlay, absolute host paths or empty
  friend bool operator==(const Mount&, const Mount&) = default;
};

struct Device {
  std::string path;
  std::string access = "rwm";
  friend bool operator==(const Device&, const Device&) = default;
};

struct Rlimit {
  std::string name;  // lower case, as written: nofile
  int resource = 0;  // RLIMIT_NOFILE
  uint64_t soft = 0, hard = 0;  // RLIM_INFINITY for unlimited
  friend bool operator==(const Rlimit&, const Rlimit&) = default;
};

// A count that may be `max`.
struct Limit {
  bool is_max = false;
  uint64_t value = 0;
  friend bool operator==(const Limit&, const Limit&) = default;
};

struct CpuMax {
  bool is_max = false;
  double cpus = 0;
  friend bool operator==(const CpuMax&, const CpuMax&) = default;
};

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct Manifest {
  int version = 1;
  std::string name;
  std::string hostname;

  struct Rootfs {
    std::string path;  // absolute, or empty with host
    bool host = false;
    bool readonly = false;
    bool ephemeral = false;
    friend bool operator==(const Rootfs&, const Rootfs&) = default;
  } rootfs;

  struct Process {
    std::vector<std::string> args;
    StringPairs env;
    std::string cwd = "/";
    std::string user = "root";
    std::string group;  // empty: the user's primary group
    std::vector<std::string> supplementary_groups;
    Terminal terminal = Terminal::auto_;
    uint32_t umask = 022;
    bool no_new_privileges = true;
    int oom_score_adjust = 0;
    std::vector<Rlimit> rlimits;
    friend bool operator==(const Process&, const Process&) = default;
  } process;

  bool boot = false;

  struct Init {
    InitCgroup cgroup = InitCgroup::auto_;
    std::string machine_id;  // as written: 32 hex digits or a UUID
    LinkJournal link_journal = LinkJournal::auto_;
    friend bool operator==(const Init&, const Init&) = default;
  } init;

  struct Namespaces {
    NamespaceMode pid, uts, ipc, net, cgroup;
    NamespaceMode user{NamespaceMode::Mode::host, {}};
    NamespaceMode time{NamespaceMode::Mode::host, {}};
    friend bool operator==(const Namespaces&, const Namespaces&) = default;
  } namespaces;

  struct UserNamespace {
    std::vector<IdRange> uid_map, gid_map;
    friend bool operator==(const UserNamespace&, const UserNamespace&) = default;
  } user_namespace;

  std::vector<Mount> mounts;
  std::vector<Device> devices;

  // Unset means "not written": the cgroup keeps the kernel's default.
  struct Resources {
    std::optional<Size> memory_max, memory_high, memory_swap_max;
    std::optional<uint32_t> cpu_weight;
    std::optional<CpuMax> cpu_max;
    std::string cpuset;
    std::optional<Limit> pids_max;
    std::optional<uint32_t> io_weight;
    friend bool operator==(const Resources&, const Resources&) = default;
  } resources;

  struct Capabilities {
    std::vector<int> add, drop;
    friend bool operator==(const Capabilities&, const Capabilities&) = default;
  } capabilities;

  struct Seccomp {
    std::string profile = "default";  // default | unconfined | an absolute path
    std::vector<std::string> allow, deny;
    friend bool operator==(const Seccomp&, const Seccomp&) = default;
  } seccomp;

  struct Network {
    NetworkMode mode = NetworkMode::none;
    std::string bridge, parent;
    MacvlanMode macvlan_mode = MacvlanMode::bridge;
    IpvlanMode ipvlan_mode = IpvlanMode::l2;
    std::vector<std::string> interfaces;
    std::vector<Cidr> address;
    std::optional<IpAddress> gateway;
    std::optional<Cidr> host_address;
    std::vector<IpAddress> dns;
    std::vector<std::pair<std::string, IpAddress>> hosts;
    friend bool operator==(const Network&, const Network&) = default;
  } network;

  struct Systemd {
    Register register_ = Register::auto_;
    Machine machine = Machine::auto_;
    std::string slice = "machine.slice";
    StringPairs properties;
    Notify notify = Notify::auto_;
    friend bool operator==(const Systemd&, const Systemd&) = default;
  } systemd;

  struct Stop {
    int signal = 15;
    uint64_t timeout_us = 10'000'000;
    friend bool operator==(const Stop&, const Stop&) = default;
  } stop;

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

// Where each key given by the user stands: key path (mounts[0].target) ->
// position of the key (of the item, for list items). Keys left at their
// default have no entry.
struct SourceMap {
  std::string file;  // the manifest as the user named it
  std::map<std::string, SourceLoc> keys;

  bool has(const std::string& path) const { return keys.count(path) != 0; }
  // The position of the key, else of its nearest given parent, else 1:1.
  SourceLoc at(const std::string& path) const;
};

// The schema's word for an enumeration value: to_word("network.mode", 2) == "veth".
std::string choice_word(std::string_view key_pattern, int index);

}  // namespace ctrun::manifest
