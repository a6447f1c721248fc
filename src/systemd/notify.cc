#include "systemd/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <optional>

namespace ctrun::systemd {

bool notify_send(const std::string& socket_path, std::string_view text) {
  if (socket_path.empty() || socket_path.size() >= sizeof(sockaddr_un::sun_path)) return false;
  if (socket_path[0] != '/' && socket_path[0] != '@') return false;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, socket_path.data(), socket_path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  if (a.sun_path[0] == '@') a.sun_path[0] = '\0';  // abstract: no trailing NUL counted
  else ++len;
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  bool ok = sendto(s, text.data(), text.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&a), len) ==
            static_cast<ssize_t>(text.size());
  close(s);
  return ok;
}

std::string filter_guest_message(std::string_view msg, const std::string& name, GuestNotify& state) {
  std::string out;
  while (!msg.empty()) {
    size_t nl = msg.find('\n');
    std::string_view line = msg.substr(0, nl);
    msg = nl == std::string_view::npos ? std::string_view() : msg.substr(nl + 1);
    auto value_of = [&](std::string_view key) -> std::optional<std::string_view> {
      if (line.size() >= key.size() && line.substr(0, key.size()) == key) return line.substr(key.size());
      return std::nullopt;
    };
    if (line == "READY=1") {
      if (!state.ready) out += "READY=1\n";
      state.ready = true;
    } else if (auto v = value_of("STATUS=")) {
      // A status is one line; control characters are not the container's to send on.
      std::string clean;
      for (char c : *v) clean += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
      out += "STATUS=" + name + ": " + clean + "\n";
    } else if (auto e = value_of("EXIT_STATUS=")) {
      state.exit_status = std::string(*e);
    } else if (auto d = value_of("X_SYSTEMD_SHUTDOWN=")) {
      state.shutdown = std::string(*d);
    }
  }
  return out;
}

}  // namespace ctrun::systemd
