// Executes the root and mount slice of the plan, in the child, inside its new
// mount namespace, as real root (before any capability is dropped).
//
// The container's root is assembled at the state directory (/run/ctrun):
// that directory always exists, and in our own mount namespace covering it
// hides nothing anybody needs (the host keeps seeing its own). Every target is
// resolved below the root with RESOLVE_IN_ROOT and mounted onto the fd.
#include "mount/build.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <sys/stat.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/uuid.h"

namespace ctrun::mount {
namespace {

using plan::MountStep;
using sys::FileType;
using sys::Want;

constexpr uint64_t kNoSuidDevExec = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

class Builder {
 public:
  Builder(const plan::LaunchPlan& p, sys::Kernel& k, Failure& f, int root_tree)
      : p_(p), k_(k), f_(f), tree_(root_tree) {}
  ~Builder() {
    if (content_ >= 0) k_.close_fd(content_);
    if (file_mask_ >= 0) k_.close_fd(file_mask_);
    if (dir_mask_ >= 0) k_.close_fd(dir_mask_);
    for (const auto& f : fresh_) k_.close_fd(f.fd);
    if (root_ >= 0) k_.close_fd(root_);
    if (tree_ >= 0) k_.close_fd(tree_);
  }

  bool run() {
    // First, before any mount: nothing we mount may propagate to the host
    // (on systemd hosts / is shared), while host mounts still reach us.
    if (int rc = k_.make_mounts_slave(); rc < 0) return fail("make the mount tree private", rc);
    if (!make_content_fs()) return false;
    if (!make_root()) return false;
    for (const auto& s : p_.mounts) {
      if (!apply(s)) return false;
    }
    if (p_.root.readonly) {
      if (int rc = k_.set_attrs(root_, MOUNT_ATTR_RDONLY, false); rc < 0) {
        return fail("make the root read-only", rc, "rootfs.readonly");
      }
    }
    if (int rc = k_.pivot_to(root_); rc < 0) return fail("pivot_root into the container's root", rc, "rootfs");
    return true;
  }

 private:
  bool fail(std::string what, int rc, std::string key = {}, std::string detail = {}) {
    f_.what = std::move(what);
    f_.err = -rc;
    f_.key = std::move(key);
    f_.detail = std::move(detail);
    return false;
  }

  // Runs fd-returning calls with one cleanup path.
  struct Fds {
    sys::Kernel& k;
    int fds[4] = {-1, -1, -1, -1};
    int n = 0;
    int keep(int fd) {
      if (fd >= 0 && n < 4) fds[n++] = fd;
      return fd;
    }
    // No longer closed here: the caller owns it.
    int release(int fd) {
      for (int i = 0; i < n; ++i) {
        if (fds[i] == fd) fds[i] = fds[--n];
      }
      return fd;
    }
    ~Fds() {
      for (int i = 0; i < n; ++i) k.close_fd(fds[i]);
    }
  };

  // The files of `content` steps (resolv.conf, hosts) live in a small tmpfs
  // of ctrun's, attached below the root at the state directory (a bind is
  // cloned only from a mount of our namespace); it goes with the old root,
  // leaving the bound files behind.
  bool make_content_fs() {
    size_t bytes = 0;
    for (const auto& s : p_.mounts) {
      if (s.kind == MountStep::Kind::content || s.kind == MountStep::Kind::random_id) bytes += s.data.size() + 4096;
    }
    if (bytes == 0) return true;
    int mnt = k_.new_fs("tmpfs", "mode=700,size=" + std::to_string(bytes + 4096), kNoSuidDevExec);
    if (mnt < 0) return fail("mount a tmpfs for ctrun's files", mnt);
    content_ = mnt;
    if (int rc = k_.attach_at(mnt, p_.state_dir); rc < 0) return fail("attach the tmpfs of ctrun's files", rc);
    return true;
  }

  bool content(const MountStep& s) {
    const std::string what = "bind ctrun's " + s.target;
    const std::string name = "/" + std::to_string(content_files_++);
    if (int rc = k_.write_file(content_, name, s.data, s.mode); rc < 0) return fail(what, rc, s.key);
    Fds fds{k_};
    int file = fds.keep(k_.resolve(content_, name, Want::existing));
    if (file < 0) return fail(what, file, s.key);
    int target = fds.keep(target_fd(s, Want::file));
    if (target < 0) return target_failed(s, what, target);
    int tree = fds.keep(k_.clone_tree(file, false));
    if (tree < 0) return fail(what, tree, s.key);
    if (int rc = k_.set_attrs(tree, MOUNT_ATTR_RDONLY | kNoSuidDevExec, false); rc < 0) return fail(what, rc, s.key);
    if (int rc = k_.attach(tree, target); rc < 0) return fail(what, rc, s.key);
    mounted(s.target);
    return true;
  }

  bool make_root() {
    const auto& r = p_.root;
    Fds fds{k_};
    int mnt = -1;
    switch (r.kind) {
      case plan::RootPlan::Kind::bind: {
        if (tree_ >= 0) {
          mnt = std::exchange(tree_, -1);
          fds.keep(mnt);
          break;
        }
        int src = fds.keep(k_.open_host(r.path));
        if (src < 0) return fail("open the rootfs " + r.path, src, "rootfs.path");
        mnt = fds.keep(k_.clone_tree(src, true));
        if (mnt < 0) return fail("bind-mount the rootfs " + r.path, mnt, "rootfs.path");
        break;
      }
      case plan::RootPlan::Kind::ephemeral: {
        // Writes land in a tmpfs upper layer; the directory itself is only
        // ever a lower layer, so any number of containers can share it.
        int tmp = fds.keep(k_.new_fs("tmpfs", "mode=755", 0));
        if (tmp < 0) return fail("mount the tmpfs of the ephemeral root", tmp, "rootfs.ephemeral");
        for (const char* d : {"/upper", "/work", "/lower"}) {
          if (std::string(d) == "/lower" && tree_ < 0) continue;
          if (int rc = k_.make_dir(tmp, d, 0755); rc < 0) {
            return fail("create the overlay's directories", rc, "rootfs.ephemeral");
          }
        }
        std::string self = "/proc/self/fd/" + std::to_string(tmp);
        std::string lower = r.path;
        std::string extra;
        // overlayfs clones its layers privately, which kernels before 6.x
        // allow only for mounts of the caller's namespace: the tmpfs is
        // attached first (the overlay will sit on top of it, same place).
        if (int rc = k_.attach_at(tmp, p_.state_dir); rc < 0) {
          return fail("attach the tmpfs of the ephemeral root", rc, "rootfs.ephemeral");
        }
        if (tree_ >= 0) {
          // The parent's (idmapped) tree of the directory is the lower layer.
          int tree = fds.keep(std::exchange(tree_, -1));
          int at = fds.keep(k_.resolve(tmp, "/lower", sys::Want::dir));
          if (at < 0) return fail("create the overlay's directories", at, "rootfs.ephemeral");
          if (int rc = k_.attach(tree, at); rc < 0) return fail("attach the lower layer", rc, "rootfs.ephemeral");
          lower = self + "/lower";
          // trusted.* xattrs are out of reach in a user namespace.
          extra = ",userxattr";
        }
        mnt = fds.keep(k_.new_fs("overlay",
                                 "lowerdir=" + lower + ",upperdir=" + self + "/upper,workdir=" + self + "/work" + extra,
                                 0));
        if (mnt < 0) return fail("mount the overlay of the ephemeral root on " + r.path, mnt, "rootfs.ephemeral");
        break;
      }
      case plan::RootPlan::Kind::host:
        mnt = fds.keep(k_.new_fs("tmpfs", "mode=755", 0));
        if (mnt < 0) return fail("mount the tmpfs root", mnt, "rootfs.host");
        break;
    }
    if (int rc = k_.attach_at(mnt, p_.state_dir); rc < 0) return fail("attach the root at " + p_.state_dir, rc, "rootfs");
    root_ = k_.open_host(p_.state_dir);
    if (root_ < 0) return fail("open the container's root", root_, "rootfs");
    return true;
  }

  bool apply(const MountStep& s) {
    switch (s.kind) {
      case MountStep::Kind::fs: return mount_fs(s);
      case MountStep::Kind::bind: return bind(s);
      case MountStep::Kind::overlay: return mount_fs(s);
      case MountStep::Kind::mkdir:
        if (Fresh* f = fresh_for(s.target)) {
          int rc = k_.make_dir_in(f->fd, relative(*f, s.target), s.mode);
          if (rc == 0) f->dirs.insert(relative(*f, s.target));
          if (rc != -EEXIST) return rc == 0 || fail("create " + s.target, rc, s.key);
        }
        if (int rc = k_.make_dir(root_, s.target, s.mode); rc < 0) return fail("create " + s.target, rc, s.key);
        return true;
      case MountStep::Kind::mknod:
        if (Fresh* f = fresh_for(s.target)) {
          int rc = k_.make_node_in(f->fd, relative(*f, s.target), s.mode, s.dev);
          if (rc != -EEXIST) return rc == 0 || fail("create " + s.target, rc, s.key);
        }
        if (int rc = k_.make_node(root_, s.target, s.mode, s.dev); rc < 0) return fail("create " + s.target, rc, s.key);
        return true;
      case MountStep::Kind::symlink:
        if (Fresh* f = fresh_for(s.target)) {
          int rc = k_.make_symlink_in(f->fd, relative(*f, s.target), s.source);
          if (rc != -EEXIST) return rc == 0 || fail("create the symlink " + s.target, rc, s.key);
        }
        if (int rc = k_.make_symlink(root_, s.target, s.source); rc < 0) {
          return fail("create the symlink " + s.target, rc, s.key);
        }
        return true;
      case MountStep::Kind::file:
        if (Fresh* f = fresh_for(s.target)) {
          int rc = k_.write_file_in(f->fd, relative(*f, s.target), s.data, s.mode);
          if (rc != -EEXIST) return rc == 0 || fail("write " + s.target, rc, s.key);
        }
        if (int rc = k_.write_file(root_, s.target, s.data, s.mode); rc < 0) {
          return fail("write " + s.target, rc, s.key);
        }
        return true;
      case MountStep::Kind::mask: return mask(s);
      case MountStep::Kind::readonly:
      case MountStep::Kind::bind_rw: return rebind(s);
      case MountStep::Kind::device: return device(s);
      case MountStep::Kind::content: return content(s);
      case MountStep::Kind::seal: {
        Fds fds{k_};
        int target = fds.keep(k_.resolve(root_, s.target, Want::existing));
        if (target < 0) return fail("make " + s.target + " read-only", target, s.key);
        if (int rc = k_.set_attrs(target, MOUNT_ATTR_RDONLY | kNoSuidDevExec, false); rc < 0) {
          return fail("make " + s.target + " read-only", rc, s.key);
        }
        return true;
      }
      case MountStep::Kind::random_id: {
        MountStep fresh = s;
        fresh.data = format_uuid(random_id128()) + "\n";
        return content(fresh);
      }
    }
    return true;
  }

  int target_fd(const MountStep& s, Want want) {
    return k_.resolve(root_, s.target, s.api ? Want::real_dir : want);
  }

  bool target_failed(const MountStep& s, const std::string& what, int rc) {
    if (s.api && (rc == -ELOOP || rc == -ENOTDIR)) {
      return fail(what, rc, s.key, "the rootfs's " + s.target + " must be a directory, not a symlink or a file");
    }
    return fail(what, rc, s.key);
  }

  bool mount_fs(const MountStep& s) {
    const std::string type = s.kind == MountStep::Kind::overlay ? "overlay" : s.source;
    const std::string what = "mount " + type + " on " + s.target;
    Fds fds{k_};
    int target = fds.keep(target_fd(s, Want::dir));
    if (target < 0) return target_failed(s, what, target);
    int mnt = fds.keep(k_.new_fs(type, s.data, s.attrs));
    if (mnt < 0) return fail(what, mnt, s.key);
    if (int rc = k_.attach(mnt, target); rc < 0) return fail(what, rc, s.key);
    mounted(s.target);
    if (type == "tmpfs") fresh_.push_back({s.target, fds.release(mnt), {}, {}});
    return true;
  }

  // A tmpfs this build mounted, while it is what its target shows: what the
  // plan creates in it is made relative to its fd (mknodat and friends), not
  // resolved from the root. Only below directories made that way, and not
  // below what has been mounted on it since.
  struct Fresh {
    std::string target;
    int fd;
    std::set<std::string> dirs;          // relative paths this build made in it
    std::vector<std::string> covered;    // targets mounted on it since (absolute)
    bool gone = false;                   // something was mounted on the target itself
  };

  static bool below(const std::string& path, const std::string& dir) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
  }

  // A mount was attached at `target`: what it covers is no longer a fresh
  // tmpfs's.
  void mounted(const std::string& target) {
    for (auto& f : fresh_) {
      if (target == f.target) f.gone = true;
      else if (below(target, f.target)) f.covered.push_back(target);
    }
  }

  static std::string relative(const Fresh& f, const std::string& target) { return target.substr(f.target.size() + 1); }

  Fresh* fresh_for(const std::string& target) {
    Fresh* best = nullptr;
    for (auto& f : fresh_) {
      if (!f.gone && below(target, f.target) && (!best || f.target.size() > best->target.size())) best = &f;
    }
    if (!best) return nullptr;
    for (const auto& c : best->covered) {
      if (target == c || below(target, c)) return nullptr;
    }
    const std::string rel = relative(*best, target);
    // Plain names only, the parent one this build made.
    size_t start = 0;
    while (true) {
      size_t slash = rel.find('/', start);
      std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (part.empty() || part == "." || part == "..") return nullptr;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    size_t last = rel.find_last_of('/');
    if (last != std::string::npos && !best->dirs.count(rel.substr(0, last))) return nullptr;
    return best;
  }

  bool bind(const MountStep& s) {
    const std::string what = "bind-mount " + s.source + " on " + s.target;
    Fds fds{k_};
    int src = fds.keep(k_.open_host(s.source));
    if (src < 0) return fail(what, src, s.key);
    int type = k_.fd_type(src, nullptr);
    if (type < 0) return fail(what, type, s.key);
    int target = fds.keep(target_fd(s, type == static_cast<int>(FileType::dir) ? Want::dir : Want::file));
    if (target < 0) return target_failed(s, what, target);
    int tree = fds.keep(k_.clone_tree(src, true));
    if (tree < 0) return fail(what, tree, s.key);
    if (s.attrs != 0) {
      if (int rc = k_.set_attrs(tree, s.attrs, true); rc < 0) return fail(what, rc, s.key);
    }
    if (int rc = k_.attach(tree, target); rc < 0) return fail(what, rc, s.key);
    mounted(s.target);
    return true;
  }

  // A device node of the host's, by type and number: made with mknod, or
  // in a user namespace (no mknod there) or without mknod access the host's
  // node bound.
  bool device(const MountStep& s) {
    const std::string what = "add the device " + s.source;
    Fds fds{k_};
    int src = fds.keep(k_.open_host(s.source));
    if (src == -ENOENT) return fail(what, src, s.key, s.source + " does not exist on the host");
    if (src < 0) return fail(what, src, s.key);
    dev_t rdev = 0;
    int type = k_.fd_type(src, &rdev);
    if (type < 0) return fail(what, type, s.key);
    bool block = type == static_cast<int>(FileType::blockdev);
    if (!block && type != static_cast<int>(FileType::chardev)) {
      return fail(what, 0, s.key, s.source + " is not a device node on the host");
    }
    // Without 'm' the device cgroup refuses even ctrun's own mknod: bound.
    if (p_.userns.active() || s.data.find('m') == std::string::npos) {
      int target = fds.keep(k_.resolve(root_, s.target, Want::file));
      if (target < 0) return fail(what, target, s.key);
      int tree = fds.keep(k_.clone_tree(src, false));
      if (tree < 0) return fail(what, tree, s.key);
      if (int rc = k_.attach(tree, target); rc < 0) return fail(what, rc, s.key);
      mounted(s.target);
      return true;
    }
    if (int rc = k_.make_node(root_, s.target, block ? (S_IFBLK | 0660) : 0666, rdev); rc < 0) {
      return fail(what, rc, s.key);
    }
    return true;
  }

  // A failed mask is fatal: a silently skipped mask is how nspawn once left
  // kcore and friends readable (systemd PR #40833).
  // The first file is masked by a read-only clone of the container's own
  // /dev/null, the first directory by an empty read-only tmpfs; every later
  // one by a clone of that first mask's mount (same flags, same empty
  // superblock), which saves the checks and the new filesystem each time.
  bool mask(const MountStep& s) {
    const std::string what = "mask " + s.target;
    Fds fds{k_};
    int target = fds.keep(k_.resolve(root_, s.target, Want::existing));
    if (target == -ENOENT && s.optional) return true;
    if (target < 0) return fail(what, target, s.key);
    int type = k_.fd_type(target, nullptr);
    if (type < 0) return fail(what, type, s.key);
    const bool dir = type == static_cast<int>(FileType::dir);
    int& first = dir ? dir_mask_ : file_mask_;
    int mnt = -1;
    if (first >= 0) {
      mnt = fds.keep(k_.clone_tree(first, false));
      if (mnt < 0) return fail(what, mnt, s.key);
    } else if (dir) {
      mnt = fds.keep(k_.new_fs("tmpfs", "mode=000,size=4k,nr_inodes=1", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                                                        MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
      if (mnt < 0) return fail(what, mnt, s.key);
    } else {
      // Our own /dev/null, checked: never a node or symlink the image chose
      // (CVE-2025-31133).
      int null = fds.keep(k_.resolve(root_, "/dev/null", Want::existing));
      dev_t rdev = 0;
      if (null < 0) return fail(what, null, s.key);
      if (k_.fd_type(null, &rdev) != static_cast<int>(FileType::chardev) || rdev != makedev(1, 3)) {
        return fail(what, 0, s.key, "/dev/null is not the null device");
      }
      mnt = fds.keep(k_.clone_tree(null, false));
      if (mnt < 0) return fail(what, mnt, s.key);
      if (int rc = k_.set_attrs(mnt, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false); rc < 0) {
        return fail(what, rc, s.key);
      }
    }
    if (int rc = k_.attach(mnt, target); rc < 0) return fail(what, rc, s.key);
    mounted(s.target);
    if (first < 0) {
      // The mask just attached, for the next ones to clone.
      first = k_.resolve(root_, s.target, Want::existing);
      if (first < 0) return fail(what, first, s.key);
    }
    return true;
  }

  bool rebind(const MountStep& s) {
    const bool ro = s.kind == MountStep::Kind::readonly;
    const std::string what = std::string(ro ? "make " : "keep ") + s.target + (ro ? " read-only" : " writable");
    Fds fds{k_};
    int target = fds.keep(k_.resolve(root_, s.target, Want::existing));
    if (target == -ENOENT && s.optional) return true;
    if (target < 0) return fail(what, target, s.key);
    int tree = fds.keep(k_.clone_tree(target, true));
    if (tree < 0) return fail(what, tree, s.key);
    // Only the top is made read-only, so a writable hole below it (the
    // container's own /proc/sys/net) stays writable.
    if (ro) {
      if (int rc = k_.set_attrs(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                false);
          rc < 0) {
        return fail(what, rc, s.key);
      }
    }
    if (int rc = k_.attach(tree, target); rc < 0) return fail(what, rc, s.key);
    mounted(s.target);
    return true;
  }

  const plan::LaunchPlan& p_;
  sys::Kernel& k_;
  Failure& f_;
  int root_ = -1;
  int tree_ = -1;
  int content_ = -1;       // the tmpfs of content steps
  int file_mask_ = -1;     // the first file mask's mount, and the first directory's
  int dir_mask_ = -1;
  std::vector<Fresh> fresh_;  // the tmpfs mounts of this build, newest last
  int content_files_ = 0;  // the parent's tree of the rootfs, until used
};

}  // namespace

bool build_root(const plan::LaunchPlan& p, sys::Kernel& k, Failure& f, int root_tree) {
  return Builder(p, k, f, root_tree).run();
}

}  // namespace ctrun::mount
