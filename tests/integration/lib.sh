# Shared by the integration tests: runs real containers as root and checks
# from inside what the manifest promised and from outside that nothing is
# left behind. Each script: source lib.sh CTRUN ROOTFS_TEMPLATE; cases; finish.
# Prints one line per failed check and a final "N passed, N failed".
set -u
CTRUN=$1
TEMPLATE=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "integration tests need root"; echo "0 passed, 1 failed"; exit 1
fi
[ -x "$TEMPLATE/bin/probe" ] || { echo "no rootfs template at $TEMPLATE"; echo "0 passed, 1 failed"; exit 1; }
WORK=$(mktemp -d /tmp/ctrun-it.XXXXXX)
TOKEN=ctit$$x$RANDOM
pass=0 fail=0
CASE=
NETS_BEFORE=$(ls /sys/class/net | sort | tr '\n' ' ')

cleanup() {
  # Anything a failed case left is ours: end it by pid, unmount, remove.
  for p in $(grep -l "CTIT_TOKEN=$TOKEN" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do kill -9 "$p" 2>/dev/null; done
  grep -F "$WORK" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# LIMITS: whether this host's cgroups can limit memory and pids. The
# booted-Debian fixture's cgroup2 tree (nested below this hybrid host's,
# whose controllers are all v1's) has no controllers: its containers run
# without limits, and what needs them is checked on the host and in the VM.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  LIMITS=false
  grep -qw memory /sys/fs/cgroup/cgroup.controllers && grep -qw pids /sys/fs/cgroup/cgroup.controllers && LIMITS=true
else
  LIMITS=false
  [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ] && LIMITS=true
fi
# skip WHY: the current case is not run here (printed, not counted).
skip() { echo "SKIP $CASE: $* (not counted)"; }
# want NAME: whether case NAME runs. A stage may run only some cases of a
# script (CTIT_CASES lists them, CTIT_CASES_WHY says why); the others are
# printed as SKIP, never counted.
want() {
  [ -z "${CTIT_CASES:-}" ] || [[ " $CTIT_CASES " = *" $1 "* ]] && return 0
  echo "SKIP $1: ${CTIT_CASES_WHY:-not in CTIT_CASES} (not counted)"
  return 1
}

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $CASE: $*"; }

# A fresh copy of the busybox rootfs (22 ms), so that no case sees another's writes.
fresh_rootfs() {
  local d=$WORK/rootfs-$1
  cp -a "$TEMPLATE" "$d"
  echo "$d"
}

# manifest NAME: writes $WORK/NAME.yaml from stdin, below a header naming it.
manifest() {
  { printf 'version: 1\nname: %s\n' "$1"; cat; } > "$WORK/$1.yaml"
}

# ct ARGS...: runs ctrun; sets OUT, ERR, RC. The token marks the container's
# processes for the leak check.
ct() {
  OUT=$(CTIT_TOKEN=$TOKEN "$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$@" 2>"$WORK/stderr" </dev/null); RC=$?
  ERR=$(cat "$WORK/stderr")
}

begin() {
  CASE=$1
  # CTIT_PROGRESS=1 (the VM stage): each case as it starts, on stderr.
  [ -n "${CTIT_PROGRESS:-}" ] && echo "  .. $(basename "$0" .sh) $CASE" >&2
  return 0
}

expect_rc() {
  if [ "$RC" -eq "$1" ]; then ok; else bad "exit status $RC, expected $1; stderr: $(head -c 400 <<<"$ERR")"; fi
}
expect_out() {
  if [ "$OUT" == "$1" ]; then ok; else bad "stdout $(printf %q "$OUT"), expected $(printf %q "$1")"; fi
}
# The whole of stdout against an extended regular expression (may span lines).
expect_out_match() {
  if [[ $OUT =~ $1 ]]; then ok; else bad "stdout does not match /$1/: $(head -c 400 <<<"$OUT")"; fi
}
expect_err() {
  if grep -qE -- "$1" <<<"$ERR"; then ok; else bad "stderr does not match /$1/: $(head -c 400 <<<"$ERR")"; fi
}
# check WHAT [!] COMMAND...: COMMAND succeeds (with !, fails). (A `!` in "$@"
# would be run as a command named "!", which always fails.)
check() {
  local what=$1 want=0
  shift
  if [ "${1:-}" = "!" ]; then want=1; shift; fi
  "$@"
  if [ $(( $? != 0 )) -eq "$want" ]; then ok; else bad "$what"; fi
}

# Nothing of container NAME may remain: lock file, mounts, processes, interfaces.
no_leaks() {
  local name=$1 n
  [ -e "/run/ctrun/$name.lock" ] && bad "lock file /run/ctrun/$name.lock left behind"
  [ -e "/run/ctrun/$name" ] && bad "state /run/ctrun/$name left behind"
  n=$(grep -cF -e "$WORK" -e " /run/ctrun " /proc/self/mountinfo)
  [ "$n" -ne 0 ] && bad "$n mounts left in the host's mount table"
  n=$(grep -l "CTIT_TOKEN=$TOKEN" /proc/[0-9]*/environ 2>/dev/null | wc -l)
  [ "$n" -ne 0 ] && bad "$n container processes left running"
  [ "$(ls /sys/class/net | sort | tr '\n' ' ')" != "$NETS_BEFORE" ] && bad "network interfaces changed"
  n=$(ls -d /sys/fs/cgroup/*/*.slice/ctrun-"$name".scope /sys/fs/cgroup/*.slice/ctrun-"$name".scope 2>/dev/null | wc -l)
  [ "$n" -ne 0 ] && bad "$n cgroups of $name left: $(ls -d /sys/fs/cgroup/*/*.slice/ctrun-"$name".scope \
    /sys/fs/cgroup/*.slice/ctrun-"$name".scope 2>/dev/null | tr '\n' ' ')"
  ok
}

# After a SIGKILL of ctrun under systemd (its transient scope): systemd
# collects the emptied scope by itself, a moment later; wait (20 s at most)
# before no_leaks looks. Without systemd nothing is waited for.
wait_collected() {
  [ "$(cat /proc/1/comm)" = systemd ] || return 0
  for _ in $(seq 400); do
    ls -d /sys/fs/cgroup/*.slice/ctrun-"$1".scope /sys/fs/cgroup/*/*.slice/ctrun-"$1".scope >/dev/null 2>&1 || return 0
    sleep 0.05
  done
}

# machine_gone NAME: systemd-machined no longer knows NAME; waits for it
# (20 s at most: that UnregisterMachine has taken effect when it returns is
# not assumed).
# On failure OUT holds what machinectl still shows.
machine_gone() {
  for _ in $(seq 400); do
    machinectl show "$1" > /dev/null 2>&1 || return 0
    sleep 0.05
  done
  OUT=$(machinectl show "$1" -p State -p Unit -p Leader 2>&1 | tr '\n' ' ')
  return 1
}

finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
