#include "cgroup/host.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string_view>
#include <vector>

namespace ctrun::cgroup {
// (Plain read(2): a file stream costs more to set up than these small
// files take to read, and ctrun reads dozens of them per start.)
std::string read_text(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return out;
  char buf[8192];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
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
  // The fields of each line, split by hand: a stream per line costs more
  // than the whole parse.
  auto fields = [](std::string_view text) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      size_t end = text.find(' ', i);
      if (end == std::string_view::npos) end = text.size();
      if (end > i) out.push_back(text.substr(i, end - i));
      i = end;
    }
    return out;
  };
  while (!mountinfo.empty()) {
    size_t nl = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, nl);
    mountinfo = nl == std::string_view::npos ? std::string_view() : mountinfo.substr(nl + 1);
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto pre = fields(line.substr(0, dash)), post = fields(line.substr(dash + 3));
    if (pre.size() < 5 || post.empty()) continue;
    if (pre[3] != "/") continue;  // a bind of a sub-cgroup, not a hierarchy's root
    const std::string point = unescape(std::string(pre[4]));
    const std::string_view fstype = post[0], super = post.size() > 2 ? post[2] : std::string_view();
    if (fstype == "cgroup2") {
      if (h.unified.empty()) h.unified = point;
    } else if (fstype == "cgroup") {
      size_t i = 0;
      while (i <= super.size()) {
        size_t comma = super.find(',', i);
        if (comma == std::string_view::npos) comma = super.size();
        std::string o(super.substr(i, comma - i));
        i = comma + 1;
        if (o.empty() || o == "rw" || o == "ro" || o.rfind("release_agent", 0) == 0 || o == "clone_children" ||
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

std::string unified_only_path(std::string_view text) {
  if (text.rfind("0::/", 0) != 0) return {};
  size_t nl = text.find('\n');
  if (nl != std::string_view::npos && nl + 1 != text.size()) return {};  // more than one line
  return std::string(text.substr(3, nl == std::string_view::npos ? std::string_view::npos : nl - 3));
}

Host read_host() {
  Host h;
  struct statfs sf {};
  if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
    std::string own = unified_only_path(read_text("/proc/self/cgroup"));
    std::string procs = "/sys/fs/cgroup" + (own == "/" ? std::string() : own) + "/cgroup.procs";
    if (!own.empty() && access(procs.c_str(), F_OK) == 0) {
      h.mode = Host::Mode::unified;
      h.unified = "/sys/fs/cgroup";
    }
  }
  if (h.mode == Host::Mode::none) h = parse_host(read_text("/proc/self/mountinfo"), "");
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
