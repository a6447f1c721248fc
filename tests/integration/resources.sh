#!/usr/bin/env bash
# resources.*: each limit set (read from outside while the container runs)
# and hit (from inside); the device allowlist; OOM; teardown after every
# kind of end, and the stale cgroups of a SIGKILLed ctrun.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)
manifest res <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
EOF2
P=$WORK/res.yaml
# The cgroup files of container res in hierarchy $1 (v1) or the cgroup2 tree.
cg() {
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    echo "/sys/fs/cgroup/machine.slice/ctrun-res.scope"
  else
    echo "/sys/fs/cgroup/$1/machine.slice/ctrun-res.scope"
  fi
}
v1=false
[ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ] && v1=true
# Under systemd (auto: a scope) ctrun's own process is in the scope too,
# and pids.max is the container's 50 plus that one.
pids=50
[ "$(cat /proc/1/comm)" = systemd ] && pids=51
# v1 io.weight: CFQ's blkio.weight or BFQ's blkio.bfq.weight, where the
# kernel has either (the VM's disks have neither scheduler). BFQ's weight
# is not shown in the root cgroup; its statistics are.
blkio_file=
if [ -e /sys/fs/cgroup/blkio/blkio.weight ]; then blkio_file=blkio.weight
elif [ -e /sys/fs/cgroup/blkio/blkio.bfq.io_service_bytes ]; then blkio_file=blkio.bfq.weight; fi

begin limits-written
# Read from outside while the container sleeps (it signals readiness
# through a fifo, so there is no guessing how long setup takes).
mkfifo "$WORK/ready"
io=(--set resources.io.weight=300)
$v1 && [ -z "$blkio_file" ] && io=()
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set resources.memory.max=64M --set resources.memory.swap_max=0 \
  --set resources.cpu.max=0.5 --set resources.cpu.weight=200 --set resources.pids.max=50 "${io[@]}" \
  --set "mounts=[{type: bind, source: $WORK, target: /w}]" "$P" -- sh -c 'echo > /w/ready; sleep 60' &
ctr=$!
read -r _ < "$WORK/ready"
if $v1; then
  OUT=$(cat "$(cg memory)/memory.limit_in_bytes" "$(cg memory)/memory.memsw.limit_in_bytes" "$(cg cpu)/cpu.cfs_quota_us" \
            "$(cg cpu)/cpu.cfs_period_us" "$(cg cpu)/cpu.shares" "$(cg pids)/pids.max" 2>&1)
  expect_out "67108864
67108864
50000
100000
2048
$pids"
  if [ -n "$blkio_file" ]; then
    # (BFQ's scale is io.weight's: 300; CFQ's 10..1000, 100 -> 500: 1000)
    OUT=$(cat "$(cg blkio)/$blkio_file")
    if [ "$blkio_file" = blkio.bfq.weight ]; then expect_out 300; else expect_out 1000; fi
  fi
  OUT=$(cat "$(cg devices)/devices.list" | tr '\n' ' ')
  expect_out "c 1:3 rwm c 1:5 rwm c 1:7 rwm c 1:8 rwm c 1:9 rwm c 5:0 rwm c 5:1 rwm c 5:2 rwm c 136:* rwm "
else
  OUT=$(cat "$(cg)/memory.max" "$(cg)/memory.swap.max" "$(cg)/cpu.max" "$(cg)/cpu.weight" "$(cg)/pids.max" 2>&1)
  expect_out "67108864
0
50000 100000
200
$pids"
fi
kill -TERM "$ctr"; wait "$ctr"
rm -f "$WORK/ready"
no_leaks res

begin memory-oom
# Past memory.max the OOM killer ends the payload: 137 and one line.
ct "$P" --set resources.memory.max=32M --set resources.memory.swap_max=0 -- sh -c 'x=a; while :; do x="$x$x"; done'
expect_rc 137
expect_err "^ctrun: res: killed by the OOM killer \(memory.max 32M\)$"
no_leaks res

begin pids-max
# pids.max 10 (the stub, sh and the probe count): forks past it fail with
# EAGAIN and the container goes on.
ct "$P" --set resources.pids.max=10 -- sh -c 'probe forks 20; echo still-here'
expect_rc 0
expect_out "7 ok EAGAIN
still-here"
no_leaks res

begin cpu-max
# A CPU hog under cpu.max 0.2 for 2 s gets about 20% of a CPU (loosely:
# under 45%), measured as the container's own user+system time.
ct "$P" --set resources.cpu.max=0.2 -- sh -c 'timeout 2 sh -c "while :; do :; done"; awk "{print \$14+\$15+\$16+\$17}" /proc/$$/stat'
expect_rc 0
ticks=$OUT
hz=$(getconf CLK_TCK)
check "cpu.max 0.2: the hog used $ticks ticks of $((2 * hz)) possible (expected under 45%)" test "${ticks:-999}" -lt $((2 * hz * 45 / 100))
check "cpu.max 0.2: the hog used no CPU at all" test "${ticks:-0}" -gt 0
no_leaks res

begin devices
# Only the container's own nodes and devices[] are usable, even with
# CAP_MKNOD: a block device made inside cannot be created or opened.
ct "$P" --set 'devices=[{path: /dev/fuse}]' -- sh -c 'mknod /tmp/disk b 8 0 2>/dev/null && echo made; head -c 1 /dev/zero | wc -c; exec 3<>/dev/fuse && echo fuse-open; echo > /dev/null && echo null-ok'
expect_rc 0
expect_out "1
fuse-open
null-ok"
# access r: reads only (the node is the host's, bound: no mknod right).
ct "$P" --set 'devices=[{path: /dev/fuse, access: r}]' -- sh -c 'exec 3</dev/fuse && echo read-ok; (exec 4>/dev/fuse) 2>/dev/null || echo no-write'
expect_rc 0
expect_out "read-ok
no-write"
no_leaks res

begin cgroup-namespace
# The container's own cgroup is its root.
ct "$P" -- sh -c 'cut -d: -f3 /proc/self/cgroup | sort -u'
expect_rc 0
expect_out "/"
ct "$P" --set namespaces.cgroup=false -- sh -c 'grep -c ctrun-res.scope /proc/self/cgroup'
check "without a cgroup namespace the container sees no path of its cgroup" test "${OUT:-0}" -ge 1
no_leaks res

begin cgroupfs-inside
# cgroup v2: the container's /sys/fs/cgroup is its own cgroup, read-only;
# its limits sit above it (pids.max 42 is not here: max).
if ! $v1; then
  ct "$P" --set resources.pids.max=42 -- sh -c 'cat /sys/fs/cgroup/pids.max; echo 43 > /sys/fs/cgroup/pids.max 2>/dev/null || echo read-only; grep -c . /sys/fs/cgroup/cgroup.procs'
  expect_rc 0
  expect_out_match "^max
read-only
[0-9]+$"
fi
no_leaks res

begin limits-cannot-be-undone
# Even with CAP_SYS_ADMIN the container cannot raise its limits: the limits
# are on the cgroup above its own. On cgroup v1 the mount guard refuses a v1
# mount outright, through mount(2) and through fsopen alike (the route of
# CVE-2022-0492). Where the kernel cannot load the guard (a warning says why;
# EXPECT_MOUNT_GUARD=yes, set in the VM, whose Debian kernel can, makes that
# a failure; =no, on its legacy stage, the guard's presence), the mount's root is the container's own cgroup and
# release_agent is out of reach.
if $v1; then
  ct "$P" --set resources.memory.max=32M --set resources.memory.swap_max=0 --set 'capabilities.add=[CAP_SYS_ADMIN]' -- sh -c '
    mkdir -p /tmp/cg
    if mount -t cgroup -o memory none /tmp/cg 2>/tmp/why; then
      echo mounted
      echo -1 > /tmp/cg/memory.limit_in_bytes 2>/dev/null
      echo /bin/true > /tmp/cg/release_agent 2>/dev/null && echo RELEASE-AGENT-WRITTEN
    else
      # (busybox says "permission denied (are you root?)" for EPERM)
      grep -qiE "permission denied|not permitted" /tmp/why && echo "mount: EPERM" || cat /tmp/why
    fi
    probe fs-create cgroup memory
    mount -t tmpfs none /tmp/cg && echo tmpfs
    x=a; while :; do x="$x$x"; done'
  expect_rc 137
  if grep -q "cannot be kept from mounting cgroup v1" <<<"$ERR"; then
    echo "  (no mount guard on this kernel: $(grep -o 'hierarchies.*' <<<"$ERR"))"
    [ "${EXPECT_MOUNT_GUARD:-}" = yes ] && bad "the mount guard should load on this kernel"
    expect_err "hierarchies \(only its own cgroups show there\): "
    expect_out "mounted
ok
tmpfs"
  else
    [ "${EXPECT_MOUNT_GUARD:-}" = no ] && bad "a mount guard where none can be: $ERR"
    expect_out "mount: EPERM
EPERM
tmpfs"
  fi
else
  ct "$P" --set resources.memory.max=32M --set resources.memory.swap_max=0 --set 'capabilities.add=[CAP_SYS_ADMIN]' -- sh -c '
    mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && echo mounted
    echo max > /tmp/cg/memory.max 2>/dev/null
    x=a; while :; do x="$x$x"; done'
  expect_out "mounted"
  expect_rc 137
fi
expect_err "killed by the OOM killer \(memory.max 32M\)"
no_leaks res

begin cgroup-namespace-with-sys-admin
# The host's cgroup namespace and CAP_SYS_ADMIN: refused before anything exists.
ct "$P" --set namespaces.cgroup=false --set 'capabilities.add=[CAP_SYS_ADMIN]'
expect_rc 125
expect_err "^<command line>:[0-9]+:1: namespaces.cgroup: must be true when the container has CAP_SYS_ADMIN"
no_leaks res

begin systemd-scope
# systemd.register: scope: a transient unit with the limits as properties,
# the container in its delegated payload cgroup, the unit gone afterwards.
# Needs systemd as PID 1 (the VM stage: cgroup v2, and hybrid v1, where
# systemd writes the v1 files and ctrun memsw); elsewhere a clear 125.
if [ "$(cat /proc/1/comm)" = systemd ]; then
  F=$WORK/scopeflag
  mkdir -p "$F"
  swap=() memsw=false
  if $v1 && [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then swap=(--set resources.memory.swap_max=16M); memsw=true; fi
  CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set systemd.register=scope \
    --set resources.memory.max=64M --set resources.pids.max=50 "${swap[@]}" --set "mounts=[{type: bind, source: $F, target: /w}]" \
    "$P" -- sh -c 'cat /proc/self/cgroup > /w/cgroup; touch /w/ready; i=0; while [ ! -e /w/go ] && [ $i -lt 600 ]; do usleep 50000; i=$((i+1)); done' &
  ctr=$!
  for _ in $(seq 200); do [ -e "$F/ready" ] && break; sleep 0.05; done
  OUT=$(systemctl show ctrun-res.scope -p ActiveState -p Delegate -p MemoryMax -p TasksMax -p ControlGroup | sort)
  expect_out "ActiveState=active
ControlGroup=/machine.slice/ctrun-res.scope
Delegate=yes
MemoryMax=67108864
TasksMax=51"
  # The container's cgroup namespace: its payload/ is / in every hierarchy.
  OUT=$(awk -F: '$3 != "/" {print} END {if (!NR) print "nothing"}' "$F/cgroup")
  expect_out ""
  if $v1; then
    OUT=$(cat /sys/fs/cgroup/memory/machine.slice/ctrun-res.scope/memory.limit_in_bytes \
              /sys/fs/cgroup/pids/machine.slice/ctrun-res.scope/pids.max 2>&1)
    expect_out "67108864
51"
    if $memsw; then
      # systemd has no v1 form of MemorySwapMax: ctrun writes memsw (memory + swap)
      OUT=$(cat /sys/fs/cgroup/memory/machine.slice/ctrun-res.scope/memory.memsw.limit_in_bytes 2>&1)
      expect_out "$((80 << 20))"
    fi
  else
    OUT=$(cat /sys/fs/cgroup/machine.slice/ctrun-res.scope/memory.max 2>&1)
    expect_out "67108864"
  fi
  touch "$F/go"  # (the payload runs until told: the checks above may be slow on a loaded VM)
  wait "$ctr"; RC=$?
  expect_rc 0
  # Gone when ctrun returns: it left the scope and stopped it (no waiting).
  check "the scope's cgroup is gone when ctrun returns" \
    sh -c '! ls -d /sys/fs/cgroup/machine.slice/ctrun-res.scope /sys/fs/cgroup/*/machine.slice/ctrun-res.scope 2>/dev/null'
  OUT=$(systemctl show ctrun-res.scope -p ActiveState)
  expect_out "ActiveState=inactive"
else
  ct "$P" --set systemd.register=scope
  expect_rc 125
  expect_err "scope needs systemd's bus \(systemd.register\)$"
fi
no_leaks res

begin refused-limit
if $v1; then
  ct "$P" --set resources.memory.high=100M
  expect_rc 125
  expect_err "resources.memory.high: has no cgroup v1 equivalent"
  if [ -z "$blkio_file" ]; then
    # No blkio weight file on this kernel: a 125 naming the key, also when
    # a systemd scope would have been given IOWeight= (which systemd skips
    # quietly where the file is missing).
    ct "$P" --set resources.io.weight=300
    expect_rc 125
    expect_err "resources.io.weight: the host's blkio controller has no blkio.weight or blkio.bfq.weight \(resources.io.weight\)"
  fi
fi
ct "$P" --set systemd.slice=bad/slice
expect_rc 125
no_leaks res

begin teardown-after-interrupt
# Ctrl-C (SIGINT to ctrun) and a payload that ignores SIGTERM: stop.timeout
# kills it; the cgroups go.
rm -f "$WORK/ready"
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set stop.timeout=200ms \
  --set "mounts=[{type: bind, source: $WORK, target: /w}]" "$P" -- sh -c 'trap "" TERM; touch /w/ready; exec probe sleep-ignoring 30' &
ctr=$!
for _ in $(seq 200); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
kill -INT "$ctr"; wait "$ctr"; RC=$?
expect_rc 137
no_leaks res

begin stale-after-sigkill
# SIGKILL of ctrun: the container dies with it (PDEATHSIG), its empty
# cgroups stay; the next run of any container removes them. The cgroup
# file system driver's job (systemd.register: none): a systemd scope is
# collected by systemd (systemd.sh).
P_NONE=$WORK/res-none.yaml
sed 's/^process:/systemd: {register: none}\nprocess:/' "$P" > "$P_NONE"
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$P_NONE" -- sleep 30 &
ctr=$!
for _ in $(seq 400); do [ -d "$(cg devices)" ] && break; sleep 0.05; done
kill -KILL "$ctr"; wait "$ctr" 2>/dev/null
for _ in $(seq 400); do grep -q . "$(cg devices)/payload/cgroup.procs" 2>/dev/null || break; sleep 0.05; done
check "a SIGKILLed ctrun's cgroup should still be there for this test" test -d "$(cg devices)"
# The same name again: its own leftover is in the way of nothing.
ct "$P_NONE" -- true
expect_rc 0
no_leaks res
# And another name's run removes a leftover too.
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$P_NONE" -- sleep 30 &
ctr=$!
for _ in $(seq 400); do [ -d "$(cg devices)" ] && break; sleep 0.05; done
kill -KILL "$ctr"; wait "$ctr" 2>/dev/null
for _ in $(seq 400); do grep -q . "$(cg devices)/payload/cgroup.procs" 2>/dev/null || break; sleep 0.05; done
manifest other <<EOF2
rootfs: {path: $R}
systemd: {register: none}
process: {args: [/bin/true]}
EOF2
ct "$WORK/other.yaml"
expect_rc 0
"$CTRUN" stop res  # its dead state (the cgroups went with the other run)
no_leaks res
no_leaks other

finish
