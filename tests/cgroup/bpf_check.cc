// The device filter on the real kernel, as root: a cgroup2 directory of the
// test's own (ctrun-test-bpf-PID), the program for a few rules attached, a
// child moved in that tries each access. Prints "N passed, N failed".
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cgroup/bpf_devices.h"
#include "cgroup/host.h"

using namespace ctrun::cgroup;

int main() {
  Host host = read_host();
  if (host.unified.empty()) {
    std::printf("no cgroup2 hierarchy on this host\n0 passed, 1 failed\n");
    return 1;
  }
  std::string dir = host.unified + "/ctrun-test-bpf-" + std::to_string(getpid());
  if (mkdir(dir.c_str(), 0755) < 0) {
    std::printf("mkdir %s: %s\n0 passed, 1 failed\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  std::string scratch = "/tmp/ctrun-test-bpf-" + std::to_string(getpid());
  mkdir(scratch.c_str(), 0700);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::string log;
  // null: everything; zero: read only; full: nothing (not listed).
  int rc = attach_device_program(fd, device_program({{'c', 1, 3, "rwm"}, {'c', 1, 5, "r"}}), log);
  int pass = 0, fail = 0;
  if (rc < 0) {
    std::printf("FAIL attach: %s\n%s\n", std::strerror(-rc), log.c_str());
    ++fail;
  } else {
    int pipefd[2];
    if (pipe(pipefd) < 0) return 1;
    pid_t child = fork();
    if (child == 0) {
      close(pipefd[0]);
      int procs = open((dir + "/cgroup.procs").c_str(), O_WRONLY);
      if (procs < 0 || write(procs, "0", 1) != 1) _exit(3);
      close(procs);
      auto opened = [](const char* path, int flags) {
        int f = open(path, flags);
        if (f >= 0) close(f);
        return f >= 0 ? 0 : errno;
      };
      int results[] = {
          opened("/dev/null", O_RDWR),
          opened("/dev/zero", O_RDONLY),
          opened("/dev/zero", O_WRONLY),
          opened("/dev/full", O_RDONLY),
          mknod((scratch + "/null").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0 ? 0 : errno,
          mknod((scratch + "/zero").c_str(), S_IFCHR | 0600, makedev(1, 5)) == 0 ? 0 : errno,
      };
      if (write(pipefd[1], results, sizeof results) != sizeof results) _exit(4);
      _exit(0);
    }
    close(pipefd[1]);
    int results[6] = {-1, -1, -1, -1, -1, -1};
    ssize_t n = read(pipefd[0], results, sizeof results);
    int status = 0;
    waitpid(child, &status, 0);
    if (n != sizeof results) {
      std::printf("FAIL child: status %d\n", status);
      ++fail;
    } else {
      const char* what[] = {"open /dev/null rw", "open /dev/zero r", "open /dev/zero w (denied)",
                            "open /dev/full (denied)", "mknod 1:3", "mknod 1:5 (denied)"};
      const int want[] = {0, 0, EPERM, EPERM, 0, EPERM};
      for (int i = 0; i < 6; ++i) {
        if (results[i] == want[i]) {
          ++pass;
        } else {
          ++fail;
          std::printf("FAIL %s: %s, expected %s\n", what[i], std::strerror(results[i]), std::strerror(want[i]));
        }
      }
    }
  }
  close(fd);
  unlink((scratch + "/null").c_str());
  unlink((scratch + "/zero").c_str());
  rmdir(scratch.c_str());
  if (rmdir(dir.c_str()) < 0) {
    std::printf("FAIL rmdir %s: %s\n", dir.c_str(), std::strerror(errno));
    ++fail;
  }
  std::printf("%d passed, %d failed\n", pass, fail);
  return fail == 0 ? 0 : 1;
}
