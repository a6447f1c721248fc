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
 *   probe syscall NAME|NR [ARG...]  "ok" or the errno name of a raw system call
 *   probe int80 NR [ARG...]         the same through the i386 entry (int 0x80)
 *   probe x32 NR [ARG...]           the same with the x32 bit set on NR
 *   probe fs-create TYPE FLAG  fsopen(TYPE), the flag option FLAG, then
 *                        FSCONFIG_CMD_CREATE (a super block, mounted nowhere):
 *                        "ok" or the errno name of the first failure
 *   probe threads        "ok" when pthread_create works (glibc's clone3 -> clone)
 *   probe tiocsti [HIGH] ioctl TIOCSTI on stdin: "ok" or the errno name;
 *                        HIGH sets bit 32 of the command (the kernel ignores it)
 *   probe caps           CapInh CapPrm CapEff CapBnd CapAmb in hex, one line
 *   probe forks N [FILE] forks N children that wait (until FILE exists, if
 *                        given); "M ok" and the errno name
 *                        of the first failure ("none"), then ends them
 *   probe tcp-send ADDR PORT TEXT  connects (retrying while refused or
 *                        unreachable, 10 s at most), sends TEXT and a newline,
 *                        closes its side, prints what comes back; "ok"
 *   probe tcp-recv PORT  accepts one connection on any address (IPv4 and
 *                        IPv6), prints what it receives until the peer closes
 *   probe notify-send TEXT [fd|hold]  sends TEXT (\n for newlines) as one
 *                        datagram to $NOTIFY_SOCKET (with stdin attached as
 *                        SCM_RIGHTS for "fd"; staying alive 2 s after for
 *                        "hold"); "ok" or the errno name
 *   probe notify-recv PATH N SECS  binds a datagram socket at PATH (unlinked
 *                        first), prints each of N datagrams on a line with
 *                        newlines as '|', gives up after SECS without one
 *   probe exe-attack FILE  CVE-2019-5736 from inside: scans /proc until FILE
 *                        exists for processes whose exe is ctrun (FILE.seen
 *                        made at the first), opens it
 *                        for writing at once and keeps an O_PATH fd to reopen
 *                        for writing once that process has gone; prints
 *                        "seen N written M" (M must stay 0)
 *   probe userns UIDMAP GIDMAP [deny|owner=UID]  (on the host, as root) a
 *                        process in a new user namespace with these one-line
 *                        maps ("INSIDE OUTSIDE COUNT"), setgroups "deny" if
 *                        asked, made by user UID if given (then its owner);
 *                        prints its pid and leaves it waiting to be killed
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <time.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <termios.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

static const struct { const char *name; long nr; } syscalls[] = {
    {"keyctl", SYS_keyctl}, {"add_key", SYS_add_key}, {"request_key", SYS_request_key},
    {"bpf", SYS_bpf}, {"perf_event_open", SYS_perf_event_open}, {"kexec_load", SYS_kexec_load},
    {"kexec_file_load", SYS_kexec_file_load}, {"init_module", SYS_init_module},
    {"finit_module", SYS_finit_module}, {"delete_module", SYS_delete_module},
    {"open_by_handle_at", SYS_open_by_handle_at}, {"swapon", SYS_swapon}, {"swapoff", SYS_swapoff},
    {"userfaultfd", SYS_userfaultfd}, {"io_uring_setup", SYS_io_uring_setup}, {"io_uring_enter", SYS_io_uring_enter},
    {"lookup_dcookie", SYS_lookup_dcookie}, {"mount", SYS_mount}, {"umount2", SYS_umount2},
    {"pivot_root", SYS_pivot_root}, {"unshare", SYS_unshare}, {"setns", SYS_setns},
    {"clone", SYS_clone}, {"clone3", SYS_clone3}, {"getppid", SYS_getppid}, {"chroot", SYS_chroot},
    {"sethostname", SYS_sethostname}, {"syslog", SYS_syslog}, {"settimeofday", SYS_settimeofday},
    {"ptrace", SYS_ptrace}, {"fsopen", SYS_fsopen}, {"open_tree", SYS_open_tree},
};

static int report(long rc) {
  if (rc < 0) printf("%s\n", strerrorname_np(errno));
  else printf("ok\n");
  return 0;
}

static void *thread_main(void *arg) { return arg; }

static long int80(long nr, long a, long b, long c) {
#if defined(__x86_64__)
  long rc;
  __asm__ volatile("int $0x80" : "=a"(rc) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  if (rc < 0 && rc > -4096) {
    errno = (int)-rc;
    return -1;
  }
  return rc;
#else
  (void)nr; (void)a; (void)b; (void)c;
  errno = ENOSYS;
  return -1;
#endif
}

/* Copies fd to stdout until EOF. */
static void drain(int fd) {
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
}

static int tcp_send(const char *addr, int port, const char *text) {
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
  int v6 = inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1;
  if (!v6 && inet_pton(AF_INET, addr, &a4.sin_addr) != 1) return 2;
  for (int attempt = 0; attempt < 200; ++attempt) {
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(s, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4, v6 ? sizeof a6 : sizeof a4) == 0) {
      dprintf(s, "%s\n", text);
      shutdown(s, SHUT_WR);
      drain(s);
      printf("ok\n");
      return 0;
    }
    int err = errno;
    close(s);
    if (err != ECONNREFUSED && err != ENETUNREACH && err != EHOSTUNREACH) {
      printf("%s\n", strerrorname_np(err));
      return 1;
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  printf("ECONNREFUSED\n");
  return 1;
}

static int tcp_recv(int port) {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0, on = 1;
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
    printf("%s\n", strerrorname_np(errno));
    return 1;
  }
  int c = accept(s, NULL, NULL);
  if (c < 0) return 1;
  drain(c);
  return 0;
}

static int notify_send(const char *text, int with_fd) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path) return 2;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (a.sun_path[0] == '@') a.sun_path[0] = 0;
  char msg[8192];
  size_t n = 0;
  for (const char *p = text; *p && n < sizeof msg; ++p) {
    if (p[0] == '\\' && p[1] == 'n') { msg[n++] = '\n'; ++p; }
    else msg[n++] = *p;
  }
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct iovec iov = {msg, n};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  struct msghdr mh = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1};
  if (with_fd == 1) {
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = 0;
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  if (sendmsg(s, &mh, 0) < 0) {
    printf("%s\n", strerrorname_np(errno));
    return 1;
  }
  printf("ok\n");
  fflush(stdout);
  if (with_fd == 2) sleep(2);
  return 0;
}

static int try_write(const char *path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int ok = write(fd, "#!/bin/sh\necho pwned\n", 21) > 0;
  close(fd);
  return ok;
}

static int exe_attack(const char *stop) {
  int seen = 0, written = 0, kept[256], nkept = 0;
  pid_t self = getpid();
  while (access(stop, F_OK) != 0) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      pid_t pid = atoi(e->d_name);
      if (pid <= 1 || pid == self) continue;
      char link[64], target[256];
      snprintf(link, sizeof link, "/proc/%d/exe", pid);
      ssize_t n = readlink(link, target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      if (!strstr(target, "ctrun")) continue;
      if (++seen == 1) {  /* tells the test: STOP.seen */
        char mark[300];
        snprintf(mark, sizeof mark, "%s.seen", stop);
        close(open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      }
      written += try_write(link);
      int fd = open(link, O_PATH | O_CLOEXEC);
      if (fd >= 0 && nkept < 256) kept[nkept++] = fd;
      else if (fd >= 0) close(fd);
    }
    if (d) closedir(d);
  }
  for (int i = 0; i < nkept; ++i) {
    char again[64];
    snprintf(again, sizeof again, "/proc/self/fd/%d", kept[i]);
    written += try_write(again);
  }
  printf("seen %d written %d\n", seen, written);
  return 0;
}

static int notify_recv(const char *path, int count, int secs) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  unlink(path);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
    printf("%s\n", strerrorname_np(errno));
    return 1;
  }
  struct timeval tv = {secs, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* Ready: the caller may start the sender now. */
  printf("listening\n");
  fflush(stdout);
  for (int i = 0; i < count; ++i) {
    char buf[8192];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n < 0) {
      printf("timeout\n");
      return 1;
    }
    for (ssize_t j = 0; j < n; ++j) putchar(buf[j] == '\n' ? '|' : buf[j]);
    putchar('\n');
    fflush(stdout);
  }
  return 0;
}

/* A user namespace for ctrun to join: the child unshares it and says so;
 * the parent writes its maps (root writes any map) and tells it; the child
 * then waits until it is killed, and the parent prints its pid and ends. */
static int userns_holder(const char *uid_map, const char *gid_map, int deny, int owner) {
  int ready[2], go[2];
  char c;
  if (pipe(ready) < 0 || pipe(go) < 0) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    /* Not holding the caller's output open: $(probe userns ...) ends. */
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(1);
    if (owner >= 0 && (setgroups(0, NULL) < 0 || setresgid(owner, owner, owner) < 0 ||
                       setresuid(owner, owner, owner) < 0)) _exit(1);
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (write(ready[1], "x", 1) != 1 || read(go[0], &c, 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  if (read(ready[0], &c, 1) != 1) return 1;
  const char *files[] = {"uid_map", deny ? "setgroups" : NULL, "gid_map"};
  const char *texts[] = {uid_map, "deny", gid_map};
  for (int i = 0; i < 3; ++i) {
    char path[64];
    if (!files[i]) continue;
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[i]);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, texts[i], strlen(texts[i])) < 0) {
      perror(path);
      kill(pid, SIGKILL);
      return 1;
    }
    close(fd);
  }
  if (write(go[1], "x", 1) != 1) return 1;
  printf("%d\n", (int)pid);
  return 0;
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
  if ((!strcmp(verb, "syscall") || !strcmp(verb, "int80") || !strcmp(verb, "x32")) && argc >= 3) {
    long nr = -1, a[6] = {0};
    for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0]; ++i) {
      if (!strcmp(syscalls[i].name, argv[2])) nr = syscalls[i].nr;
    }
    if (nr < 0) {
      char *end;
      nr = strtol(argv[2], &end, 0);
      if (*end != '\0') return 2;
    }
    for (int i = 3; i < argc && i < 9; ++i) a[i - 3] = (long)strtoull(argv[i], NULL, 0);
    if (!strcmp(verb, "int80")) return report(int80(nr, a[0], a[1], a[2]));
    if (!strcmp(verb, "x32")) nr |= 0x40000000L;
    return report(syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
  }
  if (!strcmp(verb, "fs-create") && argc == 4) {
    enum { set_flag = 0, cmd_create = 6 };  /* FSCONFIG_SET_FLAG, FSCONFIG_CMD_CREATE */
    long fs = syscall(SYS_fsopen, argv[2], 0);
    if (fs < 0) return report(fs);
    if (syscall(SYS_fsconfig, fs, set_flag, argv[3], NULL, 0) < 0) return report(-1);
    return report(syscall(SYS_fsconfig, fs, cmd_create, NULL, NULL, 0));
  }
  if (!strcmp(verb, "threads")) {
    pthread_t t;
    int rc = pthread_create(&t, NULL, thread_main, NULL);
    if (rc != 0) {
      printf("%s\n", strerrorname_np(rc));
      return 0;
    }
    pthread_join(t, NULL);
    printf("ok\n");
    return 0;
  }
  if (!strcmp(verb, "tiocsti")) {
    char c = ' ';
    unsigned long cmd = TIOCSTI;
    if (argc == 3) cmd |= 1UL << 32;
    return report(syscall(SYS_ioctl, 0, cmd, &c));
  }
  if (!strcmp(verb, "caps")) {
    const char *keys[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
    char line[256], out[5][32] = {{0}};
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
      for (int i = 0; i < 5; ++i) {
        if (!strncmp(line, keys[i], strlen(keys[i]))) sscanf(line + strlen(keys[i]), "%31s", out[i]);
      }
    }
    printf("%s %s %s %s %s\n", out[0], out[1], out[2], out[3], out[4]);
    return 0;
  }
  if (!strcmp(verb, "forks") && (argc == 3 || argc == 4)) {
    int n = atoi(argv[2]), made = 0;
    const char *first = "none";
    pid_t kids[4096];
    for (int i = 0; i < n && i < 4096; ++i) {
      pid_t p = fork();
      if (p == 0) {
        pause();
        _exit(0);
      }
      if (p < 0) {
        if (!strcmp(first, "none")) first = strerrorname_np(errno);
        continue;
      }
      kids[made++] = p;
    }
    if (argc == 4) {  /* holds them until the file exists */
      printf("%d ok %s\n", made, first);
      fflush(stdout);
      while (access(argv[3], F_OK) != 0) usleep(20000);
    }
    for (int i = 0; i < made; ++i) kill(kids[i], SIGKILL);
    for (int i = 0; i < made; ++i) waitpid(kids[i], NULL, 0);
    if (argc == 3) printf("%d ok %s\n", made, first);
    return 0;
  }
  if (!strcmp(verb, "notify-send") && (argc == 3 || argc == 4)) return notify_send(argv[2], argc == 4 ? (strcmp(argv[3], "hold") ? 1 : 2) : 0);
  if (!strcmp(verb, "exe-attack") && argc == 3) return exe_attack(argv[2]);
  if (!strcmp(verb, "notify-recv") && argc == 5) return notify_recv(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (!strcmp(verb, "tcp-send") && argc == 5) return tcp_send(argv[2], atoi(argv[3]), argv[4]);
  if (!strcmp(verb, "tcp-recv") && argc == 3) return tcp_recv(atoi(argv[2]));
  if (!strcmp(verb, "userns") && (argc == 4 || argc == 5)) {
    int deny = argc == 5 && !strcmp(argv[4], "deny");
    int owner = argc == 5 && !strncmp(argv[4], "owner=", 6) ? atoi(argv[4] + 6) : -1;
    if (argc == 5 && !deny && owner < 0) return 2;
    return userns_holder(argv[2], argv[3], deny, owner);
  }
  if (!strcmp(verb, "sleep-ignoring") && argc == 3) {
    signal(SIGTERM, SIG_IGN);
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  return 2;
}
