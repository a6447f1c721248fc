#!/usr/bin/env bash
# Boot time of a Debian 12 tree (systemd 252) under ctrun beside
# systemd-nspawn: wall time from launch until the guest's
# `systemctl is-system-running` says running, then until the container has
# powered off. Both on the same cached tree (tests/integration/mk-debian.sh),
# as ephemeral overlays, RUNS times each; prints medians and the ratio.
# Not a test: nothing here asserts.
#
#   tests/bench/boot.sh [CTRUN]     (env: RUNS=5 CTRUN_CACHE=/var/cache/ctrun)
#
# nspawn needs --register=no --keep-unit on a host without systemd as PID 1,
# and runs from private cgroups (lib.sh: bench_reexec).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=${CTRUN_BIN:-$(realpath "${1:-$here/../../build/ctrun}")}
cache=${CTRUN_CACHE:-/var/cache/ctrun}
RUNS=${RUNS:-5}
T=$cache/debian

if [ "${1:-}" != --inner ]; then
  bench_install systemd-container debootstrap
  bash "$here/../integration/mk-debian.sh" "$cache"
  bench_reexec "$0"
  exit
fi

now() { date +%s%N; }
# wait_running PID: until the guest's systemd has booted (polls: a benchmark
# may, the launcher may not).
wait_running() {
  for _ in $(seq 2000); do nsenter -t "$1" -a test -S /run/systemd/private 2>/dev/null && break; sleep 0.005; done
  timeout 60 nsenter -t "$1" -a systemctl is-system-running --wait > /dev/null || true
}
# stop PID LEADER: power the guest off and wait for its manager to end
# (SIGTERM, then SIGKILL, should the guest not go).
stop() {
  timeout 10 nsenter -t "$2" -a systemctl poweroff 2> /dev/null || true
  for _ in $(seq 600); do kill -0 "$1" 2> /dev/null || break; sleep 0.05; done
  kill -TERM "$1" 2> /dev/null && sleep 5
  kill -KILL "$1" 2> /dev/null || true
  wait "$1" 2> /dev/null || true
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

M=$(mktemp -d)
trap 'rm -rf "$M"' EXIT
cat > "$M/boot.yaml" <<END
version: 1
name: bench-boot
rootfs: {path: $T, ephemeral: true}
boot: true
process: {no_new_privileges: false}
END

for tool in ctrun nspawn; do
  : > "$M/$tool.up"
  : > "$M/$tool.total"
  for _ in $(seq "$RUNS"); do
    start=$(now)
    if [ $tool = ctrun ]; then
      "$ctrun" "$M/boot.yaml" < /dev/null > /dev/null 2>&1 &
      pid=$!
      leader=
      for _ in $(seq 2000); do
        leader=$(awk '/"init": \{/ {f = 1} f && /"pid"/ {gsub(/[^0-9]/, ""); print; exit}' /run/ctrun/bench-boot/state.json 2>/dev/null || true)
        [ -n "$leader" ] && break
        sleep 0.002
      done
    else
      systemd-nspawn -q -D "$T" --volatile=overlay -b --register=no --keep-unit -M bench-boot < /dev/null > /dev/null 2>&1 &
      pid=$!
      leader=
      for _ in $(seq 2000); do
        # (the guest's init: the child of nspawn whose pid namespace is not ours)
        for c in $(pgrep -P "$pid" || true); do
          [ "$(readlink /proc/$c/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] && leader=$c
        done
        [ -n "$leader" ] && break
        sleep 0.002
      done
    fi
    wait_running "$leader"
    up=$(now)
    stop "$pid" "$leader"
    end=$(now)
    echo $(((up - start) / 1000000)) >> "$M/$tool.up"
    echo $(((end - start) / 1000000)) >> "$M/$tool.total"
  done
done

cu=$(median < "$M/ctrun.up") nu=$(median < "$M/nspawn.up")
ct=$(median < "$M/ctrun.total") nt=$(median < "$M/nspawn.total")
printf '%-16s %12s %16s\n' "" "running (ms)" "+ poweroff (ms)"
printf '%-16s %12s %16s\n' "ctrun" "$cu" "$ct"
printf '%-16s %12s %16s\n' "systemd-nspawn" "$nu" "$nt"
awk -v a="$cu" -v b="$nu" 'BEGIN {printf "ctrun / nspawn: %.2fx to running\n", a / b}'
