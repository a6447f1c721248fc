// The parent/child handshake: fixed-size messages over a SOCK_SEQPACKET
// socketpair, one per step, numbered so that both sides agree on where the
// launch stands. A failure in the child arrives as errno + what + key, so
// the user sees the cause, not "child exited 1".
#pragma once

#include <cstdint>

#include "base/failure.h"

namespace ctrun::launch {

enum class Step : uint32_t {
  // parent -> child: the host side is ready (id maps, cgroups and network
  // will hang here); the child may build the container.
  host_ready = 1,
  // child -> parent: the pty master of the container's console (SCM_RIGHTS).
  terminal = 2,
  // child -> parent: the payload has called execve.
  payload_running = 3,
  // child -> parent: the payload ended; `status` is its wait status.
  payload_exited = 4,
  // child -> parent: setup or exec failed; `status` is ctrun's exit code.
  failed = 5,
  // parent -> child: lo is up, the network built, machined told (sent only
  // when the plan has any of them: LaunchPlan::host_sets_up_network()); the
  // child waits for it before the payload starts.
  network_ready = 6,
  // child -> parent: the container's notify socket (SCM_RIGHTS), bound at
  // /run/host/notify (systemd.notify: container).
  notify_socket = 7,
};

struct Message {
  Step step{};
  int32_t err = 0;
  int32_t status = 0;
  char what[320] = {};
  char key[64] = {};
  char detail[160] = {};
};

// Send and receive whole messages; `fd_out`/`fd_in` carry an SCM_RIGHTS fd.
// Return false on a broken socket. Async-signal-safe apart from nothing.
bool send_message(int sock, const Message& m, int fd_out = -1);
bool recv_message(int sock, Message& m, int* fd_in = nullptr);

Message failure_message(const Failure& f, int exit_status);
Failure failure_of(const Message& m);

}  // namespace ctrun::launch
