#include "launch/protocol.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ctrun::launch {
namespace {

void copy(char* dst, size_t size, const std::string& src) {
  size_t n = src.size() < size - 1 ? src.size() : size - 1;
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace

bool send_message(int sock, const Message& m, int fd_out) {
  struct iovec iov {const_cast<Message*>(&m), sizeof m};
  struct msghdr h {};
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd_out >= 0) {
    h.msg_control = control;
    h.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd_out, sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(sock, &h, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof m);
}

bool recv_message(int sock, Message& m, int* fd_in) {
  struct iovec iov {&m, sizeof m};
  struct msghdr h {};
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  h.msg_control = control;
  h.msg_controllen = sizeof control;
  ssize_t n;
  // ECONNRESET: the peer ended with one of our messages unread. The kernel
  // reports that once, before the messages the peer sent first; read on.
  do n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);
  while (n < 0 && (errno == EINTR || errno == ECONNRESET));
  if (n != static_cast<ssize_t>(sizeof m)) return false;
  m.what[sizeof m.what - 1] = m.key[sizeof m.key - 1] = m.detail[sizeof m.detail - 1] = '\0';
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      if (fd_in) *fd_in = fd;
    }
  }
  return true;
}

Message failure_message(const Failure& f, int exit_status) {
  Message m;
  m.step = Step::failed;
  m.err = f.err;
  m.status = exit_status;
  copy(m.what, sizeof m.what, f.what);
  copy(m.key, sizeof m.key, f.key);
  copy(m.detail, sizeof m.detail, f.detail);
  return m;
}

Failure failure_of(const Message& m) { return Failure{m.what, m.err, m.key, m.detail}; }

}  // namespace ctrun::launch
