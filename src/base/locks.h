// The name locks of running containers (/run/ctrun/NAME.lock): an
// open-file-description lock (F_OFD_SETLK) over the whole file, held by the
// supervisor for the container's life and dropped by the kernel however it
// dies. Whether one is held is asked with F_OFD_GETLK, which neither takes
// the lock (a probe that took it, even for a moment, would make a container
// starting under that name fail as "already running") nor costs what reading
// /proc/locks does (an RCU grace period, some 10 ms, per read).
#pragma once

#include <string>

namespace ctrun {

// Takes the lock on fd without waiting; false (errno EAGAIN) when another
// open file holds it.
bool try_lock(int fd);
// Whether another open file holds a lock on `path`; false also when the
// file does not exist.
bool lock_held(const std::string& path);

}  // namespace ctrun
