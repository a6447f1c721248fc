#include "cgroup/settings.h"

#include <algorithm>

namespace ctrun::cgroup {

uint64_t weight_to_shares(uint32_t weight) {
  uint64_t s = static_cast<uint64_t>(weight) * 1024 / 100;
  return std::clamp<uint64_t>(s, 2, 262144);
}

uint32_t weight_to_blkio(uint32_t weight) {
  return static_cast<uint32_t>(std::clamp<uint64_t>(static_cast<uint64_t>(weight) * 500 / 100, 10, 1000));
}

uint32_t weight_to_bfq(uint32_t weight) { return std::clamp<uint32_t>(weight, 1, 1000); }

namespace {

// cpus is positive (validated): adding one half and truncating rounds it, and
// keeps libm out of ctrun (loading it costs every start about 0.1 ms).
uint64_t quota_us(double cpus) { return static_cast<uint64_t>(cpus * 100000.0 + 0.5); }

Setting one(std::string controller, std::string file, std::string value, std::string key) {
  Setting s;
  s.controller = std::move(controller);
  s.files = {std::move(file)};
  s.value = std::move(value);
  s.key = std::move(key);
  return s;
}

// cpuset.cpus and pids.max have the same name and format in v1 and v2.
void add_same_in_both(const manifest::Manifest::Resources& r, std::vector<Setting>& out) {
  if (!r.cpuset.empty()) out.push_back(one("cpuset", "cpuset.cpus", r.cpuset, "resources.cpu.cpuset"));
  if (r.pids_max) {
    out.push_back(one("pids", "pids.max", r.pids_max->is_max ? "max" : std::to_string(r.pids_max->value),
                      "resources.pids.max"));
  }
}

}  // namespace

std::vector<Setting> v1_settings(const manifest::Manifest::Resources& r, std::vector<std::string>& unsupported) {
  std::vector<Setting> out;
  if (r.memory_max) {
    out.push_back(one("memory", "memory.limit_in_bytes", r.memory_max->is_max ? "-1" : std::to_string(r.memory_max->bytes),
                      "resources.memory.max"));
  }
  if (r.memory_high) unsupported.push_back("resources.memory.high");
  if (r.memory_swap_max) {
    // v1 limits memory + swap together.
    std::string v = "-1";
    if (!r.memory_swap_max->is_max && r.memory_max && !r.memory_max->is_max) {
      v = std::to_string(r.memory_max->bytes + r.memory_swap_max->bytes);
    } else if (!r.memory_swap_max->is_max) {
      unsupported.push_back("resources.memory.swap_max");  // needs memory.max on v1
    }
    if (v != "-1" || r.memory_swap_max->is_max) {
      out.push_back(one("memory", "memory.memsw.limit_in_bytes", v, "resources.memory.swap_max"));
    }
  }
  if (r.cpu_weight) {
    out.push_back(one("cpu", "cpu.shares", std::to_string(weight_to_shares(*r.cpu_weight)), "resources.cpu.weight"));
  }
  if (r.cpu_max) {
    out.push_back(one("cpu", "cpu.cfs_period_us", "100000", "resources.cpu.max"));
    out.push_back(one("cpu", "cpu.cfs_quota_us", r.cpu_max->is_max ? "-1" : std::to_string(quota_us(r.cpu_max->cpus)),
                   "resources.cpu.max"));
  }
  add_same_in_both(r, out);
  if (r.io_weight) {
    std::string cfq = std::to_string(weight_to_blkio(*r.io_weight)), bfq = std::to_string(weight_to_bfq(*r.io_weight));
    out.push_back({"blkio", {"blkio.weight", "blkio.bfq.weight"}, cfq, "resources.io.weight", {cfq, bfq}});
  }
  return out;
}

std::vector<Setting> v2_settings(const manifest::Manifest::Resources& r) {
  std::vector<Setting> out;
  auto size = [](const Size& s) { return s.is_max ? std::string("max") : std::to_string(s.bytes); };
  if (r.memory_max) out.push_back(one("memory", "memory.max", size(*r.memory_max), "resources.memory.max"));
  if (r.memory_high) out.push_back(one("memory", "memory.high", size(*r.memory_high), "resources.memory.high"));
  if (r.memory_swap_max) {
    out.push_back(one("memory", "memory.swap.max", size(*r.memory_swap_max), "resources.memory.swap_max"));
  }
  if (r.cpu_weight) out.push_back(one("cpu", "cpu.weight", std::to_string(*r.cpu_weight), "resources.cpu.weight"));
  if (r.cpu_max) {
    out.push_back(one("cpu", "cpu.max",
                      (r.cpu_max->is_max ? std::string("max") : std::to_string(quota_us(r.cpu_max->cpus))) + " 100000",
                      "resources.cpu.max"));
  }
  add_same_in_both(r, out);
  if (r.io_weight) {
    std::string w = "default " + std::to_string(*r.io_weight);
    out.push_back({"io", {"io.weight", "io.bfq.weight"}, w, "resources.io.weight",
                   {w, "default " + std::to_string(weight_to_bfq(*r.io_weight))}});
  }
  return out;
}

std::vector<DeviceRule> default_devices() {
  return {{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"},  {'c', 1, 8, "rwm"},
          {'c', 1, 9, "rwm"}, {'c', 5, 0, "rwm"}, {'c', 5, 1, "rwm"},  {'c', 5, 2, "rwm"},
          {'c', 136, -1, "rwm"}};
}

std::string v1_device_line(const DeviceRule& d) {
  std::string out(1, d.type);
  out += " " + std::to_string(d.major) + ":" + (d.minor < 0 ? std::string("*") : std::to_string(d.minor));
  return out + " " + d.access;
}

}  // namespace ctrun::cgroup
