# ctrun list, stop and kill on running containers: what list shows against
# the cgroup files, stop and kill in their forms, dead containers, and state
# that does not match its processes (never acted on).
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs ops)
mkdir -p "$WORK/w"
limits="resources: {memory: {max: 64M}, pids: {max: 40}}"
$LIMITS || limits=  # (where the cgroups have no controllers: see lib.sh)
for n in op1 op2 op3; do
  manifest "$n" <<EOF2
rootfs: {path: $R}
mounts: [{type: bind, source: $WORK/w, target: /w}]
$limits
process: {args: [/bin/true]}
EOF2
done
# start NAME CMD: in the background, until it has touched /w/NAME.
start() {
  local n=$1
  shift
  rm -f "$WORK/w/$n"
  CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$WORK/$n.yaml" -- sh -c "touch /w/$n; $*" \
    >"$WORK/$n.out" 2>&1 </dev/null &
  eval "PID_$n=$!"
  # Its command runs, and ctrun has written its state (a moment after: the
  # command may get there first).
  for _ in $(seq 200); do [ -e "$WORK/w/$n" ] && [ -e "/run/ctrun/$n/state.json" ] && return 0; sleep 0.05; done
  bad "$n did not start"
}
ours() { grep -E '^(NAME|op[123] )'; }  # other containers of the machine are not ours to count

begin list-empty
OUT=$("$CTRUN" list | ours)
expect_out "NAME                 STATE     MODE PID      UPTIME  CPU      MEM              PIDS      ADDRESSES"

begin list-three
start op1 'sleep 30'
start op2 'sleep 30'
start op3 'sleep 30'
OUT=$("$CTRUN" list | ours | awk '{print $1, $2, $3}')
expect_out "NAME STATE MODE
op1 running app
op2 running app
op3 running app"
# The JSON row of op1, against the processes and the cgroup files.
"$CTRUN" list --json > "$WORK/list.json"
check "JSON: an array of rows with the fixed keys" grep -q '"addresses": \[\]' "$WORK/list.json"
# (only this test's rows: other tests' containers may be running meanwhile)
tr -d '\n ' < "$WORK/list.json" | sed 's/},{"addresses"/}\n{"addresses"/g' | grep '"name":"op[123]"' > "$WORK/rows"
pid=$(grep '"name":"op1"' "$WORK/rows" | grep -o '"pid":[0-9]*' | cut -d: -f2)
check "op1's pid is its command, in its payload cgroup ($pid)" grep -q 'ctrun-op1.scope/payload' "/proc/$pid/cgroup"
if $LIMITS; then
  OUT=$(grep -o '"memory":{"current":[0-9]*,"limit":[0-9]*}' "$WORK/rows" | sed 's/"current":[0-9]*/"current":N/' | sort -u)
  expect_out '"memory":{"current":N,"limit":67108864}'
  OUT=$(grep -o '"pids":{"current":[0-9]*,"max":[0-9]*}' "$WORK/rows" | sort -u)
  expect_out '"pids":{"current":2,"max":40}'
else
  echo "SKIP $CASE: the memory and pids columns (no controllers here; not counted)"
fi

begin kill
"$CTRUN" kill op1
RC=$?
expect_rc 0
wait "$PID_op1"; RC=$?
expect_rc 143
"$CTRUN" kill op2 KILL --all
wait "$PID_op2"; RC=$?
expect_rc 137
"$CTRUN" kill op3 NOTASIGNAL 2>/dev/null
RC=$?
expect_rc 2
"$CTRUN" kill op1 2>/dev/null
RC=$?
expect_rc 1

begin stop
"$CTRUN" stop op3
RC=$?
expect_rc 0
wait "$PID_op3"; RC=$?
expect_rc 143
"$CTRUN" stop op3
RC=$?
expect_rc 0  # not running: nothing to do
no_leaks op1
no_leaks op2
no_leaks op3

begin kill-all
# --all: every process (frozen meanwhile), the command's children too.
start op1 'sleep 30 & sleep 31 & wait'
n=$(cat /sys/fs/cgroup/machine.slice/ctrun-op1.scope/payload/cgroup.procs /sys/fs/cgroup/pids/machine.slice/ctrun-op1.scope/payload/cgroup.procs 2>/dev/null | sort -u | wc -l)
"$CTRUN" kill op1 TERM --all
RC=$?
expect_rc 0
wait "$PID_op1"; RC=$?
expect_rc 143
check "it had its children when killed ($n processes)" test "$n" -ge 3
no_leaks op1

begin stop-timeout
# A command that ignores SIGTERM: --timeout 1s kills it after a second.
start op1 'probe sleep-ignoring 30'
t0=$(date +%s%N)
"$CTRUN" stop op1 --timeout 1s
RC=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_rc 0
check "stopped within 1-5 s (${ms} ms)" test "$ms" -ge 900 -a "$ms" -lt 5000
wait "$PID_op1"
no_leaks op1

begin dead
# ctrun killed with SIGKILL: list --all shows the container dead; stop
# removes what it left.
start op2 'sleep 30'
kill -KILL "$PID_op2"; wait "$PID_op2" 2>/dev/null
OUT=$("$CTRUN" list | ours | awk '{print $1}')
expect_out "NAME"
OUT=$("$CTRUN" list --all | ours | awk '{print $1, $2}')
expect_out "NAME STATE
op2 dead"
"$CTRUN" stop op2
RC=$?
expect_rc 0
OUT=$("$CTRUN" list --all | ours | awk '{print $1}')
expect_out "NAME"
wait_collected op2
no_leaks op2
check "the collection lock is not taken for a stale name lock" test -e /run/ctrun/.gc.lock
# Killed while it wrote its state (the snapshot is written, state.json not
# yet): a directory without state.json and a lock file that nobody holds.
# stop removes them too.
mkdir -m 0700 /run/ctrun/op2w
echo "version: 1" > /run/ctrun/op2w/manifest.yaml
: > /run/ctrun/op2w/.state.json.tmp
: > /run/ctrun/op2w.lock
"$CTRUN" stop op2w
RC=$?
expect_rc 0
no_leaks op2w

begin forged-state
# State that does not match its processes is never acted on.
start op3 'sleep 30'
st=/run/ctrun/op3/state.json
cp "$st" "$WORK/state.orig"
sed -i '/"supervisor"/,/}/ s/"starttime": [0-9]*/"starttime": 1/' "$st"
"$CTRUN" kill op3 2>"$WORK/err"; RC=$?
ERR=$(cat "$WORK/err")
expect_rc 125
expect_err "^ctrun: will not touch op3: the supervisor recorded for op3 \(pid [0-9]+\) is not running$"
cp "$WORK/state.orig" "$st"
sed -i 's/"boot_id": "[^"]*"/"boot_id": "00000000-0000-0000-0000-000000000000"/' "$st"
"$CTRUN" stop op3 2>"$WORK/err"; RC=$?
ERR=$(cat "$WORK/err")
expect_rc 125
expect_err "^ctrun: will not touch op3: the state of op3 was recorded before the last boot$"
cp "$WORK/state.orig" "$st"
sed -i '0,/"inode": [0-9]*/ s//"inode": 1/' "$st"
"$CTRUN" kill op3 2>"$WORK/err"; RC=$?
ERR=$(cat "$WORK/err")
expect_rc 125
expect_err "^ctrun: will not touch op3: the cgroup recorded for op3 \(.*/payload\) is not the one it runs in$"
check "the container is untouched" kill -0 "$PID_op3"
OUT=$("$CTRUN" list | ours | awk '{print $1, $2}')
expect_out "NAME STATE
op3 unknown"
cp "$WORK/state.orig" "$st"
"$CTRUN" stop op3
RC=$?
expect_rc 0
wait "$PID_op3"
no_leaks op3

begin freeze-thaw
# The container's processes stop and go on; its ctrun keeps running;
# twice is the same as once; stop thaws a frozen container first.
start op1 'i=0; while :; do i=$((i+1)); echo $i > /w/tick; usleep 20000; done'
"$CTRUN" freeze op1
RC=$?
expect_rc 0
"$CTRUN" freeze op1
RC=$?
expect_rc 0
a=$(cat "$WORK/w/tick"); sleep 0.3; b=$(cat "$WORK/w/tick")
check "frozen: no tick in 0.3 s ($a -> $b)" test "$a" = "$b"
# By cgroup2's cgroup.freeze where the container has a cgroup2 directory
# (unified and hybrid hosts), else by the v1 freezer (legacy hosts).
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  OUT=$(grep frozen /sys/fs/cgroup/machine.slice/ctrun-op1.scope/payload/cgroup.events)
  expect_out "frozen 1"
elif [ -d /sys/fs/cgroup/unified ]; then
  OUT=$(grep frozen /sys/fs/cgroup/unified/machine.slice/ctrun-op1.scope/payload/cgroup.events)
  expect_out "frozen 1"
else
  OUT=$(cat /sys/fs/cgroup/freezer/machine.slice/ctrun-op1.scope/payload/freezer.state)
  expect_out "FROZEN"
fi
OUT=$("$CTRUN" list | ours | awk '{print $1, $2}')
expect_out "NAME STATE
op1 frozen"
check "its ctrun is not frozen" sh -c "grep -q '^State:.*[RS]' /proc/$PID_op1/status"
"$CTRUN" thaw op1
RC=$?
expect_rc 0
a=$(cat "$WORK/w/tick"); sleep 0.3; b=$(cat "$WORK/w/tick")
check "thawed: it ticks again ($a -> $b)" test "$a" != "$b"
"$CTRUN" freeze op1
"$CTRUN" stop op1
RC=$?
expect_rc 0
wait "$PID_op1"; RC=$?
expect_rc 143
"$CTRUN" freeze op1 2>/dev/null
RC=$?
expect_rc 1
no_leaks op1

begin status
# The beancounters against the manifest and the cgroup files: the pids
# limit hit by forks past it shows in FAILCNT while the container runs.
limits="resources: {memory: {max: 64M}, pids: {max: 10}}"
$LIMITS || limits=
manifest opst <<EOF2
rootfs: {path: $R}
mounts: [{type: bind, source: $WORK/w, target: /w}]
$limits
process: {args: [/bin/true]}
EOF2
rm -f "$WORK/w/opst"
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$WORK/opst.yaml" \
  -- sh -c 'probe forks 20 > /w/forks; touch /w/opst; sleep 30' >/dev/null 2>&1 &
ctr=$!
for _ in $(seq 200); do [ -e "$WORK/w/opst" ] && [ -e /run/ctrun/opst/state.json ] && break; sleep 0.05; done
if $LIMITS; then
  OUT=$("$CTRUN" status opst | awk '$1 == "memory" || $1 == "pids" {print $1, $4}')
  expect_out "memory 67108864
pids 10"
  failcnt=$("$CTRUN" status opst | awk '$1 == "pids" {print $5}')
  check "pids FAILCNT counts the refused forks ($failcnt; the probe said $(cat "$WORK/w/forks"))" test "$failcnt" -ge 1
else
  # (no controllers: the container has neither cgroup, and no such rows)
  OUT=$("$CTRUN" status opst | awk '$1 == "memory" || $1 == "pids" {print $1, $4}')
  expect_out ""
fi
OUT=$("$CTRUN" status opst | head -1)
expect_out "opst (running, app)"
"$CTRUN" status opst --json > "$WORK/status.json"
if $LIMITS; then
  check "status JSON: the pids row" sh -c "tr -d ' \n' < $WORK/status.json | grep -q '\"limit\":10'"
else
  check "status JSON: the cpu row" sh -c "tr -d ' \n' < $WORK/status.json | grep -q '\"resource\":\"cpu\"'"
fi
"$CTRUN" status nosuch 2>/dev/null
RC=$?
expect_rc 1
"$CTRUN" stop opst
wait "$ctr"
no_leaks opst

begin check
# The host report: done by trying, leaves nothing behind, agrees with ip(8).
"$CTRUN" check > "$WORK/check.out"
RC=$?
expect_rc 0
OUT=$(awk '$1 == "namespace.mount" || $1 == "syscall.openat2" || $1 == "mount_api" {print $1, $2}' "$WORK/check.out")
expect_out "namespace.mount yes
syscall.openat2 yes
mount_api yes"
ip netns add "ctck$$"
ip -n "ctck$$" link add ck0 type veth peer name ck1
want=no
ip -n "ctck$$" link add link ck0 name ck2 type ipvlan mode l2 2>/dev/null && want=yes
ip netns del "ctck$$"
OUT=$(awk '$1 == "link.ipvlan" {print $2}' "$WORK/check.out")
expect_out "$want"
# The active LSMs as securityfs has them (mounted here in a mount namespace
# of the test's own where the host has it nowhere).
lsms=$(unshare -m sh -c 'mountpoint -q /sys/kernel/security || mount -t securityfs none /sys/kernel/security; cat /sys/kernel/security/lsm')
OUT=$(awk '$1 == "lsm" {print $3}' "$WORK/check.out")
expect_out "$lsms"
# The mount guard: loads where the VM says it must (see resources.sh).
if [ -n "${EXPECT_MOUNT_GUARD:-}" ]; then
  OUT=$(awk '$1 == "mount_guard" {print $2}' "$WORK/check.out")
  expect_out "$EXPECT_MOUNT_GUARD"
fi
"$CTRUN" check --json > "$WORK/check.json"
check "check --json: an array of items" grep -q '"item": "cgroup.mode"' "$WORK/check.json"
# check MANIFEST: what of it this host cannot give, by key.
manifest ckm <<EOF2
rootfs: {path: $R, ephemeral: true}
process: {args: [/bin/true]}
network: {mode: macvlan, parent: no-such-if0}
EOF2
OUT=$("$CTRUN" check "$WORK/ckm.yaml" 2>"$WORK/err"); RC=$?
ERR=$(cat "$WORK/err")
expect_rc 1
expect_out "network.parent: there is no interface no-such-if0 on the host"
expect_err "^ctrun: ckm cannot run on this host: network.parent$"
OUT=$("$CTRUN" check "$WORK/ckm.yaml" --set network.mode=none --set network.parent= --set process.rlimits=); RC=$?
expect_rc 0
expect_out "ckm can run on this host"
# A capability beyond ctrun's own bounding set: the manifest's error, with
# its position (this host's root has no CAP_SYS_RESOURCE; the VM's has).
if grep -q '^CapBnd:.*' /proc/self/status && [ $(( 0x$(sed -n 's/^CapBnd:\t//p' /proc/self/status) >> 24 & 1 )) -eq 0 ]; then
  OUT=$("$CTRUN" check "$WORK/ckm.yaml" --set network.mode=none --set network.parent= --set 'capabilities.add=[CAP_SYS_RESOURCE]' 2>&1); RC=$?
  expect_rc 1
  expect_out_match "capabilities.add\[0\]: CAP_SYS_RESOURCE is not in ctrun's own bounding set"
fi
# v1 hosts: the files a limit writes must exist (memory.memsw.* needs swap accounting).
if [ -d /sys/fs/cgroup/memory ]; then
  want="ckm can run on this host"
  [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] ||
    want="resources.memory.swap_max: this host's memory cgroups have no memory.memsw.limit_in_bytes"
  OUT=$("$CTRUN" check "$WORK/ckm.yaml" --set network.mode=none --set network.parent= \
        --set resources.memory.max=64M --set resources.memory.swap_max=0 2>/dev/null)
  expect_out "$want"
  # pids.max and BFQ's weight are never in a hierarchy's root: not a reason
  # to say no (the run itself writes them below it).
  OUT=$("$CTRUN" check "$WORK/ckm.yaml" --set network.mode=none --set network.parent= --set resources.pids.max=20 2>/dev/null)
  expect_out "ckm can run on this host"
  want="resources.io.weight: this host's blkio cgroups have no blkio.weight"
  [ -e /sys/fs/cgroup/blkio/blkio.weight ] || [ -e /sys/fs/cgroup/blkio/blkio.bfq.io_service_bytes ] && want="ckm can run on this host"
  OUT=$("$CTRUN" check "$WORK/ckm.yaml" --set network.mode=none --set network.parent= --set resources.io.weight=300 2>/dev/null)
  expect_out "$want"
fi
no_leaks check
no_leaks ckm

begin list-twenty
# Twenty at once: each listed once, running, with its own pid; then stopped
# together and nothing left.
manifest many <<EOF2
rootfs: {path: $R}
mounts: [{type: bind, source: $WORK/w, target: /w}]
process: {args: [/bin/true]}
EOF2
pids=
for i in $(seq -w 1 20); do
  rm -f "$WORK/w/many$i"
  CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set name=many$i "$WORK/many.yaml" \
    -- sh -c "touch /w/many$i; exec sleep 600" >/dev/null 2>&1 </dev/null &
  pids="$pids $!"
done
for i in $(seq -w 1 20); do
  for _ in $(seq 400); do [ -e "$WORK/w/many$i" ] && [ -e "/run/ctrun/many$i/state.json" ] && break; sleep 0.05; done
done
OUT=$("$CTRUN" list | awk '$1 ~ /^many[0-9][0-9]$/ && $2 == "running" {print $1, $4}' | sort -u | wc -l)
expect_out "20"
OUT=$("$CTRUN" list --json | grep -c '"name": "many[0-9][0-9]"')
expect_out "20"
OUT=$("$CTRUN" list | awk '$1 ~ /^many[0-9][0-9]$/ {print $4}' | sort -u | wc -l)
expect_out "20"  # twenty different pids
for i in $(seq -w 1 20); do "$CTRUN" stop "many$i" --timeout 5s >/dev/null & done
wait $pids
for i in $(seq -w 1 20); do no_leaks "many$i"; done

begin not-root
OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTRUN" list 2>&1); RC=$?
expect_rc 125
expect_out "ctrun: operating containers needs root"

finish
