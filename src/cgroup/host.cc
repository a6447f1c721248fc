#include "cgroup/host.h"

#include <fstream>
#include <sstream>

namespace ctrun::cgroup {
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

// mountinfo escapes spaces and friends as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        if (i + k >= s.size() || s[i + k] < '0' || s[i + k] > '7') ok = false;
        else v = v * 8 + (s[i + k] - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

Host parse_host(std::string_view mountinfo, const std::string& controllers) {
  Host h;
  std::istringstream lines{std::string(mountinfo)};
  for (std::string line; std::getline(lines, line);) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, devno, root, point, fstype, source, super;
    pre >> id >> parent >> devno >> root >> point;
    post >> fstype >> source >> super;
    point = unescape(point);
    if (root != "/") continue;  // a bind of a sub-cgroup, not a hierarchy's root
    if (fstype == "cgroup2") {
      if (h.unified.empty()) h.unified = point;
    } else if (fstype == "cgroup") {
      std::istringstream opts(super);
      for (std::string o; std::getline(opts, o, ',');) {
        if (o == "rw" || o == "ro" || o.rfind("release_agent", 0) == 0 || o == "clone_children" ||
            o == "noprefix" || o == "xattr" || o == "cpuset_v2_mode" || o == "nsdelegate") {
          continue;
        }
        if (!h.v1.count(o)) h.v1[o] = point;
      }
    }
  }
  std::istringstream c(controllers);
  for (std::string w; c >> w;) h.v2_controllers.push_back(w);
  bool v1_controllers = false;
  for (const auto& [name, point] : h.v1) v1_controllers = v1_controllers || name.rfind("name=", 0) != 0;
  if (v1_controllers) h.mode = h.unified.empty() ? Host::Mode::legacy : Host::Mode::hybrid;
  else if (!h.unified.empty()) h.mode = Host::Mode::unified;
  return h;
}

Host read_host() {
  Host h = parse_host(read_text("/proc/self/mountinfo"), "");
  if (!h.unified.empty()) {
    std::istringstream c(read_text(h.unified + "/cgroup.controllers"));
    for (std::string w; c >> w;) h.v2_controllers.push_back(w);
  }
  std::string comm = read_text("/proc/1/comm");
  h.systemd_pid1 = comm == "systemd\n";
  return h;
}

const char* mode_name(Host::Mode m) {
  switch (m) {
    case Host::Mode::none: return "none";
    case Host::Mode::unified: return "unified";
    case Host::Mode::hybrid: return "hybrid";
    case Host::Mode::legacy: return "legacy";
  }
  return "?";
}

}  // namespace ctrun::cgroup
