// The verbs that act on running containers: list, stop, kill. Each finds
// the container by name in the state directory and proves, before it acts,
// that the processes are still the recorded ones (the name lock is held,
// same boot, each pid's start time as recorded), then acts through pidfds.
// Exit statuses: 0 done, 1 not running, 2 usage, 125 failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ctrun::ops {

constexpr int kNotRunning = 1;
constexpr int kUsage = 2;
constexpr int kFailed = 125;

int list(const std::string& state_dir, bool json, bool all);
// timeout_us: how long to wait after asking before killing; nullopt: the
// container's own stop.timeout.
int stop(const std::string& state_dir, const std::string& name, std::optional<uint64_t> timeout_us);
int kill(const std::string& state_dir, const std::string& name, const std::string& signal, bool all);
// One container in detail: identity, namespaces, cgroups, interfaces with
// their counters, and a beancounter table (RESOURCE HELD MAXHELD LIMIT
// FAILCNT) from the cgroup files of either version; `-`/null where the host
// has no such file. 1 when it is not running.
int status(const std::string& state_dir, const std::string& name, bool json);
// What this host gives a container, tried item by item (namespaces,
// system calls, cgroups, link kinds, devices, systemd): 0, or 1 naming the
// first missing item ctrun needs.
int check(bool json);
}  // namespace ctrun::ops
#include <functional>
#include <vector>

#include "plan/plan.h"

namespace ctrun::ops {
// check MANIFEST: what of a planned manifest this host cannot give (cgroup
// controllers, rlimits, namespaces, overlay, systemd's bus, link kinds and
// the interfaces it names): 0, or 1 naming the first key.
int check_manifest(const plan::LaunchPlan& p, bool json);
// Freezes (or thaws) the container's processes, not its ctrun, through
// cgroup2's cgroup.freeze (also on hybrid hosts), waiting (10 s at most)
// until the kernel reports it done. Idempotent.
int freeze(const std::string& state_dir, const std::string& name, bool frozen);


// ctrun exec NAME [options] -- CMD...
struct ExecRequest {
  std::string name;
  std::vector<std::string> command;
  std::optional<bool> tty;        // -t / -T; unset: a pty when stdin is a terminal
  std::string user;               // -u USER[:GROUP]: looked up in the container's files
  std::string cwd;                // -w DIR
  std::vector<std::string> env;   // -e K=V, over the container's environment
  std::string cgroup;             // --cgroup SUB: below the container's cgroup
};
// The launch plan from the container's manifest snapshot with `command` as
// process.args (the CLI's own loading; diagnostics printed), or nullopt.
using PlanLoader =
    std::function<std::optional<plan::LaunchPlan>(const std::string& snapshot, const std::vector<std::string>& command)>;
// Runs the command in the container as its payload was set up (the same
// capabilities, no_new_privileges, rlimits and seccomp filters): the
// command's exit status, 126/127 when it cannot be executed / is not found,
// 125 for every failure of ctrun's (not running and frozen included).
int exec(const std::string& state_dir, const ExecRequest& r, const PlanLoader& load);
// Makes sure ctrun runs from a copy of itself that no one can write (a
// sealed memfd; a read-only bind mount where vm.memfd_noexec forbids
// executable memfds): re-executes itself with argv when it does not, and
// returns only when it already does (true) or cannot (false, error set).
bool reexec_sealed(char** argv, std::string& error);

}  // namespace ctrun::ops
