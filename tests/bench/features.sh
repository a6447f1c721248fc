#!/usr/bin/env bash
# What each part of a container's isolation costs ctrun at start: /bin/true
# in the busybox rootfs with the default manifest, then with one part turned
# off at a time (the seccomp filter; the network namespace with its
# loopback; the cgroup namespace), then what startup.sh's OCI bundle for
# crun and runc asks for (no seccomp filter, no cgroup namespace: `crun
# spec`'s defaults), then all three, beside the floor of
# startup.sh with and without its network namespace. The starts are
# interleaved (tests/bench/interleave.c: one start of each per round), so
# that the differences are not the machine's drift. Prints medians, each
# one's difference to the default and its ratio to the floor. Not a test:
# nothing here asserts.
#
#   tests/bench/features.sh [CTRUN]     (env: RUNS=200 BENCH_DIR=/var/tmp/ctrun-bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=$(realpath "${1:-$here/../../build/ctrun}")
B=${BENCH_DIR:-/var/tmp/ctrun-bench}
RUNS=${RUNS:-200}
R=$B/rootfs
bench_install gcc busybox-static
mkdir -p "$B/features"
gcc -O2 -o "$B/interleave" "$here/interleave.c"
[ -x "$R/bin/busybox" ] || bash "$here/../integration/mk-rootfs.sh" "$R"
variant() {  # NAME EXTRA-YAML
  printf 'version: 1\nname: bench-%s\nrootfs: {path: %s}\nprocess: {args: [/bin/true]}\n%s' "$1" "$R" "$2" \
    > "$B/features/$1.yaml"
  "$ctrun" "$B/features/$1.yaml"  # (checks the manifest, fills the seccomp cache)
}
variant default ''
variant no-seccomp $'seccomp: {profile: unconfined}\n'
variant no-netns $'namespaces: {net: false}\nnetwork: {mode: host}\n'
variant no-cgroupns $'namespaces: {cgroup: false}\n'
variant as-oci-bundle $'seccomp: {profile: unconfined}\nnamespaces: {cgroup: false}\n'
variant none-of-these $'seccomp: {profile: unconfined}\nnamespaces: {net: false, cgroup: false}\nnetwork: {mode: host}\n'
floor="unshare --fork --pid --mount --uts --ipc --net --mount-proc chroot $R /bin/true"
"$B/interleave" "$RUNS" \
  "ctrun default" "$ctrun" "$B/features/default.yaml" -- \
  "ctrun seccomp unconfined" "$ctrun" "$B/features/no-seccomp.yaml" -- \
  "ctrun no network namespace" "$ctrun" "$B/features/no-netns.yaml" -- \
  "ctrun no cgroup namespace" "$ctrun" "$B/features/no-cgroupns.yaml" -- \
  "ctrun as the OCI bundle" "$ctrun" "$B/features/as-oci-bundle.yaml" -- \
  "ctrun none of the three" "$ctrun" "$B/features/none-of-these.yaml" -- \
  floor $floor -- \
  "floor without --net" ${floor/--net /} > "$B/features.tsv"
echo "| start | median ms | vs ctrun default | ratio to floor |"
echo "|---|---:|---:|---:|"
awk -F '\t' '{name[NR] = $1; med[NR] = $2} $1 == "floor" {f = $2} $1 == "ctrun default" {d = $2}
  END {for (i = 1; i <= NR; i++) printf "| %s | %.2f | %+.2f | %.2f |\n", name[i], med[i] / 1000, (med[i] - d) / 1000, med[i] / f}' \
  "$B/features.tsv"
