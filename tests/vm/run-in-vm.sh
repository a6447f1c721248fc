#!/bin/bash
# Runs in the test VM (systemd as PID 1, cgroup v2 or v1), and in the
# booted-Debian fixture, as a systemd unit: every
# integration script against the ctrun build on the /ctrun disk, results to
# /ctrun/results.log, ending with one "N passed, N failed" line for them all.
cd /ctrun || exit 1
# Everything to the results file and, for whoever watches the VM, the console.
exec > >(tee /ctrun/results.log > /dev/console) 2>&1
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  echo "vm: kernel $(uname -r), cgroup v2, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
else
  echo "vm: kernel $(uname -r), cgroup v1 hierarchies: $(cd /sys/fs/cgroup && echo *)"
fi
echo "vm: PID 1 is $(cat /proc/1/comm), system $(systemctl is-system-running)"
pass=0 fail=0
# Debian's kernel has the bpf LSM: the mount guard (see resources.sh) must
# load wherever there is a cgroup2 directory to attach it to. (The fixture,
# tests/fixture/run.sh, runs this script too, on the host's kernel.)
if [ -e /ctrun/fixture ]; then
  :
elif [ -d /sys/fs/cgroup/unified ] || [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  export EXPECT_MOUNT_GUARD=yes
else
  export EXPECT_MOUNT_GUARD=no
fi
for t in /ctrun/integration/[a-z]*.sh; do
  name=$(basename "$t" .sh)
  case $name in lib|mk-rootfs|mk-debian|fetch-profiles) continue ;; esac
  [ -e /ctrun/only ] && ! grep -qw "$name" /ctrun/only && continue
  start=$(date +%s)
  # (A guard against a hung suite, not a time limit: under TCG on a slow day
  # boot.sh alone has taken over 300 s.)
  out=$(CTIT_PROGRESS=1 CTRUN_CACHE=/ctrun/cache timeout 600 bash "$t" /ctrun/ctrun /ctrun/test-rootfs 2>/dev/console)
  last=$(tail -n 1 <<<"$out")
  echo "== $name ($(( $(date +%s) - start )) s): $last"
  grep -E "^(FAIL|SKIP)" <<<"$out"
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    pass=$((pass + BASH_REMATCH[1])); fail=$((fail + BASH_REMATCH[2]))
  else
    echo "$out" | tail -n 20
    fail=$((fail + 1))
  fi
done
if [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ] && [ ! -d /sys/fs/cgroup/unified ]; then
  echo "SKIP bpf-devices: no cgroup2 to attach a device program to on a legacy host (not counted)"
else
  out=$(/ctrun/bpf_check 2>&1)
  echo "== bpf-devices: $(tail -n 1 <<<"$out")"
  grep "^FAIL" <<<"$out"
  if [[ $(tail -n 1 <<<"$out") =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    pass=$((pass + BASH_REMATCH[1])); fail=$((fail + BASH_REMATCH[2]))
  else
    fail=$((fail + 1))
  fi
fi
echo "$pass passed, $fail failed"
sync
sleep 1  # let tee drain
