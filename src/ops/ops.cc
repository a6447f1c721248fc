#include "ops/ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "base/fd.h"
#include "base/locks.h"
#include "base/signals.h"
#include "cgroup/host.h"
#include "net/rtnl.h"
#include "ops/container.h"
#include "state/state.h"
#include "systemd/scope.h"

namespace ctrun::ops {
namespace {

using nlohmann::json;

std::vector<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == ".." || n == ".gc.lock" || n[0] == '@') continue;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".lock") == 0) names.insert(n.substr(0, n.size() - 5));
      else if (e->d_type == DT_DIR) names.insert(n);
    }
    closedir(d);
  }
  return {names.begin(), names.end()};
}

std::optional<uint64_t> number_in(const std::string& path) {
  std::string t = cgroup::read_text(path);
  if (t.empty()) return std::nullopt;
  if (t.rfind("max", 0) == 0) return UINT64_MAX;
  // cgroup v1 writes "no limit" as the largest page-aligned count
  // (9223372036854771712): shown as max, like v2's word.
  uint64_t v = std::strtoull(t.c_str(), nullptr, 10);
  return v >= 0x7FFFFFFFFFFFF000ULL ? UINT64_MAX : v;
}

struct Usage {
  std::optional<double> cpu_seconds;
  std::optional<uint64_t> mem, mem_limit, pids, pids_max;
};

// What the container uses (its payload cgroup: never ctrun's own share) and
// the limits above it (on the scope or unit; under systemd ctrun's own
// process is one task of it: not the container's).
Usage usage_of(const state::State& s) {
  Usage u;
  const uint64_t own_task = s.unit.empty() ? 0 : 1;
  auto minus = [](std::optional<uint64_t> v, uint64_t d) {
    return v && *v != UINT64_MAX && *v >= d ? std::optional<uint64_t>(*v - d) : v;
  };
  for (const auto& c : s.cgroups) {
    if (c.controller.empty()) {
      std::string stat = cgroup::read_text(c.payload + "/cpu.stat");
      if (auto pos = stat.find("usage_usec "); pos != std::string::npos) {
        u.cpu_seconds = std::strtod(stat.c_str() + pos + 11, nullptr) / 1e6;
      }
      if (auto m = number_in(c.payload + "/memory.current")) u.mem = m, u.mem_limit = number_in(c.path + "/memory.max");
      if (auto p = number_in(c.payload + "/pids.current")) u.pids = p, u.pids_max = minus(number_in(c.path + "/pids.max"), own_task);
    } else if (c.controller.find("cpuacct") != std::string::npos) {
      if (auto n = number_in(c.payload + "/cpuacct.usage")) u.cpu_seconds = static_cast<double>(*n) / 1e9;
    } else if (c.controller == "memory") {
      u.mem = number_in(c.payload + "/memory.usage_in_bytes");
      u.mem_limit = number_in(c.path + "/memory.limit_in_bytes");
    } else if (c.controller == "pids") {
      u.pids = number_in(c.payload + "/pids.current");
      u.pids_max = minus(number_in(c.path + "/pids.max"), own_task);
    }
  }
  return u;
}

// The container's addresses, read live in its network namespace by a child
// that joins it (through the main process's pidfd); 1 s at most.
std::vector<std::string> live_addresses(int main_pidfd) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return {};
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[0]);
    if (setns(main_pidfd, CLONE_NEWNET) < 0) _exit(1);
    net::Rtnl r;
    std::vector<net::AddrInfo> all;
    if (r.open() < 0 || r.addresses(0, all) < 0) _exit(1);
    std::string out;
    for (const auto& a : all) {
      if (a.scope == 254 /* host: loopback */ || a.scope == 253 /* link */) continue;
      out += format_cidr(a.cidr) + "\n";
    }
    ssize_t n = write(pipefd[1], out.data(), out.size());
    _exit(n < 0 ? 1 : 0);
  }
  close(pipefd[1]);
  UniqueFd in(pipefd[0]);
  std::string text;
  if (child > 0) {
    timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (true) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int left = 1000 - static_cast<int>((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
      pollfd p{in.get(), POLLIN, 0};
      if (left <= 0 || poll(&p, 1, left) <= 0) break;
      char buf[4096];
      ssize_t n = read(in.get(), buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    ::kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string human_bytes(uint64_t b) {
  if (b == UINT64_MAX) return "max";
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", v, units[u]);
  return buf;
}

std::string human_duration(int64_t s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else std::snprintf(buf, sizeof buf, "%lldh%lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  return buf;
}

}  // namespace

int list(const std::string& dir, bool as_json, bool all) {
  if (!must_be_root()) return kFailed;
  json rows = json::array();
  std::vector<std::array<std::string, 9>> table;
  for (const auto& name : names_in(dir)) {
    std::string error;
    Container c = find(dir, name, error);
    if (c.found == Found::absent || (c.found == Found::dead && !all)) continue;
    std::string st = c.found == Found::dead      ? "dead"
                     : c.found == Found::creating ? "creating"
                     : !error.empty()            ? "unknown"
                     : is_frozen(c.s)            ? "frozen"
                                                 : c.s.status;
    json row = {{"name", name}, {"state", st}, {"mode", c.s.mode}, {"pid", nullptr}, {"uptime", nullptr},
                {"cpu", nullptr},  {"memory", nullptr}, {"pids", nullptr}, {"addresses", json::array()}};
    std::array<std::string, 9> line = {name, st, c.s.mode, "-", "-", "-", "-", "-", "-"};
    if (c.found == Found::running && error.empty()) {
      row["pid"] = c.s.main.pid;
      line[3] = std::to_string(c.s.main.pid);
      int64_t up = std::max<int64_t>(0, static_cast<int64_t>(time(nullptr)) - c.s.started);
      row["uptime"] = up;
      line[4] = human_duration(up);
      Usage u = usage_of(c.s);
      if (u.cpu_seconds) {
        row["cpu"] = *u.cpu_seconds;
        char b[32];
        std::snprintf(b, sizeof b, "%.2fs", *u.cpu_seconds);
        line[5] = b;
      }
      if (u.mem) {
        row["memory"] = {{"current", *u.mem}, {"limit", u.mem_limit && *u.mem_limit != UINT64_MAX ? json(*u.mem_limit) : json(nullptr)}};
        line[6] = human_bytes(*u.mem) + "/" + (u.mem_limit ? human_bytes(*u.mem_limit) : "-");
      }
      if (u.pids) {
        row["pids"] = {{"current", *u.pids}, {"max", u.pids_max && *u.pids_max != UINT64_MAX ? json(*u.pids_max) : json(nullptr)}};
        line[7] = std::to_string(*u.pids) + "/" + (u.pids_max ? (*u.pids_max == UINT64_MAX ? "max" : std::to_string(*u.pids_max)) : "-");
      }
      if (c.s.network != "host") {
        auto addrs = live_addresses(c.main.get());
        row["addresses"] = addrs;
        if (!addrs.empty()) {
          line[8].clear();
          for (const auto& a : addrs) line[8] += (line[8].empty() ? "" : ",") + a;
        }
      }
    }
    rows.push_back(row);
    table.push_back(line);
  }
  if (as_json) {
    std::printf("%s\n", rows.dump(2).c_str());
    return 0;
  }
  std::printf("%-20s %-9s %-4s %-8s %-7s %-8s %-16s %-9s %s\n", "NAME", "STATE", "MODE", "PID", "UPTIME", "CPU", "MEM",
              "PIDS", "ADDRESSES");
  for (const auto& l : table) {
    std::printf("%-20s %-9s %-4s %-8s %-7s %-8s %-16s %-9s %s\n", l[0].c_str(), l[1].c_str(), l[2].c_str(),
                l[3].c_str(), l[4].c_str(), l[5].c_str(), l[6].c_str(), l[7].c_str(), l[8].c_str());
  }
  return 0;
}

int stop(const std::string& dir, const std::string& name, std::optional<uint64_t> timeout_us) {
  if (!must_be_root()) return kFailed;
  std::string error;
  Container c = find(dir, name, error);
  // Still being created: its state comes once the command runs (10 s at most).
  for (int i = 0; i < 500 && c.found == Found::creating; ++i) {
    usleep(20000);
    c = find(dir, name, error);
  }
  if (c.found == Found::absent || c.found == Found::dead) {
    // A ctrun killed with SIGKILL: its state and empty cgroups go. (Absent
    // too: one killed while it wrote its state leaves a directory without
    // state.json, and a lock file nobody holds.)
    for (const auto& cg : c.s.cgroups) {
      cgroup::remove_tree(cg.path);  // with what a booted guest made below payload/
    }
    // Its state and lock file, under the collection lock (see the launcher's
    // NameLock) and only while nobody holds the name: a ctrun of that name
    // starting meanwhile keeps what it makes.
    UniqueFd gc(open((dir + "/.gc.lock").c_str(), O_RDWR | O_CLOEXEC));
    if (gc && flock(gc.get(), LOCK_EX) == 0) {
      std::string lock = dir + "/" + name + ".lock";
      if (!lock_held(lock)) {
        state::remove_state(dir + "/" + name);
        unlink(lock.c_str());
      }
      flock(gc.get(), LOCK_UN);
    }
    return 0;
  }
  if (c.found == Found::creating) return fail("cannot stop " + name + ": it has been in creation for 10 s");
  if (!error.empty()) return fail("will not touch " + name + ": " + error);
  uint64_t wait_us = timeout_us ? *timeout_us : c.s.stop_timeout_us;
  // A frozen container cannot act on its stop signal: thawed first.
  if (is_frozen(c.s)) {
    std::string why;
    if (!set_frozen(freezer_of(c.s), false, why)) return fail("thaw " + name + ": " + why);
  }
  if (c.s.keep_unit && !c.s.unit.empty()) {
    // ctrun is the service: stopping the unit (no Restart= then), not
    // signalling ctrun, is what an operator means.
    Failure f;
    if (!systemd::stop_unit(c.s.unit, f)) return fail(render(f).substr(7));
  } else if (!pidfd_signal(c.supervisor.get(), SIGTERM)) {
    return fail("signal the supervisor of " + name + ": " + std::strerror(errno));
  }
  // ctrun sends stop.signal and, after stop.timeout, SIGKILL itself; past
  // that and a grace second, ctrun is ended, which ends the container.
  int ms = static_cast<int>(std::min<uint64_t>(wait_us / 1000 + 1000, 24 * 3600 * 1000));
  if (!wait_exit(c.supervisor.get(), ms)) {
    // The container is killed (its init: the whole pid namespace), and ctrun
    // cleans up after it as always; ctrun itself only as a last resort.
    pidfd_signal(c.init.get(), SIGKILL);
    pidfd_signal(c.main.get(), SIGKILL);
    if (!wait_exit(c.supervisor.get(), 5000)) {
      pidfd_signal(c.supervisor.get(), SIGKILL);
      if (!wait_exit(c.supervisor.get(), 5000)) return fail(name + " did not end");
    }
  }
  // The supervisor's exit releases the lock; its cleanup is done by then.
  for (int i = 0; i < 100 && lock_held(dir + "/" + name + ".lock"); ++i) usleep(20000);
  if (lock_held(dir + "/" + name + ".lock")) return fail("the lock of " + name + " is still held");
  return 0;
}

int kill(const std::string& dir, const std::string& name, const std::string& signal, bool all) {
  auto sig = parse_signal(signal);
  if (!sig) {
    std::fprintf(stderr, "ctrun: %s is not a signal\n", signal.c_str());
    return kUsage;
  }
  Container c;
  if (int rc = find_running(dir, name, "touch", c); rc != 0) return rc;
  if (!all) {
    if (!pidfd_signal(c.main.get(), *sig)) return fail("signal " + name + ": " + std::strerror(errno));
    return 0;
  }
  // Every process of the container: SIGKILL through cgroup.kill where the
  // kernel has it (nothing can fork away), else each one by pidfd.
  for (const auto& cg : c.s.cgroups) {
    if (!cg.controller.empty()) continue;
    if (*sig == SIGKILL && access((cg.payload + "/cgroup.kill").c_str(), W_OK) == 0) {
      UniqueFd fd(open((cg.payload + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC));
      if (fd && write(fd.get(), "1", 1) == 1) return 0;
    }
  }
  // Frozen meanwhile, so that nothing forks away between the list and the
  // signals; thawed after, unless it was frozen before.
  Freezer freezer = freezer_of(c.s);
  bool was_frozen = is_frozen(c.s), froze = false;
  if (!freezer.dir.empty() && !was_frozen) {
    std::string why;
    froze = set_frozen(freezer, true, why);
  }
  std::set<pid_t> pids;
  for (const auto& cg : c.s.cgroups) {
    std::string procs = cgroup::read_text(cg.payload + "/cgroup.procs");
    for (char* p = procs.data(); *p;) {
      char* end;
      long v = std::strtol(p, &end, 10);
      if (end == p) break;
      if (v > 0) pids.insert(static_cast<pid_t>(v));
      p = end;
    }
  }
  for (pid_t pid : pids) {
    UniqueFd fd(pidfd_open(pid));
    if (fd) pidfd_signal(fd.get(), *sig);
  }
  if (froze) {
    std::string why;
    if (!set_frozen(freezer, false, why)) return fail("thaw " + name + ": " + why);
  }
  return 0;
}

}  // namespace ctrun::ops

namespace ctrun::ops {

int freeze(const std::string& dir, const std::string& name, bool frozen) {
  Container c;
  if (int rc = find_running(dir, name, "touch", c); rc != 0) return rc;
  Freezer freezer = freezer_of(c.s);
  if (freezer.dir.empty()) {
    return fail(std::string(frozen ? "freeze " : "thaw ") + name + ": it has neither a cgroup2 nor a v1 freezer cgroup");
  }
  std::string error;
  if (!set_frozen(freezer, frozen, error)) return fail(std::string(frozen ? "freeze " : "thaw ") + name + ": " + error);
  return 0;
}

}  // namespace ctrun::ops

namespace ctrun::ops {
namespace {

struct Row {
  std::string resource;
  std::optional<uint64_t> held, maxheld, limit, failcnt;
  std::optional<std::string> text;  // pressure: "some avg10=..."
};

// "key value" lines (memory.events, cpu.stat, pids.events): the value of key.
std::optional<uint64_t> field(const std::string& path, const std::string& key) {
  std::string t = cgroup::read_text(path);
  for (size_t pos = 0; pos < t.size();) {
    size_t nl = t.find('\n', pos);
    std::string line = t.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (line.rfind(key + " ", 0) == 0) return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return std::nullopt;
}

// An event count of the container: counted where the limit is (v2,
// hierarchically) or where the failing process is (v1): the larger of both.
std::optional<uint64_t> events(const state::Cgroup& c, const std::string& file, const std::string& key) {
  auto a = field(c.payload + "/" + file, key), b = field(c.path + "/" + file, key);
  if (a && b) return std::max(*a, *b);
  return a ? a : b;
}

// The smallest limit on the way from the payload up to the unit.
std::optional<uint64_t> smallest(const state::Cgroup& c, const std::string& file) {
  auto a = number_in(c.payload + "/" + file), b = number_in(c.path + "/" + file);
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

std::vector<Row> beancounters(const state::State& s) {
  std::vector<Row> rows;
  const uint64_t own_task = s.unit.empty() ? 0 : 1;
  for (const auto& c : s.cgroups) {
    const std::string& p = c.payload;
    if (c.controller.empty() && access((p + "/memory.current").c_str(), F_OK) == 0) {
      rows.push_back({"memory", number_in(p + "/memory.current"), number_in(p + "/memory.peak"), smallest(c, "memory.max"),
                      events(c, "memory.events", "max"), {}});
      rows.push_back({"memory.high", {}, {}, smallest(c, "memory.high"), events(c, "memory.events", "high"), {}});
      rows.push_back({"oom_kill", events(c, "memory.events", "oom_kill"), {}, {}, {}, {}});
      rows.push_back({"swap", number_in(p + "/memory.swap.current"), number_in(p + "/memory.swap.peak"),
                      smallest(c, "memory.swap.max"), events(c, "memory.swap.events", "fail"), {}});
    } else if (c.controller == "memory") {
      rows.push_back({"memory", number_in(p + "/memory.usage_in_bytes"), number_in(p + "/memory.max_usage_in_bytes"),
                      smallest(c, "memory.limit_in_bytes"), number_in(c.path + "/memory.failcnt"), {}});
      rows.push_back({"oom_kill", events(c, "memory.oom_control", "oom_kill"), {}, {}, {}, {}});
      rows.push_back({"swap", number_in(p + "/memory.memsw.usage_in_bytes"), number_in(p + "/memory.memsw.max_usage_in_bytes"),
                      smallest(c, "memory.memsw.limit_in_bytes"), number_in(c.path + "/memory.memsw.failcnt"), {}});
    }
    if ((c.controller.empty() && access((p + "/pids.current").c_str(), F_OK) == 0) || c.controller == "pids") {
      auto max = smallest(c, "pids.max");
      if (max && *max != UINT64_MAX && *max >= own_task) *max -= own_task;
      rows.push_back({"pids", number_in(p + "/pids.current"), number_in(p + "/pids.peak"), max,
                      events(c, "pids.events", "max"), {}});
    }
    if (c.controller.empty()) {
      Row cpu{"cpu", field(p + "/cpu.stat", "usage_usec"), {}, {}, events(c, "cpu.stat", "nr_throttled"), {}};
      std::string max = cgroup::read_text(c.path + "/cpu.max");
      if (!max.empty() && max.rfind("max", 0) != 0) {
        uint64_t quota = std::strtoull(max.c_str(), nullptr, 10);
        uint64_t period = std::strtoull(max.c_str() + max.find(' ') + 1, nullptr, 10);
        if (period) cpu.limit = quota * 1000000 / period;  // usec of CPU per second
      }
      rows.push_back(cpu);
      std::string io = cgroup::read_text(p + "/io.stat");
      Row r{"io", {}, {}, {}, {}, {}};
      for (const char* k : {"rbytes=", "wbytes="}) {
        for (size_t pos = io.find(k); pos != std::string::npos; pos = io.find(k, pos + 1)) {
          r.held = r.held.value_or(0) + std::strtoull(io.c_str() + pos + std::strlen(k), nullptr, 10);
        }
      }
      rows.push_back(r);
      for (const char* pr : {"cpu", "memory", "io"}) {
        std::string t = cgroup::read_text(c.path + "/" + std::string(pr) + ".pressure");
        Row row{std::string(pr) + ".pressure", {}, {}, {}, {}, {}};
        if (!t.empty()) row.text = t.substr(0, t.find('\n'));
        rows.push_back(row);
      }
    } else if (c.controller.find("cpuacct") != std::string::npos) {
      if (auto n = number_in(p + "/cpuacct.usage")) rows.push_back({"cpu", *n / 1000, {}, {}, {}, {}});
    }
  }
  return rows;
}

}  // namespace

int status(const std::string& dir, const std::string& name, bool as_json) {
  Container c;
  if (int rc = find_running(dir, name, "read", c); rc != 0) return rc;
  const state::State& s = c.s;
  int64_t up = std::max<int64_t>(0, static_cast<int64_t>(time(nullptr)) - s.started);
  // Interfaces with their counters, as the container's namespace sees them
  // (/proc/PID/net/dev is the namespace of that process).
  std::vector<std::array<std::string, 3>> ifs;
  std::string dev = cgroup::read_text("/proc/" + std::to_string(s.main.pid) + "/net/dev");
  for (size_t pos = 0, line = 0; pos < dev.size(); ++line) {
    size_t nl = dev.find('\n', pos);
    std::string l = dev.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? dev.size() : nl + 1;
    size_t colon = l.find(':');
    if (line < 2 || colon == std::string::npos) continue;
    std::string ifname = l.substr(l.find_first_not_of(' '), colon - l.find_first_not_of(' '));
    unsigned long long v[16] = {};
    std::sscanf(l.c_str() + colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                &v[5], &v[6], &v[7], &v[8]);
    ifs.push_back({ifname, std::to_string(v[0]), std::to_string(v[8])});
  }
  auto rows = beancounters(s);
  std::string st = is_frozen(s) ? "frozen" : s.status;
  if (as_json) {
    auto opt = [](const std::optional<uint64_t>& v) { return v && *v != UINT64_MAX ? json(*v) : json(nullptr); };
    json j = {{"name", s.name}, {"state", st}, {"mode", s.mode},
              {"manifest", {{"path", s.manifest}, {"sha256", s.manifest_sha256}}},
              {"unit", s.unit.empty() ? json(nullptr) : json(s.unit)},
              {"pids", {{"supervisor", s.supervisor.pid}, {"init", s.init.pid}, {"main", s.main.pid}}},
              {"uptime", up}, {"namespaces", s.namespaces}, {"cgroups", json::array()}, {"interfaces", json::array()},
              {"resources", json::array()}};
    for (const auto& cg : s.cgroups) j["cgroups"].push_back(cg.payload);
    for (const auto& i : ifs) {
      j["interfaces"].push_back({{"name", i[0]}, {"rx_bytes", std::stoull(i[1])}, {"tx_bytes", std::stoull(i[2])}});
    }
    for (const auto& r : rows) {
      json row = {{"resource", r.resource}, {"held", opt(r.held)}, {"maxheld", opt(r.maxheld)},
                  {"limit", opt(r.limit)}, {"failcnt", opt(r.failcnt)}};
      if (r.text) row["pressure"] = *r.text;
      j["resources"].push_back(row);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s (%s, %s)\n", s.name.c_str(), st.c_str(), s.mode.c_str());
  std::printf("  manifest: %s (sha256 %s)\n", s.manifest.c_str(), s.manifest_sha256.c_str());
  std::printf("  unit: %s\n", s.unit.empty() ? "-" : s.unit.c_str());
  std::printf("  pids: supervisor %d, init %d, main %d; up %s\n", s.supervisor.pid, s.init.pid, s.main.pid,
              human_duration(up).c_str());
  std::string ns;
  for (const auto& [k, v] : s.namespaces) ns += (ns.empty() ? "" : " ") + k + ":" + std::to_string(v);
  std::printf("  namespaces: %s\n", ns.c_str());
  for (const auto& cg : s.cgroups) std::printf("  cgroup: %s\n", cg.payload.c_str());
  for (const auto& i : ifs) std::printf("  interface: %s rx %s tx %s bytes\n", i[0].c_str(), i[1].c_str(), i[2].c_str());
  std::printf("%-16s %14s %14s %14s %10s\n", "RESOURCE", "HELD", "MAXHELD", "LIMIT", "FAILCNT");
  auto num = [](const std::optional<uint64_t>& v) {
    return !v ? std::string("-") : *v == UINT64_MAX ? std::string("max") : std::to_string(*v);
  };
  for (const auto& r : rows) {
    if (r.text) {
      std::printf("%-16s %s\n", r.resource.c_str(), r.text->c_str());
      continue;
    }
    std::printf("%-16s %14s %14s %14s %10s\n", r.resource.c_str(), num(r.held).c_str(), num(r.maxheld).c_str(),
                num(r.limit).c_str(), num(r.failcnt).c_str());
  }
  return 0;
}

}  // namespace ctrun::ops
