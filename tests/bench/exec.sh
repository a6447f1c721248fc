#!/usr/bin/env bash
# Latency of running /bin/true in an already running container: ctrun exec
# against crun exec and runc exec on containers of the same busybox rootfs,
# and the floor, nsenter into the same namespaces. One hyperfine run; prints
# the medians and each one's ratio to the floor. Not a test: nothing here
# asserts.
#
#   tests/bench/exec.sh [CTRUN]     (env: RUNS=30 WARMUP=3 BENCH_DIR=/var/tmp/ctrun-bench)
#
# The peers do less than ctrun exec by default: ctrun re-executes from a
# sealed copy of itself, joins the cgroups first and applies the payload's
# seccomp filter and capabilities; runc exec clones its binary too; crun
# exec does neither copy. Host quirks: see startup.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=${CTRUN_BIN:-$(realpath "${1:-$here/../../build/ctrun}")}
B=${BENCH_DIR:-/var/tmp/ctrun-bench}
RUNS=${RUNS:-30} WARMUP=${WARMUP:-3}
R=$B/rootfs

if [ "${1:-}" != --inner ]; then
  bench_install hyperfine crun runc jq busybox-static
  mkdir -p "$B"
  [ -x "$R/bin/busybox" ] || bash "$here/../integration/mk-rootfs.sh" "$R"
  for rt in crun runc; do  # a bundle each: their cgroups must differ
    bench_bundle "$B/x$rt" "/ctrun-bench-x$rt" /bin/sleep 600
  done
  cat > "$B/sleep.yaml" <<END
version: 1
name: bench-x
rootfs: {path: $R}
process: {args: [/bin/sleep, "600"]}
END
  bench_reexec "$0"
  exit
fi

bench_inner_quirks
"$ctrun" "$B/sleep.yaml" </dev/null >/dev/null 2>&1 &
ct=$!
$crun run -d --bundle "$B/xcrun" ctrun-bench-xcrun </dev/null >/dev/null
runc run -d --bundle "$B/xrunc" ctrun-bench-xrunc </dev/null >/dev/null
cleanup() {
  "$ctrun" stop bench-x >/dev/null 2>&1 || true
  wait "$ct" 2>/dev/null || true
  $crun delete -f ctrun-bench-xcrun >/dev/null 2>&1 || true
  runc delete -f ctrun-bench-xrunc >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 200); do [ -e /run/ctrun/bench-x/state.json ] && break; sleep 0.05; done
main=$(jq '.main.pid' /run/ctrun/bench-x/state.json)
json=$B/exec.json
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" \
  -n floor "nsenter -t $main -m -u -i -n -p -C --root --wd /bin/true" \
  -n crun "$crun exec ctrun-bench-xcrun /bin/true" \
  -n runc "runc exec ctrun-bench-xrunc /bin/true" \
  -n ctrun "$ctrun exec bench-x -- /bin/true" > "$B/hyperfine-exec.log"
echo "| exec | median ms | ratio to floor |"
echo "|---|---:|---:|"
jq -r '(.results[] | select(.command == "floor") | .median) as $f
       | .results[] | "| \(.command) | \(.median * 1000 * 100 | round / 100) | \(.median / $f * 100 | round / 100) |"' "$json"
