// The kernel calls of the container's setup, behind an interface: the real
// one (real_kernel.cc) and a recording fake (tests/unit/fake_kernel.h), so
// that the order of the child's steps and the mount plan's execution can be
// tested without root.
//
// Every call returns >= 0 on success (an fd where it makes one) and -errno on
// failure; none of them throws.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ctrun::sys {

// How a path inside the container's root is resolved.
enum class Want {
  any,        // whatever is there
  dir,        // a directory; created (with parents) when missing
  file,       // a non-directory; created empty (parents too) when missing
  real_dir,   // a directory reached without any symlink; created when missing
  existing,   // whatever is there; missing is ENOENT
};

// File types as fd_type() reports them.
enum class FileType { other, dir, regular, chardev, symlink, blockdev };

class Kernel {
 public:
  virtual ~Kernel() = default;

  virtual int set_namespace(int fd, int nstype) = 0;
  // MS_SLAVE|MS_REC on /: from here on no mount of ours propagates to the host.
  virtual int make_mounts_slave() = 0;
  // O_PATH|O_CLOEXEC of a host path (a rootfs, a bind source).
  virtual int open_host(const std::string& path) = 0;
  // A detached copy of the mount tree at fd (open_tree OPEN_TREE_CLONE).
  virtual int clone_tree(int fd, bool recursive) = 0;
  // A detached new filesystem: fsopen, fsconfig per option, fsmount.
  virtual int new_fs(const std::string& type, const std::string& options, uint64_t attrs) = 0;
  virtual int set_attrs(int mnt_fd, uint64_t attrs, bool recursive) = 0;
  // move_mount of a detached mount onto an O_PATH fd, or onto a host path.
  virtual int attach(int mnt_fd, int target_fd) = 0;
  virtual int attach_at(int mnt_fd, const std::string& host_path) = 0;
  // openat2 below root_fd with RESOLVE_IN_ROOT: a symlink can never lead out.
  virtual int resolve(int root_fd, const std::string& path, Want want) = 0;
  virtual int make_dir(int root_fd, const std::string& path, uint32_t mode) = 0;
  // mode: permission bits, and S_IFBLK for a block device (else character).
  virtual int make_node(int root_fd, const std::string& path, uint32_t mode, dev_t dev) = 0;
  virtual int make_symlink(int root_fd, const std::string& path, const std::string& target) = 0;
  virtual int write_file(int root_fd, const std::string& path, const std::string& content, uint32_t mode) = 0;
  // The same, made at `rel` below dir_fd without resolving anything: for a
  // file system this setup has just mounted, whose directories are its own
  // (one call where the above resolve the parent first). EEXIST is an error.
  virtual int make_dir_in(int dir_fd, const std::string& rel, uint32_t mode) = 0;
  virtual int make_node_in(int dir_fd, const std::string& rel, uint32_t mode, dev_t dev) = 0;
  virtual int make_symlink_in(int dir_fd, const std::string& rel, const std::string& target) = 0;
  virtual int write_file_in(int dir_fd, const std::string& rel, const std::string& content, uint32_t mode) = 0;
  virtual int fd_type(int fd, dev_t* rdev) = 0;  // a FileType
  // pivot_root into root_fd; the old root is detached, cwd is the new /.
  virtual int pivot_to(int root_fd) = 0;
  virtual int set_hostname(const std::string& name) = 0;
  // In a new user namespace whose maps are written: become its root
  // (setresgid 0, no supplementary groups, setresuid 0).
  virtual int become_root() = 0;
  virtual void close_fd(int fd) = 0;
};

// The real kernel.
Kernel& real_kernel();

}  // namespace ctrun::sys
