#include "ops/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/locks.h"
#include "cgroup/host.h"
#include "ops/ops.h"

namespace ctrun::ops {

int fail(const std::string& text) {
  std::fprintf(stderr, "ctrun: %s\n", text.c_str());
  return kFailed;
}

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
bool pidfd_signal(int fd, int sig) { return syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) == 0; }

// Opens a pidfd for a recorded process and proves it is that process: its
// start time is checked after the pidfd exists, so the pid cannot be
// reused in between.
bool prove(const state::Proc& p, UniqueFd& out) {
  if (p.pid <= 0) return false;
  out.reset(pidfd_open(p.pid));
  return out && state::starttime_of(p.pid) == p.starttime;
}

// Finds NAME; error is set when its state does not match its processes
// (then nothing may be done to them).
Container find(const std::string& dir, const std::string& name, std::string& error) {
  Container c;
  std::string lock = dir + "/" + name + ".lock";
  std::string cdir = dir + "/" + name;
  struct stat st;
  bool held = stat(lock.c_str(), &st) == 0 && lock_held(lock);
  std::string why;
  auto recorded = state::read_state(cdir, why);
  if (!held) {
    c.found = recorded ? Found::dead : Found::absent;
    if (recorded) c.s = *recorded;
    return c;
  }
  if (!recorded) {
    c.found = Found::creating;
    c.s.name = name;
    c.s.status = "creating";
    return c;
  }
  c.s = *recorded;
  if (c.s.name != name) {
    error = "the state of " + name + " names another container (" + c.s.name + ")";
  } else if (c.s.boot_id != state::boot_id()) {
    error = "the state of " + name + " was recorded before the last boot";
  } else if (!prove(c.s.supervisor, c.supervisor)) {
    error = "the supervisor recorded for " + name + " (pid " + std::to_string(c.s.supervisor.pid) + ") is not running";
  } else if (!prove(c.s.main, c.main)) {
    error = "the main process recorded for " + name + " (pid " + std::to_string(c.s.main.pid) + ") is not running";
  } else if (!prove(c.s.init, c.init)) {
    error = "the init recorded for " + name + " (pid " + std::to_string(c.s.init.pid) + ") is not running";
  } else {
    for (const auto& cg : c.s.cgroups) {
      if (stat(cg.payload.c_str(), &st) < 0 || st.st_ino != cg.inode) {
        error = "the cgroup recorded for " + name + " (" + cg.payload + ") is not the one it runs in";
        break;
      }
    }
  }
  c.found = Found::running;
  return c;
}


Freezer freezer_of(const state::State& s) {
  for (const auto& c : s.cgroups) {
    if (c.controller.empty()) return {c.payload, false};
  }
  for (const auto& c : s.cgroups) {
    if (c.controller == "freezer") return {c.payload, true};
  }
  return {};
}

bool is_frozen(const state::State& s) {
  Freezer f = freezer_of(s);
  if (f.dir.empty()) return false;
  if (f.v1) return cgroup::read_text(f.dir + "/freezer.state") == "FROZEN\n";
  return cgroup::read_text(f.dir + "/cgroup.events").find("frozen 1") != std::string::npos;
}

namespace {

int ms_since(const timespec& start) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int>((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
}

// A cgroup removed meanwhile: the container has ended (a thaw that let a
// signal through may end it), which is thawed enough, but not frozen.
bool gone(const std::string& dir, bool frozen, std::string& error) {
  if (access(dir.c_str(), F_OK) == 0) return false;
  if (frozen) error = "the container ended";
  return true;
}

// v1: FROZEN or THAWED into freezer.state, which reads FREEZING until every
// task has stopped. v1 has no notification of that: the state is read again
// after 1, 2, 4 ... 64 ms (reading it is what makes the kernel look).
bool set_frozen_v1(const std::string& dir, bool frozen, std::string& error) {
  const std::string file = dir + "/freezer.state", want = frozen ? "FROZEN" : "THAWED";
  UniqueFd ctl(open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!ctl || write(ctl.get(), want.data(), want.size()) < 0) {
    if (gone(dir, frozen, error)) return !frozen;
    error = "cannot write " + file + ": " + std::strerror(errno);
    return false;
  }
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 64L)) {
    if (cgroup::read_text(file) == want + "\n") return true;
    if (gone(dir, frozen, error)) return !frozen;
    if (ms_since(start) >= 10000) {
      error = std::string("the kernel did not report the container ") + (frozen ? "frozen" : "thawed") + " within 10 s";
      return false;
    }
    timespec t{0, wait_ms * 1000000};
    nanosleep(&t, nullptr);
  }
}

}  // namespace

// cgroup2: writes cgroup.freeze and waits for cgroup.events to say so: the
// kernel marks the file changed (POLLPRI) when the state settles.
bool set_frozen(const Freezer& f, bool frozen, std::string& error) {
  if (f.v1) return set_frozen_v1(f.dir, frozen, error);
  const std::string& payload = f.dir;
  UniqueFd events(open((payload + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd ctl(open((payload + "/cgroup.freeze").c_str(), O_WRONLY | O_CLOEXEC));
  if (!events || !ctl || write(ctl.get(), frozen ? "1" : "0", 1) != 1) {
    if (gone(payload, frozen, error)) return !frozen;
    error = std::string("cannot write ") + payload + "/cgroup.freeze: " + std::strerror(errno);
    return false;
  }
  const std::string want = frozen ? "frozen 1" : "frozen 0";
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (true) {
    char buf[512];
    ssize_t n = pread(events.get(), buf, sizeof buf - 1, 0);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)).find(want) != std::string::npos) return true;
    if (n < 0 && gone(payload, frozen, error)) return !frozen;
    int left = 10000 - ms_since(start);
    pollfd p{events.get(), POLLPRI, 0};
    if (left <= 0 || poll(&p, 1, left) == 0) {
      error = std::string("the kernel did not report the container ") + (frozen ? "frozen" : "thawed") + " within 10 s";
      return false;
    }
  }
}

bool must_be_root() {
  if (geteuid() == 0) return true;
  fail("operating containers needs root");
  return false;
}

// Waits until pidfd's process has exited, timeout_ms at most.
bool wait_exit(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  while (true) {
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}


int find_running(const std::string& dir, const std::string& name, const char* verb, Container& out) {
  if (!must_be_root()) return kFailed;
  std::string error;
  out = find(dir, name, error);
  if (out.found != Found::running) {
    std::fprintf(stderr, "ctrun: %s is not running\n", name.c_str());
    return kNotRunning;
  }
  if (!error.empty()) return fail(std::string("will not ") + verb + " " + name + ": " + error);
  return 0;
}

}  // namespace ctrun::ops
