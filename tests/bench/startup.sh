#!/usr/bin/env bash
# Start-up latency of ctrun against its peers, one hyperfine run, same busybox
# rootfs, same /bin/true: the floor (unshare + chroot, with a network
# namespace), bubblewrap, crun, runc, systemd-nspawn and ctrun. Prints the
# medians and each one's ratio to the floor, then the floor and ctrun again,
# interleaved (see the end). Not a test: nothing here asserts.
#
#   tests/bench/startup.sh [CTRUN]     (env: RUNS=50 WARMUP=5 BENCH_DIR=/var/tmp/ctrun-bench)
#
# Host quirks handled (Debian 12, PID 1 not systemd, cgroup v1 hybrid):
#  * crun refuses hybrid hosts whose cgroup2 mount lists a controller; the
#    run happens in a private mount namespace where an empty file covers
#    /sys/fs/cgroup/unified/cgroup.controllers (nothing changes outside).
#  * nspawn needs --register=no --keep-unit without systemd, and then makes
#    sub-cgroups under the caller's own: the run moves into private cgroups
#    ctrun-bench-<pid> first and removes them afterwards.
#  * runc and crun get an explicit cgroupsPath, never relative to ours.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=${CTRUN_BIN:-$(realpath "${1:-$here/../../build/ctrun}")}
B=${BENCH_DIR:-/var/tmp/ctrun-bench}
RUNS=${RUNS:-50} WARMUP=${WARMUP:-5}
R=$B/rootfs

if [ "${1:-}" != --inner ]; then
  bench_install hyperfine crun runc bubblewrap systemd-container jq busybox-static gcc
  mkdir -p "$B"
  gcc -O2 -o "$B/interleave" "$here/interleave.c"
  [ -x "$R/bin/busybox" ] || bash "$here/../integration/mk-rootfs.sh" "$R"
  bench_bundle "$B/bundle" /ctrun-bench-oci /bin/true
  cat > "$B/true.yaml" <<END
version: 1
name: bench
rootfs: {path: $R}
process: {args: [/bin/true]}
END
  bench_reexec "$0"
  exit
fi

# --inner: a private mount namespace (and private cgroups where needed).
bench_inner_quirks
json=$B/startup.json
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" \
  -n floor "unshare --fork --pid --mount --uts --ipc --net --mount-proc chroot $R /bin/true" \
  -n bwrap "bwrap --bind $R / --proc /proc --dev /dev --unshare-all /bin/true" \
  -n crun "$crun run --bundle $B/bundle ctrun-bench-crun" \
  -n runc "runc run --bundle $B/bundle ctrun-bench-runc" \
  -n nspawn "$nspawn /bin/true" \
  -n ctrun "$ctrun $B/true.yaml" > "$B/hyperfine.log"
echo "| launcher | median ms | ratio to floor |"
echo "|---|---:|---:|"
jq -r '(.results[] | select(.command == "floor") | .median) as $f
       | .results[] | "| \(.command) | \(.median * 1000 * 100 | round / 100) | \(.median / $f * 100 | round / 100) |"' "$json"
# hyperfine starts each command's runs one after another, and this VM's
# speed drifts over minutes: the floor and ctrun once more, interleaved (one
# start of each per round), for a ratio the drift does not skew.
"$B/interleave" "$RUNS" floor unshare --fork --pid --mount --uts --ipc --net --mount-proc chroot "$R" /bin/true -- \
  ctrun "$ctrun" "$B/true.yaml" |
  awk -F '\t' '{m[$1] = $2} END {printf "\ninterleaved, %d starts each: floor %.2f ms, ctrun %.2f ms, ratio %.2f\n", '"$RUNS"', m["floor"] / 1000, m["ctrun"] / 1000, m["ctrun"] / m["floor"]}'
