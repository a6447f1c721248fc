#include "state/state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/fd.h"

namespace ctrun::state {
namespace {

using nlohmann::json;

std::string read_small(const std::string& path, size_t limit = 1 << 20) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return {};
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof buf)) > 0 && out.size() < limit) out.append(buf, static_cast<size_t>(n));
  return out;
}

bool ensure_dir(const std::string& dir, Failure& f) {
  if (mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
    f = {"create " + dir, errno, {}, {}};
    return false;
  }
  return true;
}

json proc_json(const Proc& p) { return {{"pid", p.pid}, {"starttime", p.starttime}}; }
Proc proc_of(const json& j) { return {j.at("pid").get<pid_t>(), j.at("starttime").get<uint64_t>()}; }

}  // namespace

std::string to_json(const State& s) {
  json cgroups = json::array();
  for (const auto& c : s.cgroups) {
    cgroups.push_back({{"path", c.path}, {"payload", c.payload}, {"controller", c.controller}, {"inode", c.inode}});
  }
  json j = {
      {"version", s.version},
      {"name", s.name},
      {"status", s.status},
      {"mode", s.mode},
      {"manifest", {{"path", s.manifest}, {"sha256", s.manifest_sha256}}},
      {"seccomp_sha256", s.seccomp_sha256},
      {"boot_id", s.boot_id},
      {"supervisor", proc_json(s.supervisor)},
      {"init", proc_json(s.init)},
      {"main", proc_json(s.main)},
      {"namespaces", s.namespaces},
      {"cgroups", cgroups},
      {"unit", {{"name", s.unit}, {"keep_unit", s.keep_unit}}},
      {"network", {{"mode", s.network}, {"host_interface", s.host_interface}, {"addresses", s.addresses}}},
      {"stop", {{"signal", s.stop_signal}, {"timeout_us", s.stop_timeout_us}}},
      {"ready", s.ready},
      {"started", s.started},
  };
  return j.dump(2) + "\n";
}

bool from_json(const std::string& text, State& s, std::string& error) {
  try {
    json j = json::parse(text);
    s.version = j.at("version").get<int>();
    if (s.version != 1) {
      error = "state version " + std::to_string(s.version) + " is not 1";
      return false;
    }
    s.name = j.at("name").get<std::string>();
    s.status = j.at("status").get<std::string>();
    s.mode = j.at("mode").get<std::string>();
    s.manifest = j.at("manifest").at("path").get<std::string>();
    s.manifest_sha256 = j.at("manifest").at("sha256").get<std::string>();
    s.seccomp_sha256 = j.at("seccomp_sha256").get<std::string>();
    s.boot_id = j.at("boot_id").get<std::string>();
    s.supervisor = proc_of(j.at("supervisor"));
    s.init = proc_of(j.at("init"));
    s.main = proc_of(j.at("main"));
    s.namespaces = j.at("namespaces").get<std::map<std::string, uint64_t>>();
    s.cgroups.clear();
    for (const auto& c : j.at("cgroups")) {
      s.cgroups.push_back({c.at("path").get<std::string>(), c.at("payload").get<std::string>(),
                           c.at("controller").get<std::string>(), c.at("inode").get<uint64_t>()});
    }
    s.unit = j.at("unit").at("name").get<std::string>();
    s.keep_unit = j.at("unit").at("keep_unit").get<bool>();
    s.network = j.at("network").at("mode").get<std::string>();
    s.host_interface = j.at("network").at("host_interface").get<std::string>();
    s.addresses = j.at("network").at("addresses").get<std::vector<std::string>>();
    s.stop_signal = j.at("stop").at("signal").get<int>();
    s.stop_timeout_us = j.at("stop").at("timeout_us").get<uint64_t>();
    s.ready = j.at("ready").get<bool>();
    s.started = j.at("started").get<int64_t>();
    return true;
  } catch (const json::exception& e) {
    error = e.what();
    return false;
  }
}

bool write_state(const std::string& dir, const State& s, Failure& f) {
  if (!ensure_dir(dir, f)) return false;
  std::string tmp = dir + "/.state.json.tmp", final = dir + "/state.json";
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  std::string text = to_json(s);
  if (!fd || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      rename(tmp.c_str(), final.c_str()) < 0) {
    f = {"write " + final, errno, {}, {}};
    return false;
  }
  return true;
}

std::string snapshot_path(const std::string& dir) { return dir + "/manifest.yaml"; }

bool write_snapshot(const std::string& dir, const std::string& yaml, Failure& f) {
  if (!ensure_dir(dir, f)) return false;
  std::string path = snapshot_path(dir);
  unlink(path.c_str());
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd || write(fd.get(), yaml.data(), yaml.size()) != static_cast<ssize_t>(yaml.size())) {
    f = {"write " + path, errno, {}, {}};
    return false;
  }
  return true;
}

void remove_state(const std::string& dir) {
  for (const char* f : {"/state.json", "/.state.json.tmp", "/manifest.yaml"}) unlink((dir + f).c_str());
  rmdir(dir.c_str());
}

std::optional<State> read_state(const std::string& dir, std::string& error) {
  std::string text = read_small(dir + "/state.json");
  if (text.empty()) {
    error = "no state in " + dir;
    return std::nullopt;
  }
  State s;
  if (!from_json(text, s, error)) return std::nullopt;
  return s;
}

uint64_t starttime_of(pid_t pid) {
  std::string stat = read_small("/proc/" + std::to_string(pid) + "/stat", 4096);
  // The command name (field 2) is in parentheses and may hold anything:
  // count the fields after its last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  size_t pos = close + 1;
  for (int field = 3; field < 22; ++field) {
    pos = stat.find(' ', pos + 1);
    if (pos == std::string::npos) return 0;
  }
  return std::strtoull(stat.c_str() + pos + 1, nullptr, 10);
}

std::string boot_id() {
  std::string id = read_small("/proc/sys/kernel/random/boot_id", 64);
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

}  // namespace ctrun::state
