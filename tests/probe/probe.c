#define _GNU_SOURCE
/* A static probe run inside test containers: reports what the process sees
 * in a form the integration tests can compare. One verb per call:
 *   probe fds            open fds above 2, one per line, as "N -> target"
 *   probe rlimit NAME    "soft hard" (nofile, nproc, core, stack, ...)
 *   probe status KEY     the value of KEY in /proc/self/status (NoNewPrivs, ...)
 *   probe write PATH     "ok" or the errno name of creating/writing PATH
 *   probe umask          the umask in octal
 *   probe sid            "sid pgid pid"
 *   probe sleep-ignoring SECONDS   sleeps with SIGTERM ignored (for stop.timeout)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct { const char *name; int res; } limits[] = {
    {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"core", RLIMIT_CORE},
    {"stack", RLIMIT_STACK},   {"fsize", RLIMIT_FSIZE}, {"memlock", RLIMIT_MEMLOCK},
};

static void print_limit(rlim_t v) {
  if (v == RLIM_INFINITY) printf("unlimited");
  else printf("%llu", (unsigned long long)v);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *verb = argv[1];
  if (!strcmp(verb, "fds")) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 1;
    struct dirent *e;
    while ((e = readdir(d))) {
      int fd = atoi(e->d_name);
      if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
      char path[64], target[4096];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      ssize_t n = readlink(path, target, sizeof target - 1);
      target[n < 0 ? 0 : n] = 0;
      printf("%d -> %s\n", fd, target);
    }
    return 0;
  }
  if (!strcmp(verb, "rlimit") && argc == 3) {
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; ++i) {
      if (strcmp(limits[i].name, argv[2])) continue;
      struct rlimit rl;
      getrlimit(limits[i].res, &rl);
      print_limit(rl.rlim_cur);
      putchar(' ');
      print_limit(rl.rlim_max);
      putchar('\n');
      return 0;
    }
    return 2;
  }
  if (!strcmp(verb, "status") && argc == 3) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    size_t k = strlen(argv[2]);
    while (f && fgets(line, sizeof line, f)) {
      if (!strncmp(line, argv[2], k) && line[k] == ':') {
        char *v = line + k + 1;
        while (*v == ' ' || *v == '\t') ++v;
        fputs(v, stdout);
        return 0;
      }
    }
    return 1;
  }
  if (!strcmp(verb, "write") && argc == 3) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1) {
      printf("%s\n", strerrorname_np(errno));
      return 1;
    }
    printf("ok\n");
    return 0;
  }
  if (!strcmp(verb, "umask")) {
    mode_t m = umask(0);
    printf("%04o\n", m);
    return 0;
  }
  if (!strcmp(verb, "sid")) {
    printf("%d %d %d\n", getsid(0), getpgid(0), getpid());
    return 0;
  }
  if (!strcmp(verb, "sleep-ignoring") && argc == 3) {
    signal(SIGTERM, SIG_IGN);
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  return 2;
}
