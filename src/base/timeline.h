// Launch timeline marks, for the work on start-up time. In a build with
// -DCTRUN_TIMELINE=ON every mark writes "T <monotonic seconds> <pid> <name>"
// to stderr (pid 1 and 2 are the stub init and the payload);
// tests/bench/timeline.sh averages them over many starts. In any other
// build a mark is nothing at all.
#pragma once

#ifdef CTRUN_TIMELINE
#include <time.h>
#include <unistd.h>

#include <cstdio>
#endif

namespace ctrun {

#ifdef CTRUN_TIMELINE
inline void timeline_mark(const char* name) {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char buf[128];
  int n = std::snprintf(buf, sizeof buf, "T %ld.%06ld %d %s\n", static_cast<long>(ts.tv_sec), ts.tv_nsec / 1000,
                        static_cast<int>(getpid()), name);
  if (n > 0) (void)!write(STDERR_FILENO, buf, static_cast<size_t>(n));
}
#else
inline void timeline_mark(const char*) {}
#endif

}  // namespace ctrun
