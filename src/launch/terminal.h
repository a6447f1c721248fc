// The pty relay between ctrun's stdio and the container's console: raw mode
// on ctrun's terminal (restored by the destructor, on every path that
// returns), the window size at start and on SIGWINCH, EOF handed on as the
// pty's EOF character, and the master drained before ctrun exits.
#pragma once

#include <termios.h>

#include "base/fd.h"

namespace ctrun::launch {

class TerminalRelay {
 public:
  // interactive: the caller's stdin feeds the terminal (raw mode when it is
  // a tty); otherwise ctrun only copies what the container writes.
  // hold_slave: ctrun keeps a slave fd of its own (boot mode's console), so
  // that the master never reads EIO when the container's last opener closes
  // it or vhangup()s it (agetty does, getty after getty).
  TerminalRelay(UniqueFd master, bool interactive, bool hold_slave = false);
  ~TerminalRelay();
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;

  int master() const { return master_.get(); }
  bool stdin_open() const { return stdin_open_; }
  void resize();
  // Moves what is readable; false once that side has ended.
  bool pump_stdin();
  bool pump_master();
  // After the container ended: whatever the master still holds.
  void drain();
  // Boot mode's escape (as nspawn's): Ctrl-] three times within a second
  // on an interactive console asks ctrun to kill the container. Off by default.
  void enable_escape() { escape_ = true; }
  bool escape_pressed() const { return escape_count_ >= 3; }

 private:
  UniqueFd master_;
  UniqueFd slave_;
  bool raw_ = false;
  bool stdin_open_ = true;
  bool line_pending_ = false;  // input sent since the last end of line
  bool escape_ = false;
  int escape_count_ = 0;
  long long escape_first_ms_ = 0;
  struct termios saved_ {};
};

}  // namespace ctrun::launch
