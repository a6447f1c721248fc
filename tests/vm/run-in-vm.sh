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
# boot.sh alone first (its guests' boots are timed against limits that a
# VM busy with another script can overrun under TCG), then the other
# scripts two at a time, as ctest runs them on the host (-j2), then
# systemd.sh alone (it installs units, reloads systemd and masks machined,
# which the other scripts' containers would see). Results are printed in
# name order once all have ended.
names=()
for t in /ctrun/integration/[a-z]*.sh; do
  name=$(basename "$t" .sh)
  case $name in lib|mk-rootfs|mk-debian|fetch-profiles) continue ;; esac
  [ -e /ctrun/only ] && ! grep -qw "$name" /ctrun/only && continue
  names+=("$name")
done
# boot.sh in the cgroup v1 VMs: only the cases whose guests see cgroups
# differently there (the first boot's checks, machined's and systemd's
# scopes and units, reboots, a SIGKILLed ctrun's leftovers, user
# namespaces); the others (exit statuses, consoles, the example manifest,
# the journal link) run on the host and in the cgroup v2 VM. Under TCG each
# boot costs some 10 s; this saves about 2 minutes per v1 stage.
boot_cases=
if [ ! -e /ctrun/fixture ] && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  boot_cases="machinectl machinectl-terminate reboot-in-process sigkill-of-ctrun unit-reboot user-namespace missing-init"
fi
res=$(mktemp -d)
suite() {
  local name=$1 start=$SECONDS cases=
  [ "$name" = boot ] && cases=$boot_cases
  # (A guard against a hung suite, not a time limit: under TCG on a slow day
  # boot.sh alone has taken over 300 s.)
  CTIT_CASES=$cases CTIT_CASES_WHY="left to the host and the cgroup v2 VM" \
  CTIT_PROGRESS=1 CTRUN_CACHE=/ctrun/cache timeout 900 bash "/ctrun/integration/$name.sh" /ctrun/ctrun \
    /ctrun/test-rootfs > "$res/$name.out" 2>/dev/console
  echo $(( SECONDS - start )) > "$res/$name.secs"
}
# (By pid: a bare `wait` would also wait for the tee above, which never ends.)
pids=()
[[ " ${names[*]} " = *" boot "* ]] && suite boot
for name in $(printf '%s\n' "${names[@]}" | awk '$1 != "systemd" && $1 != "boot" {print ($1 == "exec" ? 0 : 1), $1}' |
              sort | cut -d' ' -f2); do
  if [ "${#pids[@]}" -ge 2 ]; then
    wait -n "${pids[@]}"
    for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null || unset "pids[$i]"; done
  fi
  suite "$name" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
[[ " ${names[*]} " = *" systemd "* ]] && suite systemd
for name in "${names[@]}"; do
  out=$(cat "$res/$name.out")
  last=$(tail -n 1 <<<"$out")
  echo "== $name ($(cat "$res/$name.secs") s): $last"
  grep -E "^SKIP" <<<"$out"
  grep -A4 -E "^FAIL" <<<"$out"  # (with what the check printed after)
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
