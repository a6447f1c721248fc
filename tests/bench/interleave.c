// interleave RUNS NAME CMD... [-- NAME CMD...]...: starts the commands in
// turn, one start each per round (after 5 rounds of warm-up), so that the
// machine's drift over minutes (this VM's speed changes by the hour) falls
// on all of them alike; a sequential run such as hyperfine's gives each
// command a different stretch of time. Prints "NAME median_us mean_us" per
// command. A command that fails is reported on stderr and ends the run.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMax = 16, kWarmup = 5 };

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: interleave RUNS NAME CMD... [-- NAME CMD...]...\n");
    return 2;
  }
  int runs = atoi(argv[1]), n = 0;
  char** cmd[kMax];
  const char* name[kMax];
  for (int i = 2; i < argc && n < kMax;) {
    name[n] = argv[i];
    cmd[n] = &argv[i + 1];
    int j = i + 1;
    while (j < argc && strcmp(argv[j], "--") != 0) j++;
    if (j < argc) argv[j] = NULL;
    n++;
    i = j + 1;
  }
  if (runs < 1) return 2;
  double* t[kMax];
  for (int c = 0; c < n; c++) t[c] = calloc((size_t)runs, sizeof(double));
  int devnull = open("/dev/null", O_WRONLY);
  for (int r = -kWarmup; r < runs; r++) {
    for (int k = 0; k < n; k++) {
      int c = ((r + kWarmup) + k) % n;  // (each round starts with another command)
      struct timespec a, b;
      clock_gettime(CLOCK_MONOTONIC, &a);
      pid_t pid = fork();
      if (pid == 0) {
        dup2(devnull, 1);
        execvp(cmd[c][0], cmd[c]);
        _exit(127);
      }
      int status;
      waitpid(pid, &status, 0);
      clock_gettime(CLOCK_MONOTONIC, &b);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "interleave: %s failed (status %#x)\n", name[c], status);
        return 1;
      }
      if (r >= 0) t[c][r] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
    }
  }
  for (int c = 0; c < n; c++) {
    double sum = 0;
    for (int r = 0; r < runs; r++) sum += t[c][r];
    qsort(t[c], (size_t)runs, sizeof(double), by_value);
    printf("%s\t%.0f\t%.0f\n", name[c], t[c][runs / 2], sum / runs);
  }
  return 0;
}
