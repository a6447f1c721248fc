#!/usr/bin/env bash
# Memory footprint of ctrun against its peers, in one run, same busybox
# rootfs: each launcher starts a container whose payload is `/bin/sleep`;
# once the payload runs, the launcher's own processes (every process of the
# launcher's tree but the payload: ctrun and its stub init; unshare; bwrap
# and its PID 1; crun; runc; systemd-nspawn and its children) are read from
# /proc/PID/smaps_rollup. Prints for each the number of processes, their
# RSS, PSS (shared pages divided among the processes that map them) and
# dirty private memory (written pages of theirs alone: heap, stacks,
# relocated data; what no other process shares and the kernel cannot drop),
# best of ROUNDS, and both ratios to the floor (unshare). The payload is
# then SIGKILLed by pid, which ends each container. What the kernel holds
# for a container (namespaces, mounts, cgroups) is not in these figures.
# A statically linked launcher (ctrun; runc is Go) shares its code with no
# other program, so its PSS counts the code it has run; a dynamically
# linked one shares libc with the whole machine. Not a test: nothing here
# asserts.
#
#   tests/bench/memory.sh [CTRUN]      (env: ROUNDS=3 BENCH_DIR=/var/tmp/ctrun-bench)
#
# crun, runc and nspawn need the host quirks of startup.sh (see there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=${CTRUN_BIN:-$(realpath "${1:-$here/../../build/ctrun}")}
B=${BENCH_DIR:-/var/tmp/ctrun-bench}
ROUNDS=${ROUNDS:-3}
R=$B/rootfs
# What the payload is told to sleep: long enough never to end by itself,
# and a number no other process on the machine is likely to sleep.
NAP=86399

if [ "${1:-}" != --inner ]; then
  bench_install crun runc bubblewrap systemd-container jq busybox-static
  mkdir -p "$B"
  [ -x "$R/bin/busybox" ] || bash "$here/../integration/mk-rootfs.sh" "$R"
  bench_bundle "$B/mbundle" /ctrun-bench-mem /bin/sleep "$NAP"
  cat > "$B/sleep.yaml" <<END
version: 1
name: bench-memory
rootfs: {path: $R}
process: {args: [/bin/sleep, "$NAP"]}
END
  bench_reexec "$0"
  exit
fi

bench_inner_quirks
names=(floor bwrap crun runc nspawn ctrun)
declare -A label=([floor]="floor (unshare)" [bwrap]="bwrap --unshare-all" [crun]="crun run" [runc]="runc run"
       [nspawn]="systemd-nspawn" [ctrun]="ctrun")
start() {  # NAME: starts that launcher in the background, sets $launcher
  case $1 in
    floor) unshare --fork --pid --mount --uts --ipc --net --mount-proc chroot "$R" /bin/sleep "$NAP" & ;;
    bwrap) bwrap --bind "$R" / --proc /proc --dev /dev --unshare-all /bin/sleep "$NAP" & ;;
    crun) $crun run --bundle "$B/mbundle" ctrun-bench-mem-crun & ;;
    runc) runc run --bundle "$B/mbundle" ctrun-bench-mem-runc & ;;
    nspawn) $nspawn /bin/sleep "$NAP" & ;;
    ctrun) "$ctrun" "$B/sleep.yaml" & ;;
  esac
  launcher=$!
}
# The launcher's tree: "pid cmdline" of it and every descendant.
tree() {
  ps -e -o pid=,ppid=,args= | awk -v root="$1" '
    { pid[NR] = $1; parent[$1] = $2; line[$1] = $0 }
    END { for (i = 1; i <= NR; i++) { p = pid[i]; q = p
            while (q != "" && q != root && q > 1) q = parent[q]
            if (q == root) { l = line[p]; sub(/^ *[0-9]+ +[0-9]+ +/, "", l); print p, l } } }'
}
declare -A best
for _ in $(seq "$ROUNDS"); do
  for n in "${names[@]}"; do
    start "$n"
    # The payload: the process of the tree that runs our sleep (waited for
    # up to 20 s; a launcher that fails ends the benchmark).
    payload=
    for _ in $(seq 400); do
      payload=$(tree "$launcher" | awk -v nap="$NAP" '$2 == "/bin/sleep" && $3 == nap { print $1; exit }')
      [ -n "$payload" ] && break
      kill -0 "$launcher" 2>/dev/null || { echo "memory.sh: $n ended before its payload ran" >&2; exit 1; }
      sleep 0.05
    done
    [ -n "$payload" ] || { echo "memory.sh: $n: no payload after 20 s" >&2; kill -9 "$launcher"; exit 1; }
    # Every process of the tree but the payload (and processes it started).
    read -r procs rss pss dirty < <(tree "$launcher" | while read -r pid _; do
        [ "$pid" = "$payload" ] && continue
        grep -E '^(Rss|Pss|Private_Dirty):' "/proc/$pid/smaps_rollup" 2>/dev/null | sed "s/^/$pid /"
      done | awk '{ seen[$1] = 1 } $2 == "Rss:" { r += $3 } $2 == "Pss:" { p += $3 } $2 == "Private_Dirty:" { d += $3 }
                  END { n = 0; for (k in seen) n++; print n, r, p, d }')
    kill -9 "$payload"
    wait "$launcher" || true
    if [ -z "${best[$n]:-}" ] || [ "$pss" -lt "$(cut -d' ' -f3 <<< "${best[$n]}")" ]; then
      best[$n]="$procs $rss $pss $dirty"
    fi
  done
done
echo "| launcher | processes | RSS KiB | PSS KiB | dirty KiB | PSS ratio to floor | dirty ratio to floor |"
echo "|---|---:|---:|---:|---:|---:|---:|"
read -r _ _ floor_pss floor_dirty <<< "${best[floor]}"
for n in "${names[@]}"; do
  read -r procs rss pss dirty <<< "${best[$n]}"
  awk -v name="${label[$n]}" -v n="$procs" -v r="$rss" -v p="$pss" -v d="$dirty" -v fp="$floor_pss" -v fd="$floor_dirty" \
    'BEGIN { printf "| %s | %d | %d | %d | %d | %.2f | %.2f |\n", name, n, r, p, d, p / fp, d / fd }'
done
