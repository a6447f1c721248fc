#!/usr/bin/env bash
# Where a start of ctrun spends its time: builds ctrun with its timeline
# marks (cmake -DCTRUN_TIMELINE=ON, in $BENCH_DIR/timeline-build), starts
# /bin/true in the busybox rootfs RUNS times, and prints for each mark the
# mean time since the mark before it (by time, whichever process wrote it:
# "c:" marks are the stub init's, "p:" the payload's). Not a test: nothing
# here asserts; the marks themselves cost a few microseconds each.
#
#   tests/bench/timeline.sh            (env: RUNS=50 BENCH_DIR=/var/tmp/ctrun-bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
B=${BENCH_DIR:-/var/tmp/ctrun-bench}
RUNS=${RUNS:-50}
R=$B/rootfs
bench_install busybox-static
mkdir -p "$B"
[ -x "$R/bin/busybox" ] || bash "$here/../integration/mk-rootfs.sh" "$R"
cmake -S "$src" -B "$B/timeline-build" -G Ninja -DCTRUN_TIMELINE=ON -DCTRUN_TESTS=OFF >/dev/null
ninja -C "$B/timeline-build" ctrun >/dev/null
cat > "$B/timeline.yaml" <<END
version: 1
name: timeline
rootfs: {path: $R}
process: {args: [/bin/true]}
END
ctrun=$B/timeline-build/ctrun
"$ctrun" "$B/timeline.yaml" 2>/dev/null  # fills the seccomp cache
for _ in $(seq "$RUNS"); do
  "$ctrun" "$B/timeline.yaml" 2>&1 >/dev/null | sort -k2,2n | awk '$1 == "T"'
  echo END
done | awk '
  $1 == "END" { prev = ""; next }
  { t = $2 * 1000; if (prev != "") { sum[$4] += t - prev; n[$4]++; if (!($4 in seen)) { seen[$4] = 1; order[++k] = $4 } } else first = t; prev = t }
  END { total = 0; for (i = 1; i <= k; i++) { m = sum[order[i]] / n[order[i]]; total += m; printf "%8.3f ms  %s\n", m, order[i] } printf "%8.3f ms  from start to done\n", total }'
