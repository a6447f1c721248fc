// The real kernel: the new mount API (fsopen/fsmount/open_tree/move_mount/
// mount_setattr, Linux 5.12+) and openat2 (5.6+). Mounting onto an fd that
// openat2 resolved with RESOLVE_IN_ROOT is what keeps a symlink in the rootfs
// from pointing a mount at the host (CVE-2021-30465, CVE-2024-45310).
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/kernel.h"

namespace ctrun::sys {
namespace {

int fail() { return -errno; }

int openat2_in_root(int root_fd, const std::string& path, int flags, uint64_t resolve) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve;
  const char* rel = path.c_str();
  while (*rel == '/') ++rel;
  if (*rel == '\0') rel = ".";
  int fd = static_cast<int>(syscall(SYS_openat2, root_fd, rel, &how, sizeof how));
  return fd < 0 ? fail() : fd;
}

// Writes all of `content` to fd (a file just opened for writing, or -1
// with errno), gives it `mode` (creation honours the umask), closes it.
int fill(int fd, const std::string& content, uint32_t mode) {
  if (fd < 0) return fail();
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return -e;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  int rc = ::fchmod(fd, mode) == 0 ? 0 : fail();
  ::close(fd);
  return rc;
}

// Splits /a/b/c into parent "/a/b" and name "c".
void split(const std::string& path, std::string& parent, std::string& name) {
  auto slash = path.find_last_of('/');
  parent = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  name = path.substr(slash == std::string::npos ? 0 : slash + 1);
}

class RealKernel final : public Kernel {
 public:
  int set_namespace(int fd, int nstype) override { return ::setns(fd, nstype) == 0 ? 0 : fail(); }

  int make_mounts_slave() override {
    return ::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) == 0 ? 0 : fail();
  }

  int open_host(const std::string& path) override {
    int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    return fd < 0 ? fail() : fd;
  }

  int clone_tree(int fd, bool recursive) override {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    int t = ::open_tree(fd, "", flags);
    return t < 0 ? fail() : t;
  }

  int new_fs(const std::string& type, const std::string& options, uint64_t attrs) override {
    int fsfd = ::fsopen(type.c_str(), FSOPEN_CLOEXEC);
    if (fsfd < 0) return fail();
    // Options are comma separated key=value or flag words; none of ours
    // contain commas inside a value (the plan refuses such overlay paths).
    size_t pos = 0;
    while (pos < options.size()) {
      size_t end = options.find(',', pos);
      if (end == std::string::npos) end = options.size();
      std::string opt = options.substr(pos, end - pos);
      pos = end + 1;
      if (opt.empty()) continue;
      auto eq = opt.find('=');
      int rc = eq == std::string::npos
                   ? ::fsconfig(fsfd, FSCONFIG_SET_FLAG, opt.c_str(), nullptr, 0)
                   : ::fsconfig(fsfd, FSCONFIG_SET_STRING, opt.substr(0, eq).c_str(), opt.c_str() + eq + 1, 0);
      if (rc < 0) {
        int e = errno;
        ::close(fsfd);
        return -e;
      }
    }
    if (::fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
      int e = errno;
      ::close(fsfd);
      return -e;
    }
    int mfd = ::fsmount(fsfd, FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
    int e = errno;
    ::close(fsfd);
    return mfd < 0 ? -e : mfd;
  }

  int set_attrs(int mnt_fd, uint64_t attrs, bool recursive) override {
    struct mount_attr a {};
    a.attr_set = attrs;
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return ::mount_setattr(mnt_fd, "", flags, &a, sizeof a) == 0 ? 0 : fail();
  }

  int attach(int mnt_fd, int target_fd) override {
    return ::move_mount(mnt_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0 ? 0
                                                                                                           : fail();
  }

  int attach_at(int mnt_fd, const std::string& host_path) override {
    return ::move_mount(mnt_fd, "", AT_FDCWD, host_path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) == 0 ? 0 : fail();
  }

  int resolve(int root_fd, const std::string& path, Want want) override {
    uint64_t extra = want == Want::real_dir ? RESOLVE_NO_SYMLINKS : 0;
    int flags = O_PATH | ((want == Want::dir || want == Want::real_dir) ? O_DIRECTORY : 0);
    int fd = openat2_in_root(root_fd, path, flags, extra);
    if (fd != -ENOENT || want == Want::any || want == Want::existing) return fd;
    return create_in_root(root_fd, path, want, flags, extra, 0);
  }

  int make_dir(int root_fd, const std::string& path, uint32_t mode) override {
    int fd = resolve(root_fd, path, Want::dir);
    if (fd < 0) return fd;
    // mkdir honours the umask; the plan's mode is meant as written.
    int rc = ::fchmodat(fd, "", mode, AT_EMPTY_PATH);
    int e = errno;
    ::close(fd);
    if (rc < 0 && e == EINVAL) return 0;  // fchmodat(AT_EMPTY_PATH) is not in older kernels: keep 0755
    return rc < 0 ? -e : 0;
  }

  int make_node(int root_fd, const std::string& path, uint32_t mode, dev_t dev) override {
    return at_parent(root_fd, path, [&](int dir, const char* name) {
      mode_t type = (mode & S_IFMT) == S_IFBLK ? S_IFBLK : S_IFCHR;
      if (::mknodat(dir, name, type | (mode & 07777), dev) < 0) return fail();
      return ::fchmodat(dir, name, mode & 07777, 0) == 0 ? 0 : fail();  // mknod honours the umask
    });
  }

  int make_symlink(int root_fd, const std::string& path, const std::string& target) override {
    return at_parent(root_fd, path, [&](int dir, const char* name) {
      return ::symlinkat(target.c_str(), dir, name) == 0 ? 0 : fail();
    });
  }

  int write_file(int root_fd, const std::string& path, const std::string& content, uint32_t mode) override {
    return at_parent(root_fd, path, [&](int dir, const char* name) {
      return fill(::openat(dir, name, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode), content, mode);
    });
  }

  int make_dir_in(int dir_fd, const std::string& rel, uint32_t mode) override {
    if (::mkdirat(dir_fd, rel.c_str(), mode) < 0) return fail();
    return ::fchmodat(dir_fd, rel.c_str(), mode, 0) == 0 ? 0 : fail();  // mkdir honours the umask
  }

  int make_node_in(int dir_fd, const std::string& rel, uint32_t mode, dev_t dev) override {
    mode_t type = (mode & S_IFMT) == S_IFBLK ? S_IFBLK : S_IFCHR;
    if (::mknodat(dir_fd, rel.c_str(), type | (mode & 07777), dev) < 0) return fail();
    return ::fchmodat(dir_fd, rel.c_str(), mode & 07777, 0) == 0 ? 0 : fail();
  }

  int make_symlink_in(int dir_fd, const std::string& rel, const std::string& target) override {
    return ::symlinkat(target.c_str(), dir_fd, rel.c_str()) == 0 ? 0 : fail();
  }

  int write_file_in(int dir_fd, const std::string& rel, const std::string& content, uint32_t mode) override {
    return fill(::openat(dir_fd, rel.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode), content, mode);
  }

  int fd_type(int fd, dev_t* rdev) override {
    struct stat st;
    if (::fstat(fd, &st) < 0) return fail();
    if (rdev) *rdev = st.st_rdev;
    if (S_ISDIR(st.st_mode)) return static_cast<int>(FileType::dir);
    if (S_ISREG(st.st_mode)) return static_cast<int>(FileType::regular);
    if (S_ISCHR(st.st_mode)) return static_cast<int>(FileType::chardev);
    if (S_ISBLK(st.st_mode)) return static_cast<int>(FileType::blockdev);
    if (S_ISLNK(st.st_mode)) return static_cast<int>(FileType::symlink);
    return static_cast<int>(FileType::other);
  }

  int pivot_to(int root_fd) override {
    // pivot_root(".", ".") stacks the old root on top of the new one; the
    // detach then drops it, and no put_old directory is needed in the rootfs.
    if (::fchdir(root_fd) < 0) return fail();
    if (::syscall(SYS_pivot_root, ".", ".") < 0) return fail();
    if (::umount2(".", MNT_DETACH) < 0) return fail();
    return ::chdir("/") == 0 ? 0 : fail();
  }

  int become_root() override {
    // (No supplementary groups to drop: nothing to ask of a joined user
    // namespace whose setgroups is "deny".)
    if (setresgid(0, 0, 0) < 0 || (getgroups(0, nullptr) != 0 && setgroups(0, nullptr) < 0) || setresuid(0, 0, 0) < 0) {
      return -errno;
    }
    return 0;
  }
  int set_hostname(const std::string& name) override {
    return ::sethostname(name.data(), name.size()) == 0 ? 0 : fail();
  }

  void close_fd(int fd) override { ::close(fd); }

 private:
  // Creates a missing path below the root, one component at a time, each
  // created in its parent's fd. A dangling symlink on the way is followed
  // inside the root (an absolute target counts from the container's /), the
  // way runc's MkdirAllInRoot does: the container sees the mount where its
  // symlink says, and nothing is ever created outside the root.
  int create_in_root(int root_fd, const std::string& path, Want want, int flags, uint64_t extra, int depth) {
    if (depth > 40) return -ELOOP;
    std::string parent, name;
    split(path, parent, name);
    if (name.empty() || name == "." || name == "..") return -EINVAL;
    int p = resolve(root_fd, parent, want == Want::real_dir ? Want::real_dir : Want::dir);
    if (p < 0) return p;
    int dir = openat2_in_root(p, ".", O_DIRECTORY | O_RDONLY, 0);
    ::close(p);
    if (dir < 0) return dir;
    int rc = want == Want::file
                 ? ::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644)
                 : ::mkdirat(dir, name.c_str(), 0755);
    int e = rc < 0 ? errno : 0;
    if (rc >= 0 && want == Want::file) ::close(rc);
    if (e == EEXIST && want != Want::real_dir) {
      // Something is there but did not resolve: a dangling symlink.
      char link[4096];
      ssize_t n = ::readlinkat(dir, name.c_str(), link, sizeof link - 1);
      ::close(dir);
      if (n <= 0) return -ENOENT;
      std::string target(link, static_cast<size_t>(n));
      std::string next = target[0] == '/' ? target : (parent == "/" ? "" : parent) + "/" + target;
      int fd = openat2_in_root(root_fd, next, flags, extra);
      if (fd != -ENOENT) return fd;
      return create_in_root(root_fd, next, want, flags, extra, depth + 1);
    }
    ::close(dir);
    if (e != 0 && e != EEXIST) return -e;
    return openat2_in_root(root_fd, path, flags, extra);
  }

  // Runs fn(dir_fd, name) on the resolved parent directory of path.
  template <typename Fn>
  int at_parent(int root_fd, const std::string& path, Fn fn) {
    std::string parent, name;
    split(path, parent, name);
    int p = resolve(root_fd, parent, Want::dir);
    if (p < 0) return p;
    int dir = openat2_in_root(p, ".", O_DIRECTORY | O_RDONLY, 0);
    ::close(p);
    if (dir < 0) return dir;
    int rc = fn(dir, name.c_str());
    ::close(dir);
    return rc;
  }
};

}  // namespace

Kernel& real_kernel() {
  static RealKernel k;
  return k;
}

}  // namespace ctrun::sys
