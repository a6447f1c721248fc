#include "base/locks.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"

namespace ctrun {
namespace {

struct flock whole_file(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;  // to the end, however long
  return l;
}

}  // namespace

bool try_lock(int fd) {
  struct flock l = whole_file(F_WRLCK);
  if (fcntl(fd, F_OFD_SETLK, &l) == 0) return true;
  if (errno == EACCES) errno = EAGAIN;
  return false;
}

bool lock_held(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return false;
  struct flock l = whole_file(F_WRLCK);
  return fcntl(fd.get(), F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
}

}  // namespace ctrun
