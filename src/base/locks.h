// Whether someone holds a flock on a file, found in /proc/locks without
// taking the lock: a probe that took it, even for a moment, would make a
// container starting under that name fail as "already running".
#pragma once

#include <string>

namespace ctrun {

// false also when the file does not exist.
bool flock_held(const std::string& path);

}  // namespace ctrun
