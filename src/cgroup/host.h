// Which cgroup hierarchies this host has, read from /proc/self/mountinfo:
// cgroup v2 alone (unified), v1 controllers next to a cgroup2 mount
// (hybrid), or v1 only (legacy).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ctrun::cgroup {

struct Host {
  enum class Mode { none, unified, hybrid, legacy };
  Mode mode = Mode::none;
  std::string unified;                     // the cgroup2 mount point, if any
  std::vector<std::string> v2_controllers; // what its root offers (cgroup.controllers)
  std::map<std::string, std::string> v1;   // v1 controller -> mount point ("memory" -> /sys/fs/cgroup/memory)
  bool systemd_pid1 = false;               // systemd manages the tree: never remove its slices

  bool has_v1(const std::string& c) const { return v1.count(c) != 0; }
};

// Parses mountinfo text (tests feed their own) and reads cgroup.controllers
// of the cgroup2 root through `read_file` when given.
Host parse_host(std::string_view mountinfo, const std::string& controllers);
// /proc/self/cgroup's text on a host with no cgroup v1 hierarchy at all
// (its only line is "0::PATH"): PATH; else empty.
std::string unified_only_path(std::string_view proc_self_cgroup);
// The host's hierarchies. Where /sys/fs/cgroup is cgroup2, no v1 hierarchy
// exists and the process's own cgroup is found below it (the mount is the
// hierarchy's root), without reading mountinfo, whose size grows with every
// mount of the host; else from mountinfo.
Host read_host();

const char* mode_name(Host::Mode m);

// A small file of cgroupfs or procfs, whole; empty if unreadable.
std::string read_text(const std::string& path);

}  // namespace ctrun::cgroup
