// The manifest's resources (cgroup v2 names) as files to write, for each
// hierarchy kind. Pure: the driver checks at run time that the host has
// each file and fails naming the key when it has not.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "manifest/manifest.h"

namespace ctrun::cgroup {

struct Setting {
  std::string controller;  // "memory", "cpu", "pids", ... (v1: the hierarchy; v2: what subtree_control needs)
  // The file and the value; several files are alternatives, the first the
  // host has is written (v1 blkio.weight or blkio.bfq.weight), with the
  // value of the same index in `alternatives` when given.
  std::vector<std::string> files;
  std::string value;
  std::string key;  // resources.memory.max
  std::vector<std::string> alternatives;
  // A systemd unit's property sets it (systemd.register): the driver only
  // makes sure the host has the file, so that a limit systemd would skip
  // quietly is a failure naming the key, as when ctrun writes it.
  bool by_systemd = false;
  const std::string& value_for(size_t file) const {
    return file < alternatives.size() ? alternatives[file] : value;
  }
};

// cgroup v1: memory.max -> memory.limit_in_bytes, swap_max -> memsw
// (memory + swap), cpu.weight -> cpu.shares, cpu.max -> cfs quota/period,
// pids.max, io.weight -> blkio.weight, cpuset -> cpuset.cpus. memory.high has
// no v1 equivalent: it is returned in `unsupported`.
std::vector<Setting> v1_settings(const manifest::Manifest::Resources& r, std::vector<std::string>& unsupported);
std::vector<Setting> v2_settings(const manifest::Manifest::Resources& r);

// A device the container may use: type 'c' or 'b', numbers (-1: any
// minor), access "rwm".
struct DeviceRule {
  char type = 'c';
  long major = 0, minor = 0;
  std::string access = "rwm";
};

// The nodes of the container's /dev: null zero full random urandom tty,
// the console and ptmx, and every pty of its devpts (136:*).
std::vector<DeviceRule> default_devices();
std::string v1_device_line(const DeviceRule& d);  // "c 1:3 rwm"

// systemd's CPUWeight <-> CPUShares mapping (100 <-> 1024).
uint64_t weight_to_shares(uint32_t weight);
// io.weight 1..10000 (default 100) -> CFQ's blkio.weight 10..1000 (default
// 500) and BFQ's blkio.bfq.weight 1..1000 (default 100), as systemd maps them.
uint32_t weight_to_blkio(uint32_t weight);
uint32_t weight_to_bfq(uint32_t weight);

}  // namespace ctrun::cgroup
