// The manifest schema: one table of every key (path, type, default, doc).
// It drives key recognition and "did you mean" suggestions in the reader, the
// type each getter may read a key as, `ctrun validate --schema`, and a test
// that checks man/ctrun.manifest.5 documents exactly these keys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ctrun::manifest {

enum class Kind {
  section,        // a mapping of further keys
  object_list,    // a list of mappings whose keys are PATH[].KEY
  boolean,
  integer,        // range in min..max
  count_or_max,   // a positive integer or `max`
  string,
  name,           // [A-Za-z0-9_.-]{1,64}
  hostname,
  host_path,      // a host path; relative paths resolve against the manifest's directory
  host_path_list,
  container_path, // an absolute path inside the container
  size,           // 512M, 2G; `max` where the doc says so
  duration,       // 10s, 500ms, 2min
  octal,          // "0022"
  enumeration,    // one of choices
  signal,
  capability_list,
  syscall_list,
  cidr,
  cidr_list,
  ip,
  ip_list,
  ifname,
  ifname_list,
  string_list,
  env_map,        // NAME: value
  hosts_map,      // hostname: ip
  property_map,   // systemd unit property: value
  rlimit_map,     // resource: soft, or [soft, hard]
  namespace_mode, // true | false | a path to join
  terminal,       // auto | true | false
  cpu_max,        // CPUs' worth of time (1.5) or `max`
  cpu_list,       // 0-3,5
  user,           // a name or a uid
  group,          // a name or a gid
  group_list,
  seccomp_profile,// default | unconfined | a file
  unit_name,      // a systemd slice name
  device_access,  // r, w, m in any combination
};

struct KeyInfo {
  std::string_view path;     // dotted; list items as mounts[].target
  Kind kind;
  std::string_view def;      // default, as shown to users ("" = none)
  std::string_view doc;      // one line
  std::string_view choices = {};  // enumeration: a|b|c
  int64_t min = 0;           // integer range
  int64_t max = 0;
};

std::span<const KeyInfo> schema();
const KeyInfo* find_key(std::string_view pattern);
// The keys directly below `parent` ("" for the top level), last segment only.
std::vector<std::string> child_keys(std::string_view parent);
// mounts[3].target -> mounts[].target
std::string key_pattern(std::string_view path);
// What a value of this kind looks like, for messages and the man page.
std::string_view kind_description(Kind kind);
std::vector<std::string> split_choices(std::string_view choices);

}  // namespace ctrun::manifest
