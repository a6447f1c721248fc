#include "launch/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace ctrun::launch {
namespace {

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd pfd {fd, POLLOUT, 0};
      poll(&pfd, 1, -1);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

TerminalRelay::TerminalRelay(UniqueFd master, bool interactive, bool hold_slave) : master_(std::move(master)) {
  fcntl(master_.get(), F_SETFL, fcntl(master_.get(), F_GETFL) | O_NONBLOCK);
  // The peer by the master itself, never by a path in the container's devpts.
  if (hold_slave) slave_.reset(ioctl(master_.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  stdin_open_ = interactive;
  if (interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
    struct termios raw = saved_;
    cfmakeraw(&raw);
    raw_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  resize();
}

TerminalRelay::~TerminalRelay() {
  if (raw_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

void TerminalRelay::resize() {
  struct winsize ws {};
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    ioctl(master_.get(), TIOCSWINSZ, &ws);
  }
}

bool TerminalRelay::pump_stdin() {
  char buf[16384];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    // The caller's input ended: the container reads EOF from its terminal.
    // ^D, the EOF character of a fresh pty (the master's termios are not
    // the slave's, so they cannot be asked). After a line without its
    // newline the first ^D only hands that line over: a second one is EOF.
    const char eof[2] = {'\x04', '\x04'};
    write_all(master_.get(), eof, line_pending_ ? 2 : 1);
    stdin_open_ = false;
    return false;
  }
  if (escape_) {
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\x1d') {
        escape_count_ = 0;
        continue;
      }
      struct timespec ts {};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      long long ms = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
      if (escape_count_ == 0 || ms - escape_first_ms_ > 1000) {
        escape_count_ = 0;
        escape_first_ms_ = ms;
      }
      if (++escape_count_ >= 3) return false;  // the caller kills the container
    }
  }
  line_pending_ = buf[n - 1] != '\n' && buf[n - 1] != '\r';
  return write_all(master_.get(), buf, static_cast<size_t>(n));
}

bool TerminalRelay::pump_master() {
  char buf[16384];
  ssize_t n = read(master_.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;  // EIO: every slave fd is closed
  write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
  return true;
}

void TerminalRelay::drain() {
  char buf[16384];
  while (true) {
    ssize_t n = read(master_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
  }
}

}  // namespace ctrun::launch
