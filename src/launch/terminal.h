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
  explicit TerminalRelay(UniqueFd master);
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

 private:
  UniqueFd master_;
  bool raw_ = false;
  bool stdin_open_ = true;
  struct termios saved_ {};
};

}  // namespace ctrun::launch
