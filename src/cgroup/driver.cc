#include "cgroup/driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/fd.h"
#include "base/locks.h"
#include "cgroup/bpf_devices.h"

namespace ctrun::cgroup {
namespace {

int write_file(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return -errno;
  if (write(fd.get(), value.data(), value.size()) < 0) return -errno;
  return 0;
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// "key value" lines (memory.events, memory.oom_control, cgroup.events).
uint64_t field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string k; in >> k;) {
    uint64_t v = 0;
    if (!(in >> v)) break;
    if (k == key) return v;
  }
  return 0;
}

// dir and every cgroup below it, deepest first: what `ctrun exec --cgroup`
// or a guest made inside the payload goes with it.
std::vector<std::string> subtree(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      auto below = subtree(dir + "/" + e->d_name);
      out.insert(out.end(), below.begin(), below.end());
    }
    closedir(d);
  }
  out.push_back(dir);
  return out;
}

std::vector<pid_t> procs(const std::string& dir) {
  std::vector<pid_t> out;
  std::istringstream in(read_text(dir + "/cgroup.procs"));
  for (long p; in >> p;) out.push_back(static_cast<pid_t>(p));
  return out;
}

// Waits, by pidfd, for each process to end (at most ~5 s in all).
void wait_gone(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, p, 0));
    if (fd < 0) continue;
    struct pollfd pfd {fd, POLLIN, 0};
    poll(&pfd, 1, 5000);
    close(fd);
  }
}

}  // namespace

// Removes dir and what is below it, deepest first; only empty cgroups go
// (rmdir refuses the others). True when dir is gone.
bool remove_tree(const std::string& dir) {
  for (const auto& d : subtree(dir)) rmdir(d.c_str());
  return access(dir.c_str(), F_OK) != 0;
}

// A cgroup of this name that exists already is a killed ctrun's leftover
// (the name lock is ours). Its container may still be dying (the kernel
// empties a pid namespace whose init was killed in its own time): what is
// left in it is ended by pid and waited for. True when dir is gone.
bool remove_leftover(const std::string& dir) {
  if (remove_tree(dir)) return true;
  std::vector<pid_t> left;
  for (const auto& d : subtree(dir)) {
    auto ps = procs(d);
    left.insert(left.end(), ps.begin(), ps.end());
  }
  for (pid_t p : left) kill(p, SIGKILL);
  wait_gone(left);
  return remove_tree(dir);
}

// The v1 hierarchies that hold `controllers`, each once (co-mounted
// controllers share one): {the first of them asked for, its mount point}.
std::vector<std::pair<std::string, std::string>> hierarchies(const Host& host, const std::vector<std::string>& controllers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : controllers) {
    if (!host.has_v1(c)) continue;
    const std::string& point = host.v1.at(c);
    if (std::none_of(out.begin(), out.end(), [&](const auto& h) { return h.second == point; })) out.emplace_back(c, point);
  }
  return out;
}

// A new v1 cpuset cgroup starts with no CPUs and no memory nodes: a task
// could not join it. Both come from the parent.
void inherit_cpuset(const std::string& dir, const std::string& parent) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    std::string cur = read_text(dir + "/" + file);
    if (cur.empty() || cur == "\n") write_file(dir + "/" + file, read_text(parent + "/" + file));
  }
}

bool Cgroups::make_dir(const std::string& root, const std::string& controller, const Plan& plan, Failure& f) {
  std::string slice = root + "/" + plan.slice;
  std::string dir = slice + "/" + plan.scope;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (mkdir(slice.c_str(), 0755) < 0 && errno != EEXIST) {
      f = {"create the cgroup " + slice, errno, "systemd.slice", {}};
      return false;
    }
    if (controller == "cpuset") inherit_cpuset(slice, root);
    if (mkdir(dir.c_str(), 0755) == 0) break;
    if (errno == ENOENT) continue;  // another ctrun removed the empty slice just now
    if (errno == EEXIST && attempt == 0) {
      if (remove_leftover(dir)) continue;
      errno = EEXIST;
    }
    int err = errno;
    std::string detail = err == EEXIST ? "a cgroup of that name exists and is in use" : std::string();
    f = {"create the cgroup " + dir, err, "name", detail};
    return false;
  }
  dirs_.push_back({dir, controller, slice, dir + "/payload", true, own_slices_ ? std::vector{slice} : std::vector<std::string>{}});
  if (controller == "cpuset") inherit_cpuset(dir, slice);
  return true;
}

// A v1 hierarchy that systemd does not manage (freezer, cpuset, net_cls,
// ...; systemd's delegation rules): ctrun makes the unit's path there
// itself, slices included, and removes what it made at the end.
bool Cgroups::replicate(const std::string& root, const std::string& controller, const std::string& unit, Failure& f) {
  std::vector<std::string> made;
  std::string dir = root, parent;
  std::istringstream parts(unit);
  std::vector<std::string> names;
  for (std::string n; std::getline(parts, n, '/');) {
    if (!n.empty()) names.push_back(n);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    parent = dir;
    dir += "/" + names[i];
    bool last = i + 1 == names.size();
    // (an empty leftover of this name goes; one with processes in it is
    // refused, never killed: in a hierarchy systemd manages it may be
    // systemd's own, made meanwhile)
    bool fresh = mkdir(dir.c_str(), 0755) == 0;
    if (!fresh && errno == EEXIST && last && remove_tree(dir)) fresh = mkdir(dir.c_str(), 0755) == 0;
    if (!fresh && errno != EEXIST) {
      f = {"create the cgroup " + dir, errno, "systemd.register", {}};
      return false;
    }
    if (!fresh && last) {
      f = {"create the cgroup " + dir, EEXIST, "name", "a cgroup of that name exists and is in use"};
      return false;
    }
    if (fresh) made.push_back(dir);
    if (controller == "cpuset") inherit_cpuset(dir, parent);
  }
  made.pop_back();  // dir itself
  std::reverse(made.begin(), made.end());
  dirs_.push_back({dir, controller, parent, dir + "/payload", true, made});
  return true;
}

// systemd put ctrun into the scope: that directory is the container's,
// delegated. ctrun leaves it for supervisor/ (a cgroup2 directory with
// processes cannot pass controllers down), hands the scope's controllers to
// its children, and the payload cgroup is made as usual.
bool Cgroups::adopt_scope(const Host& host, Failure& f) {
  std::string own = own_cgroups(read_text("/proc/self/cgroup"))[""];
  if (own.empty() || host.unified.empty()) {
    f = {"find the systemd scope's cgroup", 0, "systemd.register", "ctrun is in no cgroup2 cgroup"};
    return false;
  }
  std::string scope = host.unified + own;
  std::string supervisor = scope + "/supervisor";
  if (mkdir(supervisor.c_str(), 0755) < 0 && errno != EEXIST) {
    f = {"create the cgroup " + supervisor, errno, "systemd.register", {}};
    return false;
  }
  if (int rc = write_file(supervisor + "/cgroup.procs", std::to_string(getpid())); rc < 0) {
    f = {"move ctrun into " + supervisor, -rc, "systemd.register", {}};
    return false;
  }
  std::string enable;
  std::istringstream offered(read_text(scope + "/cgroup.controllers"));
  for (std::string c; offered >> c;) enable += "+" + c + " ";
  if (!enable.empty()) {
    if (int rc = write_file(scope + "/cgroup.subtree_control", enable); rc < 0) {
      f = {"delegate the controllers " + enable + "in " + scope, -rc, "systemd.register", {}};
      return false;
    }
  }
  dirs_.push_back({scope, "", scope.substr(0, scope.find_last_of('/')), scope + "/payload", false, {}});
  delegated_ = true;
  return true;
}

// The same on cgroup v1 (hybrid and legacy hosts): the unit's cgroup is
// where the name=systemd hierarchy has ctrun. In the hierarchies systemd
// manages (cpu, cpuacct, blkio, memory, devices, pids) it made the unit's
// cgroup too and moved ctrun into it: in each ctrun leaves it for
// supervisor/ and the container gets payload/, so that what systemd limits
// and counts there is the container's too. In the hierarchies the
// container needs beyond those (the freezer, cpuset, boot mode's all)
// systemd made nothing: ctrun replicates the unit's path.
bool Cgroups::adopt_unit_v1(const Host& host, const std::vector<std::string>& want, Failure& f) {
  auto own = own_cgroups(read_text("/proc/self/cgroup"));
  std::string unit = own["name=systemd"];
  if (unit.empty() || unit == "/") {
    f = {"find the systemd unit's cgroup", 0, "systemd.register", "ctrun is in no unit of the name=systemd hierarchy"};
    return false;
  }
  std::vector<std::string> all;
  for (const auto& [c, path] : own) {
    if (path == unit && host.has_v1(c)) all.push_back(c);
  }
  for (const auto& c : want) {
    if (std::find(all.begin(), all.end(), c) == all.end()) all.push_back(c);
  }
  for (const auto& [c, point] : hierarchies(host, all)) {
    if (own[c] != unit) {
      if (!replicate(point, c, unit, f)) return false;
      continue;
    }
    // (supervisor/ comes with payload/, after the device list: v1's
    // devices controller refuses a new default in a cgroup with children)
    std::string dir = point + unit;
    dirs_.push_back({dir, c, dir.substr(0, dir.find_last_of('/')), dir + "/payload", false, {}});
  }
  delegated_ = true;
  return true;
}

bool Cgroups::create(const Host& host, const Plan& plan, Failure& f) {
  if (!plan.enabled) return true;
  own_slices_ = !host.systemd_pid1;
  auto fail_key = [&](const std::string& key, const std::string& what) {
    f = {"apply " + key, 0, key, what};
    return false;
  };
  // v1: always the device allowlist; the freezer only where no cgroup2
  // offers cgroup.kill (legacy hosts); the rest as the limits ask. Each
  // hierarchy costs a mkdir, a join and an rmdir per start.
  std::vector<std::string> want;
  if (!plan.v2) {
    want = {"devices"};
    if (host.mode == Host::Mode::legacy) want.push_back("freezer");
    if (plan.boot) {
      // every hierarchy (each once: see hierarchies())
      for (const auto& [name, point] : host.v1) {
        if (std::find(want.begin(), want.end(), name) == want.end()) want.push_back(name);
      }
    }
    for (const auto& s : plan.settings) {
      if (!host.has_v1(s.controller)) return fail_key(s.key, "this host has no cgroup v1 " + s.controller + " controller");
      if (std::find(want.begin(), want.end(), s.controller) == want.end()) want.push_back(s.controller);
    }
  }
  if (plan.systemd_scope) {
    // The unit exists, delegated; systemd applies the limits it knows.
    if (!host.unified.empty() && !adopt_scope(host, f)) return false;
    if (!plan.v2 && !adopt_unit_v1(host, want, f)) return false;
  } else if (plan.v2) {
    if (host.unified.empty()) return fail_key("resources", "this host has no cgroup2 hierarchy");
    // Every controller the settings need must be offered by the root, and
    // is enabled down to the container's cgroup.
    std::vector<std::string> need;
    for (const auto& s : plan.settings) {
      if (std::find(need.begin(), need.end(), s.controller) == need.end()) need.push_back(s.controller);
    }
    for (const auto& c : need) {
      if (std::find(host.v2_controllers.begin(), host.v2_controllers.end(), c) == host.v2_controllers.end()) {
        for (const auto& s : plan.settings) {
          if (s.controller == c) return fail_key(s.key, "the host's cgroup2 root does not offer the " + c + " controller");
        }
      }
    }
    std::string enable;
    for (const auto& c : need) enable += "+" + c + " ";
    if (!enable.empty()) {
      if (int rc = write_file(host.unified + "/cgroup.subtree_control", enable); rc < 0) {
        f = {"enable the controllers " + enable + "at the cgroup2 root", -rc, "resources", {}};
        return false;
      }
    }
    if (!make_dir(host.unified, "", plan, f)) return false;
    if (!enable.empty()) {
      if (int rc = write_file(dirs_.back().slice + "/cgroup.subtree_control", enable); rc < 0) {
        f = {"enable the controllers " + enable + "in " + plan.slice, -rc, "resources", {}};
        return false;
      }
    }
  } else {
    for (const auto& [c, point] : hierarchies(host, want)) {
      if (!make_dir(point, c, plan, f)) return false;
    }
    // Hybrid: the cgroup2 side too, for cgroup.kill and the events.
    if (host.mode == Host::Mode::hybrid && !host.unified.empty()) {
      if (!make_dir(host.unified, "", plan, f)) return false;
    }
  }

  // Devices: the container's own nodes and devices[], nothing else.
  std::vector<DeviceRule> rules = plan.devices;
  for (size_t i = 0; i < plan.extra_devices.size(); ++i) {
    struct stat st {};
    std::string key = "devices[" + std::to_string(i) + "].path";
    const auto& [path, access] = plan.extra_devices[i];
    if (stat(path.c_str(), &st) < 0) {
      int err = errno;
      f = {"add the device " + path, err, key, err == ENOENT ? path + " does not exist on the host" : std::string()};
      return false;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      f = {"add the device " + path, 0, key, path + " is not a device node on the host"};
      return false;
    }
    rules.push_back({S_ISBLK(st.st_mode) ? 'b' : 'c', static_cast<long>(major(st.st_rdev)),
                     static_cast<long>(minor(st.st_rdev)), access});
  }
  bool v1_devices = false;
  for (const auto& d : dirs_) {
    if (d.controller != "devices") continue;
    v1_devices = true;
    if (int rc = write_file(d.path + "/devices.deny", "a"); rc < 0) {
      f = {"deny all devices", -rc, "devices", {}};
      return false;
    }
    // One rule per write, all on one open file.
    UniqueFd allow(open((d.path + "/devices.allow").c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    for (const auto& r : rules) {
      std::string line = v1_device_line(r);
      if (!allow || write(allow.get(), line.data(), line.size()) < 0) {
        f = {"allow the device " + line, errno, "devices", {}};
        return false;
      }
    }
  }
  if (!v1_devices) {
    // cgroup v2 (or a hybrid host without the v1 controller): a BPF program
    // on the scope, above the container's own cgroup.
    std::string scope;
    for (const auto& d : dirs_) {
      if (d.controller.empty()) scope = d.path;
    }
    UniqueFd fd(scope.empty() ? -1 : open(scope.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      f = {"restrict the container's devices", 0, "devices", "this host has neither a v1 devices controller nor cgroup2"};
      return false;
    }
    std::string log;
    if (int rc = attach_device_program(fd.get(), device_program(rules), log); rc < 0) {
      f = {"attach the device filter (BPF_PROG_TYPE_CGROUP_DEVICE)", -rc, "devices", log};
      return false;
    }
  }

  for (const auto& s : plan.settings) {
    bool done = false;
    for (const auto& d : dirs_) {
      if (plan.v2 ? !d.controller.empty() : d.controller != s.controller) continue;
      std::string file;
      size_t which = 0;
      for (; which < s.files.size(); ++which) {
        if (exists(d.path + "/" + s.files[which])) {
          file = s.files[which];
          break;
        }
      }
      if (file.empty()) {
        std::string names;
        for (const auto& c : s.files) names += (names.empty() ? "" : " or ") + c;
        return fail_key(s.key, "the host's " + (s.controller.empty() ? std::string("cgroup") : s.controller) +
                                   " controller has no " + names);
      }
      done = true;
      // The unit's property: systemd writes it where it made the unit's
      // cgroup; in a hierarchy where it did not (ctrun's copy of the path)
      // nobody would, so ctrun does.
      if (s.by_systemd && !d.owned) continue;
      if (int rc = write_file(d.path + "/" + file, s.value_for(which)); rc < 0) {
        f = {"set " + file + " to " + s.value_for(which), -rc, s.key, {}};
        return false;
      }
    }
    if (!done) return fail_key(s.key, "no cgroup of this host takes it");
  }
  // The payload cgroups last: a v1 child copies its parent's device list
  // when it is made.
  std::vector<std::string> v2_enable;
  if (plan.v2) {
    for (const auto& s : plan.settings) {
      if (std::find(v2_enable.begin(), v2_enable.end(), s.controller) == v2_enable.end()) v2_enable.push_back(s.controller);
    }
  }
  if (plan.boot && !plan.systemd_scope) {
    // What the slice and the scope are offered goes down to payload/
    // (the root's own subtree_control is left as it is).
    for (const auto& d : dirs_) {
      if (!d.controller.empty()) continue;
      std::string enable;
      std::istringstream offered(read_text(d.slice + "/cgroup.controllers"));
      for (std::string c; offered >> c;) enable += "+" + c + " ";
      if (int rc = enable.empty() ? 0 : write_file(d.slice + "/cgroup.subtree_control", enable); rc < 0) {
        f = {"enable the controllers " + enable + "in " + d.slice, -rc, "boot", {}};
        return false;
      }
      std::istringstream scope_offered(read_text(d.path + "/cgroup.controllers"));
      for (std::string c; scope_offered >> c;) {
        if (std::find(v2_enable.begin(), v2_enable.end(), c) == v2_enable.end()) v2_enable.push_back(c);
      }
    }
  }
  if (!make_payloads(v2_enable, f)) return false;
  if (plan.delegate_uid >= 0) {
    for (const auto& d : dirs_) {
      if (!d.controller.empty()) continue;
      for (const char* file : {"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control"}) {
        std::string path = d.payload + file;
        if (chown(path.c_str(), static_cast<uid_t>(plan.delegate_uid), static_cast<gid_t>(plan.delegate_gid)) < 0) {
          f = {"delegate " + path + " to the user namespace's root", errno, "namespaces.user", {}};
          return false;
        }
      }
    }
  }
  return true;
}

bool Cgroups::make_payloads(const std::vector<std::string>& v2_enable, Failure& f) {
  for (const auto& d : dirs_) {
    if (!d.owned && !d.controller.empty()) {
      // A v1 hierarchy where systemd made the unit's cgroup: ctrun leaves
      // it for supervisor/ (its own thread, by "0" in tasks: no threadgroup
      // lock; see v1_tasks_files).
      std::string supervisor = d.path + "/supervisor";
      if (mkdir(supervisor.c_str(), 0755) < 0 && errno != EEXIST) {
        f = {"create the cgroup " + supervisor, errno, "systemd.register", {}};
        return false;
      }
      if (int rc = write_file(supervisor + "/tasks", "0"); rc < 0) {
        f = {"move ctrun into " + supervisor, -rc, "systemd.register", {}};
        return false;
      }
    }
    if (d.controller.empty() && !v2_enable.empty()) {
      // The controllers reach the payload too, so that the container sees
      // its usage (memory.current, pids.current) in its own cgroup.
      std::string enable;
      for (const auto& c : v2_enable) enable += "+" + c + " ";
      if (int rc = write_file(d.path + "/cgroup.subtree_control", enable); rc < 0) {
        f = {"enable the controllers " + enable + "in " + d.path, -rc, "resources", {}};
        return false;
      }
    }
    if (mkdir(d.payload.c_str(), 0755) < 0) {
      f = {"create the cgroup " + d.payload, errno, "resources", {}};
      return false;
    }
    if (d.controller == "cpuset") {
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        write_file(d.payload + "/" + file, read_text(d.path + "/" + file));
      }
    }
  }
  return true;
}

int Cgroups::unified_fd() {
  if (unified_fd_ >= 0) return unified_fd_;
  for (const auto& d : dirs_) {
    if (d.controller.empty()) {
      unified_fd_ = open(d.payload.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      return unified_fd_;
    }
  }
  return -1;
}

int Cgroups::unified_limits_fd() const {
  for (const auto& d : dirs_) {
    if (d.controller.empty()) return open(d.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  errno = ENOENT;
  return -1;
}

std::vector<std::string> Cgroups::v1_tasks_files() const {
  std::vector<std::string> out;
  for (const auto& d : dirs_) {
    if (!d.controller.empty()) out.push_back(d.payload + "/tasks");
  }
  return out;
}

bool Cgroups::place(pid_t pid, bool v2_only, Failure& f) {
  std::string p = std::to_string(pid);
  for (const auto& d : dirs_) {
    if (v2_only && !d.controller.empty()) continue;
    if (int rc = write_file(d.payload + "/cgroup.procs", p); rc < 0) {
      f = {"move the container into " + d.payload, -rc, "resources", {}};
      return false;
    }
  }
  return true;
}

uint64_t Cgroups::oom_kills() const {
  // v1 counts a kill in the victim's own cgroup (payload), v2's
  // memory.events also up the tree: the larger of the two.
  uint64_t n = 0;
  for (const auto& d : dirs_) {
    for (const auto& dir : {d.payload, d.path}) {
      if (d.controller == "memory") n = std::max(n, field(read_text(dir + "/memory.oom_control"), "oom_kill"));
      if (d.controller.empty() && exists(dir + "/memory.events")) {
        n = std::max(n, field(read_text(dir + "/memory.events"), "oom_kill"));
      }
    }
  }
  return n;
}

std::vector<std::string> Cgroups::paths() const {
  std::vector<std::string> out;
  for (const auto& d : dirs_) out.push_back(d.path);
  return out;
}

std::vector<std::array<std::string, 3>> Cgroups::layout() const {
  std::vector<std::array<std::string, 3>> out;
  for (const auto& d : dirs_) out.push_back({d.path, d.payload, d.controller});
  return out;
}

void Cgroups::destroy() {
  if (unified_fd_ >= 0) close(unified_fd_);
  unified_fd_ = -1;
  // The usual end: the container has exited and made nothing below
  // payload/, so its directories go as they are, unread. (A live process
  // is in a cgroup of every v1 hierarchy: where payload/ could go, none was.)
  std::erase_if(dirs_, [](const Dir& d) {
    if (rmdir(d.payload.c_str()) < 0) return false;
    if (!d.owned) return true;
    if (rmdir(d.path.c_str()) < 0) return false;
    for (const auto& p : d.parents) rmdir(p.c_str());
    return true;
  });
  if (dirs_.empty()) return;
  // Whatever is still inside (a payload that left the pid namespace's
  // reach, with pid: false) is killed: cgroup.kill on cgroup2; on v1
  // frozen first, so that nothing forks away between the list and the kill.
  std::vector<pid_t> left;
  std::vector<std::vector<std::string>> trees;  // each payload's subtree
  // (In a unit of systemd's, its own cgroup holds ctrun, not the container,
  // until ctrun has moved to supervisor/: only payload/ is looked at.)
  for (const auto& d : dirs_) {
    trees.push_back(subtree(d.payload));
    if (d.owned) trees.back().push_back(d.path);
    for (const auto& dir : trees.back()) {
      auto ps = procs(dir);
      left.insert(left.end(), ps.begin(), ps.end());
    }
  }
  std::erase(left, getpid());
  if (!left.empty()) {
    bool killed = false;
    for (const auto& d : dirs_) {
      // In a delegated unit ctrun itself is in supervisor/, beside payload/.
      const std::string& target = delegated_ ? d.payload : d.path;
      if (d.controller.empty() && exists(target + "/cgroup.kill")) killed = write_file(target + "/cgroup.kill", "1") == 0;
    }
    if (!killed) {
      std::string freezer;
      for (const auto& d : dirs_) {
        if (d.controller == "freezer") freezer = d.path;
      }
      if (!freezer.empty()) write_file(freezer + "/freezer.state", "FROZEN");
      for (const auto& tree : trees) {
        for (const auto& dir : tree) {
          for (pid_t p : procs(dir)) {
            if (p != getpid()) kill(p, SIGKILL);
          }
        }
      }
      if (!freezer.empty()) write_file(freezer + "/freezer.state", "THAWED");
    }
    wait_gone(left);
  }
  for (size_t i = 0; i < dirs_.size(); ++i) {
    const auto& d = dirs_[i];
    for (const auto& dir : trees[i]) {
      if (dir != d.path) rmdir(dir.c_str());
    }
    if (!d.owned) continue;  // systemd removes its unit's cgroup once ctrun has left it
    rmdir(d.path.c_str());
    // The slices that ctrun made (no systemd, or a hierarchy systemd does
    // not manage) go too when nothing else is in them.
    for (const auto& p : d.parents) rmdir(p.c_str());
  }
  dirs_.clear();
}

std::map<std::string, std::string> own_cgroups(const std::string& proc_self_cgroup) {
  std::map<std::string, std::string> out;
  std::istringstream lines(proc_self_cgroup);
  for (std::string l; std::getline(lines, l);) {
    // id:controller,controller:path ("0::path" on cgroup2)
    size_t a = l.find(':'), b = a == std::string::npos ? a : l.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string list = l.substr(a + 1, b - a - 1), path = l.substr(b + 1);
    if (list.empty()) out[""] = path;
    std::istringstream names(list);
    for (std::string n; std::getline(names, n, ',');) out[n] = path;
  }
  return out;
}

void collect_stale(const Host& host, const std::string& slice, const std::string& state_dir) {
  std::vector<std::string> roots;
  if (!host.unified.empty()) roots.push_back(host.unified);
  for (const auto& [c, point] : host.v1) {
    if (std::find(roots.begin(), roots.end(), point) == roots.end()) roots.push_back(point);
  }
  for (const auto& root : roots) {
    std::string dir = root + "/" + slice;
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() <= 12 || n.rfind("ctrun-", 0) != 0 || n.compare(n.size() - 6, 6, ".scope") != 0) continue;
      std::string name = n.substr(6, n.size() - 12);
      // The name lock: a running container holds it (see launch/launcher.cc).
      // (with what a booted guest or exec --cgroup made below payload/)
      if (!lock_held(state_dir + "/" + name + ".lock")) remove_tree(dir + "/" + n);  // only empty ones go
    }
    closedir(d);
  }
}

}  // namespace ctrun::cgroup
