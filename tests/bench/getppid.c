/* Per-syscall cost: N calls, prints the mean in nanoseconds.
 *   getppid [N]          getppid(): a call every profile allows outright
 *   getppid N ioctl      ioctl(TCGETS) on a pipe (ENOTTY): a call whose rule
 *                        looks at its arguments (the TIOCSTI refusal)
 * Static, so that it runs in the busybox rootfs; a pipe rather than
 * /dev/null, which a bare chroot (the floor) does not have. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000000;
  int use_ioctl = argc > 2 && !strcmp(argv[2], "ioctl");
  int fds[2];
  if (pipe(fds) < 0) return 1;
  int fd = fds[0];
  struct termios t;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  if (use_ioctl) {
    for (long i = 0; i < n; ++i) syscall(SYS_ioctl, fd, TCGETS, &t);
  } else {
    for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("%.1f\n", ns / n);
  return 0;
}
