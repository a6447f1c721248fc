// A running container's state, for the verbs that act on it (list, stop,
// kill) and a later OCI front end: /run/ctrun/NAME/state.json, written
// atomically by the supervisor (ctrun run) while it holds NAME.lock, removed
// when it ends. Nothing in it is trusted as such: a verb proves that the
// processes are still the ones recorded (lock held, same boot, the pid's
// start time) before it acts, and then acts through a pidfd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/failure.h"

namespace ctrun::state {

// A process as recorded: its pid and its start time (field 22 of
// /proc/PID/stat, in clock ticks since boot), which a reused pid does not share.
struct Proc {
  pid_t pid = 0;
  uint64_t starttime = 0;
  friend bool operator==(const Proc&, const Proc&) = default;
};

struct Cgroup {
  std::string path;     // the limits' directory (the scope or unit)
  std::string payload;  // the container's processes
  std::string controller;  // "" for cgroup2, else the v1 hierarchy
  uint64_t inode = 0;      // of the payload directory: a recreated one differs
  friend bool operator==(const Cgroup&, const Cgroup&) = default;
};

struct State {
  int version = 1;
  std::string name;
  std::string status = "running";  // running, stopping
  std::string mode = "app";        // app (boot: later)
  std::string manifest;            // the manifest's path as given
  std::string manifest_sha256;
  std::string seccomp_sha256;  // of the payload's filters as loaded: exec loads the same or none
  std::string boot_id;
  Proc supervisor, init, main;
  std::map<std::string, uint64_t> namespaces;  // "pid" -> inode, ...
  std::vector<Cgroup> cgroups;
  std::string unit;        // the systemd unit, if any
  bool keep_unit = false;  // the unit is ctrun's own service (stop it, do not signal ctrun)
  std::string network;     // network.mode
  std::string host_interface;
  std::vector<std::string> addresses;
  int stop_signal = 15;
  uint64_t stop_timeout_us = 0;
  bool ready = false;
  int64_t started = 0;  // unix time, seconds
  friend bool operator==(const State&, const State&) = default;
};

std::string to_json(const State& s);
// Parses what to_json wrote; a missing or mistyped field is an error.
bool from_json(const std::string& text, State& out, std::string& error);

// /run/ctrun/NAME/state.json through a temporary file and rename(2).
bool write_state(const std::string& dir, const State& s, Failure& f);
std::optional<State> read_state(const std::string& dir, std::string& error);

// The effective manifest the container was started from (every key, the
// command and --set included), /run/ctrun/NAME/manifest.yaml: what `ctrun
// exec` plans the new process from. Written before state.json, 0600.
bool write_snapshot(const std::string& dir, const std::string& yaml, Failure& f);
std::string snapshot_path(const std::string& dir);
// state.json, the snapshot and the directory.
void remove_state(const std::string& dir);

// Field 22 of /proc/PID/stat, or 0 when the process does not exist.
uint64_t starttime_of(pid_t pid);
// /proc/sys/kernel/random/boot_id.
std::string boot_id();

}  // namespace ctrun::state
