# Boot mode: a debootstrapped Debian 12 (systemd 252) boots under ctrun as
# PID 1 until `systemctl is-system-running` says running with no failed
# unit; checked from inside (environment, /run/host, /proc, /sys, /dev,
# cgroup file systems, mount propagation, identity) and through every row
# of the exit table (power-off, halt, exit N, reboot in-process and 133,
# SIGTERM, a missing init). On this host the guest gets hybrid cgroups; in
# the VM (cgroup v2) unified ones. The tree is cached (mk-debian.sh).
source "$(dirname "$0")/lib.sh"
CACHE=${CTRUN_CACHE:-/var/cache/ctrun}
if ! bash "$(dirname "$0")/mk-debian.sh" "$CACHE"; then
  echo "FAIL mk-debian: no Debian tree to boot"; echo "0 passed, 1 failed"; exit 1
fi
DEB=$CACHE/debian
PROBE=$TEMPLATE/bin/probe  # static: runs on the host too
UUID=01234567-89ab-cdef-0123-456789abcdef  # mk-debian.sh's /etc/machine-id

manifest bt <<EOF2
rootfs: {path: $DEB, ephemeral: true}
boot: true
process: {no_new_privileges: false}
stop: {timeout: 30s}
EOF2
M=$WORK/bt.yaml

WRAP=()  # a command ctrun runs under (nsenter into a network namespace)
# init_pid NAME: the init's host pid, from the state (empty until running).
state_pid() { awk -v k="\"$2\": {" 'index($0, k) {f = 1} f && /"pid"/ {gsub(/[^0-9]/, ""); print; exit}' "/run/ctrun/$1/state.json" 2>/dev/null; }
init_pid() { state_pid "$1" init; }
# start NAME [ARGS]: ctrun in the background (its console to $WORK/NAME.log,
# its status appended as "rc=N"); PID = the init's host pid once the state
# says running. CTRUN_PID = ctrun's pid.
start() {
  local n=$1
  shift
  # (The token goes to PID 1 only: the leak check's clean-up kills PID 1,
  # and ctrun, left alive, cleans up after it.)
  ( exec "${WRAP[@]}" "$CTRUN" --set name="$n" --set "process.env.CTIT_TOKEN=$TOKEN" "$M" "$@" \
      < /dev/null > "$WORK/$n.log" 2>&1 ) &
  CTRUN_PID=$!
  PID=
  for _ in $(seq 300); do
    # (a SIGKILLed ctrun's state stays until the next run replaces it)
    [ "$(state_pid "$n" supervisor)" = "$CTRUN_PID" ] && PID=$(init_pid "$n")
    [ -n "$PID" ] && return 0
    kill -0 "$CTRUN_PID" 2>/dev/null || break
    sleep 0.05
  done
  bad "container $n did not start: $(tail -n 5 "$WORK/$n.log")"
  return 1
}
# next_boot FIRST: waits (30 s at most) for bt's PID 1 to be another than
# FIRST (a reboot); PID = the new one, empty if none came.
next_boot() {
  for _ in $(seq 600); do
    PID=$(init_pid bt)
    [ -n "$PID" ] && [ "$PID" != "$1" ] && return 0
    sleep 0.05
  done
  PID=
  return 1
}
# inside CMD...: runs CMD in all of the container's namespaces.
inside() { nsenter -t "$PID" -a "$@"; }
# up: waits until the guest's systemd has finished booting.
up() {
  local s
  # (systemctl needs systemd's private socket, which comes a moment after start)
  for _ in $(seq 1200); do
    [ -d "/proc/$PID" ] && inside test -S /run/systemd/private 2>/dev/null && break
    sleep 0.05
  done
  s=$(timeout 300 nsenter -t "$PID" -a systemctl is-system-running --wait 2>&1)
  if [ "$s" = running ]; then ok; else bad "is-system-running: $s; failed: $(inside systemctl --failed --no-legend 2>&1)"; fi
}
# ended NAME: waits for ctrun to exit; RC = its status.
ended() {
  { wait "$CTRUN_PID"; } 2>/dev/null
  RC=$?
  ERR=$(cat "$WORK/$1.log")
}

begin boot-and-ready
# Type=notify: ctrun passes the guest's READY=1 on once systemd has booted.
"$PROBE" notify-recv "$WORK/manager.sock" 3 300 > "$WORK/got" &
listener=$!
for _ in $(seq 400); do grep -q listening "$WORK/got" 2>/dev/null && break; sleep 0.02; done
export NOTIFY_SOCKET=$WORK/manager.sock
start bt
unset NOTIFY_SOCKET
up
wait "$listener"
OUT=$(grep -v '^listening$' "$WORK/got")
expect_out_match "^STATUS=Starting container bt.
STATUS=Container bt started, waiting for its READY=1.
READY=1.*STATUS="
check "systemctl --failed is not empty" [ -z "$(inside systemctl --failed --no-legend)" ]
OUT=$("$CTRUN" list --json)
expect_out_match '"mode": *"boot",.*"name": *"bt"'
# no memory limit: max (cgroup v1 writes it as 9223372036854771712); no
# memory controller at all (the fixture): -
OUT=$("$CTRUN" list | grep '^bt ')
if $LIMITS; then
  expect_out_match '^bt +running +boot +[0-9]+ .* [0-9.]+[BKMGT]?/max +'
else
  expect_out_match '^bt +running +boot +[0-9]+ .* - +- +'
fi

begin pid1-environment
OUT=$(inside cat /proc/1/environ | tr '\0' '\n' | grep -v '^container_host_')
expect_out "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
container=ctrun
HOME=/root
USER=root
LOGNAME=root
container_uuid=$UUID
NOTIFY_SOCKET=/run/host/notify
CTIT_TOKEN=$TOKEN"
# $container_host_id and friends: the host's os-release.
. /etc/os-release
OUT=$(inside cat /proc/1/environ | tr '\0' '\n' | grep '^container_host_id=')
expect_out "container_host_id=$ID"
OUT=$(inside cat /proc/1/cmdline | tr '\0' ' ')
expect_out "/sbin/init "

begin run-host
OUT=$(inside cat /run/host/container-manager /run/host/container-uuid)
expect_out "ctrun
$UUID"
check "/run/host/os-release is not the host's" cmp -s <(inside cat /run/host/os-release) /usr/lib/os-release
OUT=$(inside sh -c 'echo x > /run/host/x; test -S /run/host/notify && echo socket' 2>&1)
expect_out_match "Read-only file system"
expect_out_match "socket"
OUT=$(inside machinectl 2>/dev/null; inside cat /etc/machine-id)
expect_out_match "0123456789abcdef0123456789abcdef"

begin console
# The console still reaches ctrun after the guest's getty has vhangup()ed it
# (ctrun holds a slave of its own), and ctrun copies it to its stdout.
check "console-getty did not run" inside systemctl -q is-active console-getty.service
inside sh -c "echo console-mark-$TOKEN > /dev/console"
for _ in $(seq 400); do grep -q "console-mark-$TOKEN" "$WORK/bt.log" && break; sleep 0.05; done
check "the console's output did not reach ctrun's stdout after getty" grep -q "console-mark-$TOKEN" "$WORK/bt.log"

begin proc-sys-dev
# A boot id of its own, not the host's.
OUT=$(inside cat /proc/sys/kernel/random/boot_id)
check "boot_id is the host's" [ "$OUT" != "$(cat /proc/sys/kernel/random/boot_id)" ]
expect_out_match '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
OUT=$(inside sh -c 'echo x > /proc/sys/kernel/hostname; echo 1 > /proc/sys/net/ipv4/ip_forward && echo net-ok' 2>&1)
expect_out_match "Read-only file system"
expect_out_match "net-ok"
OUT=$(inside sh -c 'for f in kcore keys kmsg kallsyms sysrq-trigger timer_list; do head -c 1 /proc/$f 2>/dev/null | wc -c; done | tr -d "\n"')
expect_out "000000"
OUT=$(inside sh -c 'touch /sys/x; stat -c "%t %T" /dev/console; readlink /dev/ptmx' 2>&1)
expect_out_match "Read-only file system"
expect_out_match "88 [0-9a-f]+
pts/ptmx"  # /dev/console is a pty of the container's devpts (major 136 = 0x88)
OUT=$(inside findmnt -no OPTIONS /dev/pts)
expect_out_match "mode=620,ptmxmode=666"
OUT=$(inside findmnt -no PROPAGATION /)
expect_out "shared"

begin cgroups
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  OUT=$(inside findmnt -no FSTYPE,OPTIONS /sys/fs/cgroup)
  expect_out_match "^cgroup2 rw,"
  # (on a kernel that also has v1 hierarchies, as under the fixture, the
  # file lists those too: only the cgroup2 line counts)
  OUT=$(inside cat /proc/1/cgroup | grep '^0::')
  expect_out "0::/init.scope"
  # The limits' cgroup is out of sight: PID 1's root is payload/.
  check "payload/ holds the guest's tree" test -d "$(ls -d /sys/fs/cgroup/*.slice/ctrun-bt.scope/payload/init.scope /sys/fs/cgroup/*.slice/*/ctrun-bt.scope/payload/init.scope 2>/dev/null | head -1)"
else
  # hybrid, as nspawn: v1 controllers read-only, name=systemd and cgroup2
  # writable; legacy (a host without cgroup2, the VM's third stage): the same
  # without cgroup2.
  OUT=$(inside findmnt -rno TARGET,FSTYPE,OPTIONS -R /sys/fs/cgroup | awk '{split($3, o, ","); print $1, $2, o[1]}')
  expect_out_match "^/sys/fs/cgroup tmpfs ro
"
  expect_out_match "/sys/fs/cgroup/memory cgroup ro
"
  expect_out_match "/sys/fs/cgroup/systemd cgroup rw"
  if [ -d /sys/fs/cgroup/unified ]; then
    expect_out_match "/sys/fs/cgroup/unified cgroup2 rw"
    want_cg="name=systemd:/init.scope
:/init.scope"
  else
    check "legacy: no cgroup2 for the guest" [ -z "$(grep cgroup2 <<<"$OUT")" ]
    want_cg="name=systemd:/init.scope"
  fi
  OUT=$(inside cat /proc/1/cgroup | grep -E '^[0-9]+:(name=systemd|):' | cut -d: -f2-)
  expect_out "$want_cg"
  check "the guest's tree is not below the host's payload/" test -d /sys/fs/cgroup/systemd/machine.slice/ctrun-bt.scope/payload/init.scope
  # the memory limit's cgroup is above what the guest sees
  OUT=$(inside cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
  check "memory cgroup not the container's own" [ -n "$OUT" ]
  # The v1 hierarchies ctrun mounted for the guest are all it gets: the
  # mount guard refuses another (where the kernel has it; see resources.sh)
  # to the container's processes (ctrun exec joins its cgroup; nsenter
  # would not).
  OUT=$("$CTRUN" exec bt -- sh -c 'd=$(mktemp -d); mount -t cgroup -o memory none "$d" 2>&1 && echo MOUNTED && umount "$d"; rmdir "$d"')
  case ${EXPECT_MOUNT_GUARD:-} in
    yes) expect_out_match "permission denied|not permitted" ;;
    no) expect_out_match "MOUNTED" ;;
  esac
fi

begin exec
# ctrun exec lands in PID 1's cgroup (init.scope), not in payload/ (which a
# guest's tree keeps empty), with a command's environment, not PID 1's.
OUT=$("$CTRUN" exec bt -- cat /proc/self/cgroup | grep -E '^[0-9]+:(name=systemd|):' | cut -d: -f2-)
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  OUT=$(grep '^:' <<<"$OUT")  # (the cgroup2 line only: see cgroups above)
  expect_out ":/init.scope"
elif [ -d /sys/fs/cgroup/unified ]; then
  expect_out "name=systemd:/init.scope
:/init.scope"
else
  expect_out "name=systemd:/init.scope"
fi
OUT=$("$CTRUN" exec bt -- systemctl is-system-running)
expect_out "running"
OUT=$("$CTRUN" exec bt -- sh -c 'echo "$HOME ${NOTIFY_SOCKET:-none} ${container_uuid:-none} $container"')
expect_out "/root none none ctrun"

begin poweroff
inside systemctl poweroff 2>/dev/null  # (its bus connection ends with the system)
ended bt
expect_rc 0
expect_err "Welcome to Debian"
no_leaks bt

# Each case below boots a guest of its own; a stage may leave some out
# (want, in lib.sh: the cgroup v1 VMs run those where cgroups matter).
if want exit-status; then
begin exit-status
start bt || true
up
inside systemctl exit 7
ended bt
expect_rc 7
no_leaks bt
fi

if want kill-rtmin4; then
begin kill-rtmin4
# SIGRTMIN+4 to PID 1 is systemd's power-off: exit 0.
start bt || true
up
"$CTRUN" kill bt SIGRTMIN+4
RC=$?
expect_rc 0
ended bt
expect_rc 0
no_leaks bt
fi

if want console-escape; then
begin console-escape
# An interactive console (a pty from script(1)): Ctrl-] three times within a
# second kills the container.
mkfifo "$WORK/keys"
( exec 3> "$WORK/keys"
  for _ in $(seq 600); do [ -n "$(init_pid bt)" ] && break; sleep 0.05; done
  sleep 1
  printf '\035\035\035' >&3
  sleep 30 ) &
feeder=$!
script -qefc "$CTRUN --set name=bt $M" /dev/null < "$WORK/keys" > "$WORK/escape.log" 2>&1
RC=$?
kill "$feeder" 2>/dev/null
ERR=$(cat "$WORK/escape.log")
expect_rc 137
expect_err "press Ctrl-\] three times within a second"
expect_err "ctrun: bt: killed \(Ctrl-\] three times\)"
no_leaks bt
fi

if want console-login; then
begin console-login
# A login at the guest's console through the caller's terminal (script(1)):
# the guest's getty on /dev/console, root without a password (mk-debian.sh),
# a command typed at its shell, and poweroff from there (exit 0).
rm -f "$WORK/keys"
mkfifo "$WORK/keys"
: > "$WORK/login.log"
( exec 3> "$WORK/keys"
  seen() { for _ in $(seq 1200); do grep -q "$1" "$WORK/login.log" && return 0; sleep 0.05; done; return 1; }
  seen "login: " && sleep 1 && printf 'root\r' >&3
  seen "root@" && printf 'echo LOGGED-IN-$((6*7))\r' >&3
  seen "LOGGED-IN-42" && printf 'systemctl poweroff\r' >&3
  exec sleep 60 ) &
feeder=$!
timeout 120 script -qefc "$CTRUN --set name=bt $M" /dev/null < "$WORK/keys" > "$WORK/login.log" 2>&1
RC=$?
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
ERR=$(cat "$WORK/login.log")
expect_rc 0
expect_err "login: "
expect_err "LOGGED-IN-42"
no_leaks bt
fi

if want machinectl; then
begin machinectl
# Where systemd-machined runs (the VM): systemd.machine auto registers the
# guest; machinectl poweroff (SIGRTMIN+4 to the leader) shuts it down.
if [ "$(cat /proc/1/comm)" = systemd ] && command -v machinectl > /dev/null; then
  start bt || true
  up
  OUT=$(machinectl show bt -p Class -p Service -p Leader | sort)
  expect_out "Class=container
Leader=$PID
Service=ctrun"
  machinectl poweroff bt
  ended bt
  expect_rc 0
  if machine_gone bt; then ok; else bad "machined still lists bt after the container ended: $OUT"; fi
  no_leaks bt
else
  echo "SKIP machinectl: no systemd-machined here (the VM stage; not counted)"
fi
fi

if want machinectl-verbs; then
begin machinectl-verbs
# machinectl and systemd-run -M on a booted guest: list and status show it,
# a command runs as a unit of the guest's systemd (its exit status back),
# machinectl shell runs one through the guest's bus, kill --kill-whom=leader
# signals PID 1 (SIGRTMIN+4: power off), reboot boots it again in-process.
if [ "$(cat /proc/1/comm)" = systemd ] && command -v machinectl > /dev/null; then
  INVOCATION_ID= start bt || true
  up
  OUT=$(machinectl list --no-legend 2>&1 | awk '$1 == "bt" {print $1, $2, $3}')
  expect_out "bt container ctrun"
  OUT=$(machinectl status bt 2>&1)
  expect_out_match "Leader: $PID "
  OUT=$(timeout 120 systemd-run -M bt --wait /bin/sh -c 'exit 7' 2>&1)
  expect_out_match "status=7"
  OUT=$(timeout 120 machinectl shell bt /bin/echo ctit-shell-ok 2>&1 < /dev/null)
  expect_out_match "ctit-shell-ok"
  first=$PID
  machinectl reboot bt
  next_boot "$first"
  check "no second boot after machinectl reboot" [ -n "$PID" ]
  [ -n "$PID" ] && up
  machinectl kill bt --kill-whom=leader --signal=SIGRTMIN+4
  ended bt
  expect_rc 0
  check "warnings: $(grep 'ctrun: warning' "$WORK/bt.log")" ! grep -q 'ctrun: warning' "$WORK/bt.log"
  if machine_gone bt; then ok; else bad "machined still lists bt after the container ended: $OUT"; fi
  no_leaks bt
else
  echo "SKIP machinectl-verbs: no systemd-machined here (the VM stage; not counted)"
fi
fi

if want machinectl-terminate; then
begin machinectl-terminate
# A scope (systemd.register: scope) names ctrun its Controller=: stopping it
# (machinectl terminate, systemctl stop) reaches ctrun as RequestStop, and
# the guest halts by stop.signal (exit 0) instead of systemd signalling
# every process in it. systemd waits stop.timeout + 10 s for that.
if [ "$(cat /proc/1/comm)" = systemd ] && command -v machinectl > /dev/null; then
  start bt --set systemd.register=scope || true
  up
  OUT=$(systemctl show ctrun-bt.scope -p Controller -p TimeoutStopUSec | sort)
  expect_out_match "^Controller=:1\.[0-9]+
TimeoutStopUSec=40s$"
  machinectl terminate bt
  ended bt
  expect_rc 0
  expect_err "Halting system|System halted|Powering off"
  if machine_gone bt; then ok; else bad "machined still lists bt after the container ended: $OUT"; fi
  wait_collected bt
  no_leaks bt
else
  echo "SKIP machinectl-terminate: no systemd-machined here (the VM stage; not counted)"
fi
fi

if want sigterm-halts; then
begin sigterm-halts
start bt || true
up
kill -TERM "$CTRUN_PID"
ended bt
expect_rc 0
expect_err "Halting system|System halted|Powering off"
no_leaks bt
fi

if want reboot-in-process; then
begin reboot-in-process
# (not under a unit: the VM runs these tests in one, and INVOCATION_ID says so)
INVOCATION_ID= start bt || true
up
first=$PID
first_boot=$(inside cat /proc/sys/kernel/random/boot_id)
inside systemctl reboot 2>/dev/null  # (its bus connection ends with the system)
if next_boot "$first"; then
  ok
  up
  check "the second boot kept the first boot's id" [ "$(inside cat /proc/sys/kernel/random/boot_id)" != "$first_boot" ]
  inside systemctl poweroff 2>/dev/null
else
  bad "no second boot after systemctl reboot"
fi
ended bt
expect_rc 0
check "not booted twice" [ "$(grep -c 'Welcome to Debian' "$WORK/bt.log")" -eq 2 ]
# (where machined runs, the second boot registers the name the first one just left)
# (and a warning of the first, such as the mount guard's, is not repeated)
second=$(awk '/Welcome to Debian/ {n++} n >= 2' "$WORK/bt.log")
check "warnings on the second boot: $(grep 'ctrun: warning' <<<"$second")" ! grep -q 'ctrun: warning' <<<"$second"
no_leaks bt
fi

if want reboot-under-a-unit; then
begin reboot-under-a-unit
# Started by a systemd unit (INVOCATION_ID): a reboot is 133, for
# RestartForceExitStatus=133 to start it again.
INVOCATION_ID=0123456789abcdef0123456789abcdef start bt || true
up
inside systemctl reboot 2>/dev/null  # (its bus connection ends with the system)
ended bt
expect_rc 133
check "booted again under a unit" [ "$(grep -c 'Welcome to Debian' "$WORK/bt.log")" -eq 1 ]
no_leaks bt
fi

if want sigkill-of-ctrun; then
begin sigkill-of-ctrun
# PID 1 dies with ctrun (the death signal); the guest's cgroup tree below
# payload/ is left, and the next run of the name removes it.
start bt || true
up
kill -KILL "$CTRUN_PID"
ended bt
expect_rc 137
for _ in $(seq 200); do [ -d "/proc/$PID" ] || break; sleep 0.05; done
check "the guest outlived ctrun" [ ! -d "/proc/$PID" ]
"$CTRUN" stop bt
no_leaks bt
start bt || true
kill -KILL "$CTRUN_PID"
ended bt
ct "$M" -- /sbin/no-such-init  # (creates nothing: the leftovers stay for the next real run)
start bt || true
up
inside systemctl poweroff 2>/dev/null  # (its bus connection ends with the system)
ended bt
expect_rc 0
no_leaks bt
fi

if want example-manifest; then
begin example-manifest
# manifests/debian-boot.yaml as shipped, on the cached tree (ephemeral), in a
# network namespace of the test's own: limits, a veth, the guest online.
if ! $LIMITS; then
  skip "its limits need memory and pids controllers"
else
example=$(cd "$(dirname "$0")/../../manifests" 2>/dev/null || cd "$(dirname "$0")/../manifests" && pwd)/debian-boot.yaml
NS=ctit-boot-$$
ip netns add "$NS"
M=$example
WRAP=(nsenter --net="/run/netns/$NS")
start bt --set rootfs.path="$DEB" --set rootfs.ephemeral=true || true
WRAP=()
up
OUT=$(inside ip -o addr show eth0)
expect_out_match "10\.0\.4\.2/24"
OUT=$(ip netns exec "$NS" "$TEMPLATE/bin/busybox" ping -c 1 -W 5 10.0.4.2 2>&1)
expect_out_match "1 packets received"
inside systemctl poweroff 2>/dev/null  # (its bus connection ends with the system)
ended bt
expect_rc 0
no_leaks bt
check "the veth outlived the container" [ -z "$(ip netns exec "$NS" ip -o link show type veth)" ]
ip netns del "$NS"
M=$WORK/bt.yaml
fi
fi

if want unit-reboot; then
begin unit-reboot
# units/ctrun@.service with a booted guest (the VM): `systemctl start`
# returns once the guest's READY=1 came through; the unit is the machine's;
# a reboot of the guest ends ctrun with 133 and systemd starts the unit
# again (RestartForceExitStatus=133); restart boots it anew; `systemctl
# stop` halts it, a success; enabled, it starts and stops with ctrun.target.
unit=$(cd "$(dirname "$0")/../../units" 2>/dev/null || cd "$(dirname "$0")/../units" && pwd)/ctrun@.service
if [ "$(cat /proc/1/comm)" = systemd ] && [ -f "$unit" ] && [ ! -e /etc/systemd/system/ctrun@.service ] &&
  [ ! -e /etc/systemd/system/ctrun.target ] && [ ! -e /usr/local/bin/ctrun ] && [ ! -e /etc/ctrun/bt.yaml ]; then
  cp "$CTRUN" /usr/local/bin/ctrun
  cp "$unit" /etc/systemd/system/ctrun@.service
  mkdir -p /etc/ctrun
  cat > /etc/ctrun/bt.yaml <<EOF2
version: 1
name: bt
rootfs: {path: $DEB, ephemeral: true}
boot: true
process: {no_new_privileges: false, env: {CTIT_TOKEN: $TOKEN}}
stop: {timeout: 30s}
EOF2
  systemctl daemon-reload
  if timeout 300 systemctl start ctrun@bt; then ok; else bad "systemctl start ctrun@bt: $(systemctl status ctrun@bt 2>&1 | tail -n 5)"; fi
  PID=$(init_pid bt)
  s=$([ -n "$PID" ] && inside systemctl is-system-running 2>&1)
  check "READY=1 came before the guest ran: $s" [ "$s" = running ]
  OUT=$(systemctl is-active ctrun@bt)
  expect_out active
  if command -v machinectl > /dev/null; then
    OUT=$(machinectl show bt -p Unit --value)
    expect_out "ctrun@bt.service"
  fi
  first=$PID
  inside systemctl reboot 2>/dev/null  # (its bus connection ends with the system)
  for _ in $(seq 3000); do
    [ "$(systemctl show ctrun@bt -p NRestarts --value)" = 1 ] && [ "$(systemctl is-active ctrun@bt)" = active ] && break
    sleep 0.1
  done
  OUT=$(systemctl show ctrun@bt -p NRestarts -p ActiveState)
  expect_out "NRestarts=1
ActiveState=active"
  PID=$(init_pid bt)
  check "a new PID 1 after the reboot ($first, then $PID)" [ -n "$PID" -a "$PID" != "$first" ]
  [ -n "$PID" ] && up
  # restart: a stop and a fresh boot, again once READY=1 came
  first=$PID
  timeout 300 systemctl restart ctrun@bt
  PID=$(init_pid bt)
  check "a new PID 1 after systemctl restart ($first, then $PID)" [ -n "$PID" -a "$PID" != "$first" ]
  OUT=$([ -n "$PID" ] && inside systemctl is-system-running 2>&1)
  expect_out running
  cg=$(systemctl show ctrun@bt -p ControlGroup --value)
  systemctl stop ctrun@bt
  OUT=$(systemctl show ctrun@bt -p ActiveState -p Result -p ExecMainStatus | sort)
  expect_out "ActiveState=inactive
ExecMainStatus=0
Result=success"
  check "the unit's cgroup $cg is gone" test ! -d "/sys/fs/cgroup$cg"
  if command -v machinectl > /dev/null; then
    if machine_gone bt; then ok; else bad "machined still lists bt after the unit stopped: $OUT"; fi
  fi
  no_leaks bt
  # ctrun.target: an enabled container starts with it and stops with it (PartOf).
  cp "$(dirname "$unit")/ctrun.target" /etc/systemd/system/ctrun.target
  systemctl daemon-reload
  systemctl enable -q ctrun@bt
  timeout 300 systemctl start ctrun.target
  OUT=$(systemctl is-active ctrun@bt)
  expect_out active
  systemctl stop ctrun.target
  # (ordered Before= the target, the container stops after it: systemctl
  # returns with the target's job, while ctrun@bt is still deactivating)
  for _ in $(seq 600); do [ "$(systemctl is-active ctrun@bt)" = inactive ] && break; sleep 0.1; done
  OUT=$(systemctl show ctrun@bt -p ActiveState -p Result | sort)
  expect_out "ActiveState=inactive
Result=success"
  systemctl disable -q ctrun@bt
  no_leaks bt
  rm -f /etc/systemd/system/ctrun@.service /etc/systemd/system/ctrun.target /usr/local/bin/ctrun /etc/ctrun/bt.yaml
  rmdir /etc/ctrun 2>/dev/null
  systemctl daemon-reload
  systemctl reset-failed ctrun@bt 2>/dev/null
else
  echo "SKIP unit-reboot: needs systemd as PID 1 and no installed ctrun (the VM stage; not counted)"
fi
fi

if want user-namespace; then
begin user-namespace
# Booted in a user namespace (host uids 100000-165535): the guest needs
# cgroup v2 (v1 hierarchies cannot be mounted in a user namespace): on a
# hybrid host with init.cgroup: unified (this machine), natively on a v2
# host (the VM); its payload/ delegated to the namespace's root, which
# builds its tree below. A legacy host, or hybrid left to auto: a 125.
uns_args=(--set namespaces.user=true)
if [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]; then
  ct "$M" --set namespaces.user=true
  expect_rc 125
  expect_err "namespaces.user: boot mode in a user namespace needs cgroup v2 for the guest"
  uns_args+=(--set init.cgroup=unified)
fi
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || [ -d /sys/fs/cgroup/unified ]; then
  start bt "${uns_args[@]}" || true
  up
  OUT=$(inside cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')
  expect_out "0 100000 65536"
  OUT=$(inside cat /proc/1/cgroup | grep '^0::')
  expect_out "0::/init.scope"
  v2=/sys/fs/cgroup
  [ -d /sys/fs/cgroup/unified ] && v2=/sys/fs/cgroup/unified
  payload=$(ls -d $v2/*.slice/ctrun-bt.scope/payload $v2/*.slice/*/ctrun-bt.scope/payload 2>/dev/null | head -1)
  OUT=$(stat -c %u "$payload" "$payload/cgroup.procs" "$payload/cgroup.subtree_control" "$payload/init.scope" 2>&1 | sort -u)
  expect_out "100000"
  OUT=$(stat -c %u "$(dirname "$payload")")
  expect_out "0"  # the limits' cgroup stays root's
  inside systemctl poweroff 2>/dev/null
  ended bt
  expect_rc 0
  no_leaks bt
fi
fi

if want link-journal; then
begin link-journal
# init.link_journal: host binds the host's /var/log/journal/ID into the
# guest, whose journald writes there; guest links the host's path to the
# guest's own directory (a tree of its own: an overlay the test mounts).
# Both stay after the container, as with systemd-nspawn; the test removes
# them. Refused: guest on an ephemeral rootfs, host where it was linked
# with guest.
JID=${UUID//-/}
J=/var/log/journal/$JID
# journal_then_poweroff WHERE: journald has written its files into $J
# (flushed first), then the guest powers off (0).
journal_then_poweroff() {
  inside journalctl --flush 2>/dev/null
  check "the guest's journal is in $1" sh -c "ls $J/ | grep -q 'system.*journal'"
  inside systemctl poweroff 2>/dev/null
  ended bt
  expect_rc 0
}
if [ -d /var/log/journal ] && [ ! -e "$J" ] && [ ! -L "$J" ]; then
  start bt --set init.link_journal=host || true
  up
  OUT=$(inside findmnt -n -o TARGET "$J")
  expect_out "$J"
  journal_then_poweroff "the host's $J"
  check "$J stays after the container (a directory)" test -d "$J"
  no_leaks bt
  # A guest-linked path is not the host's to bind.
  rm -rf "$J"
  ln -s /nowhere "$J"
  ct "$M" --set init.link_journal=host
  expect_rc 125
  expect_err "init.link_journal: $J on the host is a symbolic link \(linked with guest before\)"
  rm -f "$J"
  ct "$M" --set init.link_journal=guest
  expect_rc 125
  expect_err "init.link_journal: guest needs the guest's own tree: the rootfs is ephemeral"
  no_leaks bt
  # guest, on a tree of its own
  mkdir -p "$WORK/jup" "$WORK/jwork" "$WORK/jroot"
  mount -t overlay overlay -o "lowerdir=$DEB,upperdir=$WORK/jup,workdir=$WORK/jwork" "$WORK/jroot"
  start bt --set rootfs.path="$WORK/jroot" --set rootfs.ephemeral=false --set init.link_journal=guest || true
  up
  OUT=$(readlink "$J")
  expect_out "$WORK/jroot$J"
  journal_then_poweroff "its own tree, linked from the host"
  rm -f "$J"
  umount "$WORK/jroot"
  no_leaks bt
else
  echo "SKIP link-journal: no /var/log/journal here, or $J exists already (not ours; not counted)"
fi
fi

if want missing-init; then
begin missing-init
# 127 (126: not executable) before anything is created.
ct "$M" -- /sbin/no-such-init
expect_rc 127
expect_err "ctrun: failed to boot bt: /sbin/no-such-init does not exist in $DEB \(process.args\)"
no_leaks bt
ct "$M" -- /etc/passwd
expect_rc 126
expect_err "/etc/passwd in $DEB is not an executable file"
no_leaks bt
fi

finish
