// sd_notify's protocol both ways: ctrun's own state to the service manager
// ($NOTIFY_SOCKET: READY=1, STATUS=, STOPPING=1, WATCHDOG=1), and the
// container's messages to ctrun (a datagram socket at /run/host/notify in
// the container), checked and filtered before anything goes on. The
// protocol is a documented, stable datagram format: no library needed.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ctrun::systemd {

// One datagram to a socket named as in $NOTIFY_SOCKET: a path, or "@name"
// for the abstract namespace. False when it could not be sent.
bool notify_send(const std::string& socket, std::string_view text);

// What ctrun keeps of the container's messages.
struct GuestNotify {
  bool ready = false;        // READY=1 came
  std::string exit_status;   // EXIT_STATUS=, kept for boot mode's exit status
  std::string shutdown;      // X_SYSTEMD_SHUTDOWN=, likewise
};

// The largest message ctrun takes from a container; longer ones are dropped whole.
constexpr size_t kMaxNotifyMessage = 4096;

// Filters one message of the container: returns what goes on to the
// service manager ("" for nothing). READY=1 (once) passes; STATUS= passes
// prefixed with the container's name; EXIT_STATUS= and X_SYSTEMD_SHUTDOWN=
// are kept in `state`; MAINPID= and everything else stop here (the main
// process is ctrun, and the container has no say in the unit's other state).
std::string filter_guest_message(std::string_view msg, const std::string& name, GuestNotify& state);

}  // namespace ctrun::systemd
