#!/usr/bin/env bash
# The integration tests with systemd as PID 1: boots a Debian VM under qemu
# (TCG: this machine has no usable KVM) with the build on a second disk,
# runs every integration script inside, brings the results back, and ends
# with their "N passed, N failed".
#   run.sh CTRUN BUILD_DIR   (env: CTRUN_CACHE=/var/cache/ctrun, VM_TIMEOUT=1500, VM_ONLY,
#                             VM_CGROUP=unified|hybrid|legacy)
# VM_CGROUP picks the cgroup mode systemd boots the VM in: unified (cgroup
# v2, the default), hybrid (v1 controllers and a cgroup2 for systemd, like
# this machine but with systemd) or legacy (v1 only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case ${VM_CGROUP:-unified} in
  unified) cgroup_args="systemd.unified_cgroup_hierarchy=1" ;;
  hybrid) cgroup_args="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
  legacy) cgroup_args="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
  *) echo "vm: VM_CGROUP must be unified, hybrid or legacy, not ${VM_CGROUP}" >&2; exit 2 ;;
esac
ctrun=$1 build=$2
cache=${CTRUN_CACHE:-/var/cache/ctrun}
need=()
for p in qemu-system-x86 debootstrap e2fsprogs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "vm: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
fi
bash "$here/mk-image.sh" "$cache/vm"
bash "$here/../integration/fetch-profiles.sh" "$cache/seccomp-profiles"
# The Debian tree that boot.sh boots (no network in the VM to make one).
bash "$here/../integration/mk-debian.sh" "$cache"

work=$(mktemp -d /tmp/ctrun-vm.XXXXXX)
qemu=
# The VM is ended by pid and the work dir removed however this ends (a
# TERM, Ctrl-C); qemu runs in the background so that a signal is heard
# while it runs.
trap 'set +e; [ -n "$qemu" ] && kill "$qemu" 2>/dev/null && wait "$qemu" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
d=$work/data
mkdir -p "$d/cache"
cp "$ctrun" "$d/ctrun"
cp -a "$build/test-rootfs" "$d/test-rootfs"
cp -a "$here/../integration" "$d/integration"
cp -a "$here/../../manifests" "$d/manifests"  # examples the integration tests run
cp -a "$here/../../units" "$d/units"          # and the unit files
cp "$build/tests/bpf_check" "$d/bpf_check"
cp -a "$cache/seccomp-profiles" "$cache/debian" "$cache/debian.stamp" "$d/cache/"
cp "$here/run-in-vm.sh" "$d/run-in-vm.sh"
# VM_ONLY="boot systemd": only those scripts (while working on them).
[ -n "${VM_ONLY:-}" ] && echo "$VM_ONLY" > "$d/only"
truncate -s 768M "$work/data.ext4"
mkfs.ext4 -q -F -L ctrun -d "$d" "$work/data.ext4"

start=$(date +%s)
# The root image stays as cached (snapshot=on); the data disk takes the results.
timeout "${VM_TIMEOUT:-1500}" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -nographic -no-reboot -nic none \
  -kernel "$cache/vm/vmlinuz" -initrd "$cache/vm/initrd.img" \
  -drive "file=$cache/vm/root.ext4,format=raw,if=virtio,snapshot=on" \
  -drive "file=$work/data.ext4,format=raw,if=virtio" \
  -append "root=LABEL=root rw console=ttyS0 quiet mitigations=off $cgroup_args panic=-1" \
  < /dev/null > "$work/console.log" 2>&1 &
qemu=$!
wait "$qemu" || echo "vm: qemu ended with status $?"
qemu=
echo "vm: $(( $(date +%s) - start )) s in the VM"
if ! debugfs -R "cat /results.log" "$work/data.ext4" > "$work/results.log" 2>/dev/null || [ ! -s "$work/results.log" ]; then
  echo "vm: no results; the console said:"
  tail -n 40 "$work/console.log"
  echo "0 passed, 1 failed"
  exit 1
fi
cat "$work/results.log"
last=$(tail -n 1 "$work/results.log")
[[ $last =~ ^[0-9]+\ passed,\ 0\ failed$ ]]
