// A recording fake of sys::Kernel: every call appends one line to `calls`
// and hands out fake fds counting from 100. `fail_on` makes the call whose
// line starts with it fail with `fail_errno`.
#pragma once

#include <sys/sysmacros.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sys/kernel.h"

namespace ctrun::testing {

class FakeKernel final : public sys::Kernel {
 public:
  std::vector<std::string> calls;
  std::string fail_on;
  int fail_errno = EPERM;
  int open_fds = 0;
  // What resolve()d paths are: regular files in `files`, the null device
  // at /dev/null, directories otherwise; `missing` resolve to ENOENT when
  // they are not to be created. Host paths are directories unless
  // sources_are_dirs is false.
  std::set<std::string> files = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms"};
  std::set<std::string> missing = {"/proc/sched_debug", "/proc/latency_stats", "/proc/timer_stats",
                                   "/proc/interrupts", "/proc/sysrq-trigger", "/proc/asound", "/proc/scsi",
                                   "/proc/apm", "/sys/devices/virtual/powercap"};
  bool sources_are_dirs = true;

  int set_namespace(int fd, int nstype) override {
    return rec("setns " + std::to_string(fd) + " " + std::to_string(nstype));
  }
  int make_mounts_slave() override { return rec("make-slave /"); }
  int open_host(const std::string& path) override { return fd(rec("open-host " + path), "host:" + path); }
  int clone_tree(int f, bool recursive) override {
    return fd(rec("clone-tree " + name(f) + (recursive ? " recursive" : "")), "tree");
  }
  int new_fs(const std::string& type, const std::string& options, uint64_t attrs) override {
    return fd(rec("new-fs " + type + " " + options + " attrs=" + std::to_string(attrs)), type);
  }
  int set_attrs(int f, uint64_t attrs, bool recursive) override {
    return rec("set-attrs " + name(f) + " " + std::to_string(attrs) + (recursive ? " recursive" : ""));
  }
  int attach(int mnt, int target) override { return rec("attach " + name(mnt) + " on " + name(target)); }
  int attach_at(int mnt, const std::string& path) override { return rec("attach " + name(mnt) + " at " + path); }
  int resolve(int, const std::string& path, sys::Want want) override {
    static const char* kWant[] = {"any", "dir", "file", "real-dir", "existing"};
    if (missing.count(path) && (want == sys::Want::existing || want == sys::Want::any)) {
      calls.push_back("resolve " + path + " " + kWant[static_cast<int>(want)]);
      return -ENOENT;
    }
    return fd(rec("resolve " + path + " " + kWant[static_cast<int>(want)]), path);
  }
  int make_dir(int, const std::string& path, uint32_t mode) override {
    return rec("mkdir " + path + " " + std::to_string(mode));
  }
  int make_node(int, const std::string& path, uint32_t mode, dev_t) override {
    return rec("mknod " + path + " " + std::to_string(mode));
  }
  int make_symlink(int, const std::string& path, const std::string& target) override {
    return rec("symlink " + path + " -> " + target);
  }
  int write_file(int, const std::string& path, const std::string&, uint32_t) override { return rec("write " + path); }
  int make_dir_in(int dir, const std::string& rel, uint32_t mode) override {
    return rec("mkdir-in " + name(dir) + " " + rel + " " + std::to_string(mode));
  }
  int make_node_in(int dir, const std::string& rel, uint32_t mode, dev_t) override {
    return rec("mknod-in " + name(dir) + " " + rel + " " + std::to_string(mode));
  }
  int make_symlink_in(int dir, const std::string& rel, const std::string& target) override {
    return rec("symlink-in " + name(dir) + " " + rel + " -> " + target);
  }
  int write_file_in(int dir, const std::string& rel, const std::string&, uint32_t) override {
    return rec("write-in " + name(dir) + " " + rel);
  }
  int fd_type(int f, dev_t* rdev) override {
    const std::string& n = name(f);
    if (n == "/dev/null") {
      if (rdev) *rdev = makedev(1, 3);
      return static_cast<int>(sys::FileType::chardev);
    }
    if (files.count(n) || (n.rfind("host:", 0) == 0 && !sources_are_dirs)) {
      return static_cast<int>(sys::FileType::regular);
    }
    return static_cast<int>(sys::FileType::dir);
  }
  int pivot_to(int root) override { return rec("pivot " + name(root)); }
  int set_hostname(const std::string& n) override { return rec("hostname " + n); }
  int become_root() override { return rec("become-root"); }
  void close_fd(int) override { --open_fds; }

 private:
  std::map<int, std::string> names_;
  int next_ = 100;

  int rec(const std::string& line) {
    calls.push_back(line);
    if (!fail_on.empty() && line.rfind(fail_on, 0) == 0) return -fail_errno;
    return 0;
  }
  int fd(int rc, const std::string& n) {
    if (rc < 0) return rc;
    ++open_fds;
    names_[next_] = n;
    return next_++;
  }
  std::string name(int f) const {
    auto it = names_.find(f);
    return it == names_.end() ? "fd" + std::to_string(f) : it->second;
  }
};

}  // namespace ctrun::testing
