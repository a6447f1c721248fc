#include "launch/ids.h"

#include <algorithm>
#include <optional>

#include "base/units.h"

namespace ctrun::launch {
namespace {

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t c = line.find(':', pos);
    out.push_back(line.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return out;
}

std::vector<std::vector<std::string>> records(const std::string& text, size_t min_fields) {
  std::vector<std::vector<std::string>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.empty() || line[0] == '#') continue;
    auto f = fields(line);
    if (f.size() >= min_fields) out.push_back(std::move(f));
  }
  return out;
}

std::optional<uint32_t> number(const std::string& s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  auto v = parse_int(s, 0, 4294967294LL);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<gid_t> find_group(const std::vector<std::vector<std::string>>& groups, const std::string& name) {
  if (auto n = number(name)) return *n;
  for (const auto& g : groups) {
    if (g[0] == name) return number(g[2]);
  }
  return std::nullopt;
}

}  // namespace

bool resolve_identity(const std::string& passwd, const std::string& group, const plan::ExecPlan& e, Identity& out,
                      Failure& f) {
  out = Identity{};
  auto users = records(passwd, 7);
  auto groups = records(group, 4);
  std::string user_name;
  bool found = false;
  for (const auto& u : users) {
    bool match = u[0] == e.user || (number(e.user) && number(u[2]) == number(e.user));
    if (!match) continue;
    auto uid = number(u[2]);
    auto gid = number(u[3]);
    if (!uid || !gid) continue;
    out.uid = *uid;
    out.gid = *gid;
    out.home = u[5].empty() ? "/" : u[5];
    user_name = u[0];
    found = true;
    break;
  }
  if (!found) {
    auto n = number(e.user);
    if (!n) {
      f = {"look up user " + e.user + " in the container's /etc/passwd", 0, "process.user", "no such user"};
      return false;
    }
    out.uid = out.gid = *n;
  }
  if (!e.group.empty()) {
    auto g = find_group(groups, e.group);
    if (!g) {
      f = {"look up group " + e.group + " in the container's /etc/group", 0, "process.group", "no such group"};
      return false;
    }
    out.gid = *g;
  }
  out.groups.clear();
  if (!user_name.empty()) {
    for (const auto& g : groups) {
      std::string members = "," + g[3] + ",";
      if (members.find("," + user_name + ",") == std::string::npos) continue;
      if (auto gid = number(g[2])) out.groups.push_back(*gid);
    }
  }
  // As initgroups(3) does: the primary group is among the groups too.
  out.groups.push_back(out.gid);
  for (size_t i = 0; i < e.supplementary_groups.size(); ++i) {
    auto g = find_group(groups, e.supplementary_groups[i]);
    if (!g) {
      f = {"look up group " + e.supplementary_groups[i] + " in the container's /etc/group", 0,
           "process.supplementary_groups[" + std::to_string(i) + "]", "no such group"};
      return false;
    }
    out.groups.push_back(*g);
  }
  std::sort(out.groups.begin(), out.groups.end());
  out.groups.erase(std::unique(out.groups.begin(), out.groups.end()), out.groups.end());
  return true;
}

}  // namespace ctrun::launch
