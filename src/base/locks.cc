#include "base/locks.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ctrun {

bool flock_held(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) < 0) return false;
  // "1: FLOCK  ADVISORY  WRITE 4242 00:1a:123456 0 EOF" (major and minor in hex).
  char want[64];
  std::snprintf(want, sizeof want, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  std::ifstream in("/proc/locks");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, kind, mode, rw, pid, dev;
    f >> id >> kind;
    if (kind == "->") f >> kind;  // a waiter: "1: -> FLOCK ..."
    f >> mode >> rw >> pid >> dev;
    if (kind == "FLOCK" && dev == want) return true;
  }
  return false;
}

}  // namespace ctrun
