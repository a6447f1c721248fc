#!/usr/bin/env bash
# Per-syscall cost of seccomp: a static helper calls getppid() (allowed
# outright by every profile) and ioctl(TCGETS) (a call whose rules look at
# its arguments) N times each and prints ns per call, in one run: on the
# host (no container), in the floor of startup.sh (unshare + chroot), in
# bubblewrap (no filter of its own), in ctrun unconfined, with its default
# profile and with Docker's profile, in crun and in runc with Docker's
# profile (converted to OCI form the way Docker does: rules chosen for their
# capabilities and this architecture), and in systemd-nspawn with its own
# built-in filter. Each is the best of ROUNDS runs; the table gives each
# one's ns, what it adds to the floor's and its ratio to the floor's. Not a
# test: nothing here asserts.
#
#   tests/bench/seccomp.sh [CTRUN]   (env: N=5000000 ROUNDS=5 BENCH_DIR=/var/tmp/ctrun-bench)
#
# crun, runc and nspawn on this host need the same quirks as startup.sh (see there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=${CTRUN_BIN:-$(realpath "${1:-$here/../../build/ctrun}")}
B=${BENCH_DIR:-/var/tmp/ctrun-bench}
N=${N:-5000000} ROUNDS=${ROUNDS:-5}
R=$B/rootfs-seccomp

if [ "${1:-}" != --inner ]; then
  bench_install crun runc bubblewrap systemd-container jq busybox-static gcc
  mkdir -p "$B"
  [ -x "$R/bin/busybox" ] || bash "$here/../integration/mk-rootfs.sh" "$R"
  gcc -O2 -static -o "$R/bin/getppid" "$here/getppid.c"
  bash "$here/../integration/fetch-profiles.sh" "${CTRUN_CACHE:-/var/cache/ctrun}/seccomp-profiles"
  docker_profile=${CTRUN_CACHE:-/var/cache/ctrun}/seccomp-profiles/docker.json
  rm -rf "$B/sbundle" && mkdir -p "$B/sbundle"
  (cd "$B/sbundle" && crun spec && jq --arg r "$R" --arg n "$N" --slurpfile prof "$docker_profile" '
     .process.capabilities.bounding as $caps
     | def has_arch: (. // []) | any(.[]; . == "amd64");
       def caps_in: (. // []) | all(.[]; . as $c | $caps | index($c) != null);
       def caps_none: (. // []) | all(.[]; . as $c | $caps | index($c) == null);
     .process.terminal=false | .root.path=$r | .process.args=["/bin/getppid", $n]
     | .linux.cgroupsPath="/ctrun-bench-seccomp"
     | .linux.seccomp = {
         defaultAction: $prof[0].defaultAction,
         architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
         syscalls: [$prof[0].syscalls[]
           | select((.includes.caps | caps_in) and (.excludes.caps | caps_none)
                    and ((.includes.arches // []) | length == 0 or has_arch)
                    and ((.excludes.arches // []) | has_arch | not))
           | {names, action} + (if .errnoRet then {errnoRet} else {} end)
             + (if ((.args // []) | length) > 0 then {args: [.args[] | {index, value, valueTwo: (.valueTwo // 0), op}]} else {} end)]
       }' config.json > c.json && mv c.json config.json)
  cat > "$B/getppid.yaml" <<END
version: 1
name: bench-seccomp
rootfs: {path: $R}
process: {args: [/bin/getppid, "$N"]}
END
  export DOCKER_PROFILE=${docker_profile:-}
  bench_reexec "$0"
  exit
fi

bench_inner_quirks
# Rounds interleave them (ABC... ABC...) so that a drift of the machine
# hits all of them alike; each keeps its best round.
names=(host floor bwrap unconfined ours docker_ctrun docker_crun docker_runc nspawn)
declare -A label=([host]="host, no container" [floor]="floor (unshare + chroot)" [bwrap]="bwrap --unshare-all"
       [unconfined]="ctrun, unconfined" [ours]="ctrun, default profile" [docker_ctrun]="ctrun, Docker's profile"
       [docker_crun]="crun, Docker's profile" [docker_runc]="runc, Docker's profile"
       [nspawn]="systemd-nspawn, its own filter")
run_one() {  # NAME CALL
  case $1 in
    host) "$R/bin/getppid" "$N" "$2" ;;
    floor) unshare --fork --pid --mount --uts --ipc --net --mount-proc chroot "$R" /bin/getppid "$N" "$2" ;;
    bwrap) bwrap --bind "$R" / --proc /proc --dev /dev --unshare-all /bin/getppid "$N" "$2" ;;
    unconfined) "$ctrun" --set seccomp.profile=unconfined "$B/getppid.yaml" -- /bin/getppid "$N" "$2" ;;
    ours) "$ctrun" "$B/getppid.yaml" -- /bin/getppid "$N" "$2" ;;
    docker_ctrun) "$ctrun" --set "seccomp.profile=$DOCKER_PROFILE" "$B/getppid.yaml" -- /bin/getppid "$N" "$2" ;;
    docker_crun | docker_runc)
      jq --arg c "$2" --arg n "$N" '.process.args=["/bin/getppid", $n, $c]' "$B/sbundle/config.json" > "$B/sbundle/c.json"
      mv "$B/sbundle/c.json" "$B/sbundle/config.json"
      if [ "$1" = docker_crun ]; then
        $crun run --bundle "$B/sbundle" ctrun-bench-seccomp-crun
      else
        runc run --bundle "$B/sbundle" ctrun-bench-seccomp-runc
      fi ;;
    nspawn) $nspawn /bin/getppid "$N" "$2" ;;
  esac
}
declare -A best
for call in getppid ioctl; do
  for _ in $(seq "$ROUNDS"); do
    for n in "${names[@]}"; do
      v=$(run_one "$n" "$call" | tail -n 1)
      k=$n.$call
      if [ -z "${best[$k]:-}" ] || awk -v v="$v" -v b="${best[$k]}" 'BEGIN { exit !(v < b) }'; then best[$k]=$v; fi
    done
  done
done
echo "| ns per call | getppid() | added | ratio | ioctl(TCGETS) | added | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for n in "${names[@]}"; do
  awk -v name="${label[$n]}" -v g="${best[$n.getppid]}" -v i="${best[$n.ioctl]}" \
      -v fg="${best[floor.getppid]}" -v fi="${best[floor.ioctl]}" \
    'BEGIN { printf "| %s | %.1f | %+.1f | %.2f | %.1f | %+.1f | %.2f |\n", name, g, g - fg, g / fg, i, i - fi, i / fi }'
done
