#include "base/proctitle.h"

#include <cstring>

namespace ctrun {
namespace {
char* area = nullptr;
size_t area_size = 0;
}  // namespace

void remember_command_line(int argc, char** argv) {
  if (argc <= 0 || argv[0] == nullptr) return;
  area = argv[0];
  // The strings are contiguous: from argv[0] to the end of the last one.
  char* end = argv[argc - 1] + std::strlen(argv[argc - 1]) + 1;
  area_size = static_cast<size_t>(end - area);
}

void set_command_line(const char* title) {
  if (area == nullptr || area_size == 0) return;
  std::memset(area, 0, area_size);
  std::strncpy(area, title, area_size - 1);
}

}  // namespace ctrun
