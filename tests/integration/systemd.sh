# systemd.register auto and keep-unit, and units/ctrun@.service. With
# systemd as PID 1 (the VM stage, on cgroup v2 and again on a hybrid cgroup
# v1 host): auto makes a scope when run from a shell, keeps the unit when
# systemd starts ctrun as a service; the unit file starts and stops a
# container. Elsewhere (this host: no systemd, cgroup v1): auto writes the
# cgroup file system and keep-unit is a 125; what was not tested is
# printed as SKIP, not counted.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs sd)
F=$WORK/flags
mkdir -p "$F"
manifest sd <<EOF2
rootfs: {path: $R}
mounts: [{type: bind, source: $F, target: /w}]
process: {args: [/bin/true]}
EOF2
P=$WORK/sd.yaml
systemd=false v1=false
[ "$(cat /proc/1/comm)" = systemd ] && systemd=true
[ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ] && v1=true
# cg CONTROLLER PATH: the directory of a cgroup in that controller's
# hierarchy (v1), or in the one hierarchy (v2).
cg() { if $v1; then echo "/sys/fs/cgroup/$1$2"; else echo "/sys/fs/cgroup$2"; fi; }
memory_max=memory.max
$v1 && memory_max=memory.limit_in_bytes
wait_file() {
  for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
  return 1
}

begin auto-from-a-shell
rm -f "$F"/*
cpuset_slice=false
[ -d /sys/fs/cgroup/cpuset/machine.slice ] && cpuset_slice=true
lim=(--set resources.memory.max=64M --set resources.cpu.cpuset=0)
$LIMITS || lim=()  # (no controllers here: see lib.sh)
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "${lim[@]}" "$P" \
  -- sh -c 'touch /w/ready; while [ ! -e /w/stop ]; do usleep 20000; done' &
ctr=$!
wait_file "$F/ready" || bad "the container did not start"
if $systemd && $v1; then
  # A transient scope with the limit as a unit property, which systemd
  # writes as memory.limit_in_bytes; the cpuset, which systemd does not
  # manage on v1, written by ctrun on the scope's path in that hierarchy.
  OUT=$(systemctl show ctrun-sd.scope -p ActiveState -p MemoryMax -p ControlGroup | sort)
  expect_out "ActiveState=active
ControlGroup=/machine.slice/ctrun-sd.scope
MemoryMax=67108864"
  OUT=$(cat /sys/fs/cgroup/memory/machine.slice/ctrun-sd.scope/memory.limit_in_bytes \
            /sys/fs/cgroup/cpuset/machine.slice/ctrun-sd.scope/cpuset.cpus 2>&1)
  expect_out "67108864
0"
  # Where systemd made the scope (its delegated controllers) the container
  # is in the scope's payload/ and ctrun in supervisor/; elsewhere (devices,
  # which systemd realizes only for device properties, and cpuset, which it
  # leaves alone on v1) in payload/ of ctrun's copy of the scope's path.
  for h in systemd memory pids cpu,cpuacct; do
    d=/sys/fs/cgroup/$h/machine.slice/ctrun-sd.scope
    check "$h: the container in payload/, ctrun in supervisor/" \
      sh -c "grep -q . $d/payload/cgroup.procs && grep -qx $ctr $d/supervisor/cgroup.procs"
  done
  for h in devices cpuset; do
    check "$h: the container in payload/" grep -q . /sys/fs/cgroup/$h/machine.slice/ctrun-sd.scope/payload/cgroup.procs
  done
elif $systemd && ! $LIMITS; then
  # A transient scope (no controllers to limit anything with), the
  # container in its payload/, ctrun in supervisor/.
  OUT=$(systemctl show ctrun-sd.scope -p ActiveState -p ControlGroup | sort)
  expect_out "ActiveState=active
ControlGroup=/machine.slice/ctrun-sd.scope"
  check "the container in payload/, ctrun in supervisor/" \
    sh -c "grep -q . /sys/fs/cgroup/machine.slice/ctrun-sd.scope/payload/cgroup.procs && grep -qx $ctr /sys/fs/cgroup/machine.slice/ctrun-sd.scope/supervisor/cgroup.procs"
elif $systemd; then
  # A transient scope with the limit as a unit property.
  OUT=$(systemctl show ctrun-sd.scope -p ActiveState -p MemoryMax -p ControlGroup -p AllowedCPUs | sort)
  expect_out "ActiveState=active
AllowedCPUs=0
ControlGroup=/machine.slice/ctrun-sd.scope
MemoryMax=67108864"
  OUT=$(cat /sys/fs/cgroup/machine.slice/ctrun-sd.scope/cpuset.cpus 2>&1)
  expect_out "0"
else
  # The cgroup file system, written by ctrun itself.
  check "auto without systemd: ctrun's own cgroup (devices)" test -d /sys/fs/cgroup/devices/machine.slice/ctrun-sd.scope/payload
  OUT=$(cat /sys/fs/cgroup/cpuset/machine.slice/ctrun-sd.scope/cpuset.cpus 2>&1)
  expect_out "0"
fi
touch "$F/stop"
wait "$ctr"; RC=$?
expect_rc 0
check "nothing of ctrun-sd.scope is left when ctrun returns" sh -c '! ls -d /sys/fs/cgroup/*.slice/ctrun-sd.scope /sys/fs/cgroup/*/*.slice/ctrun-sd.scope 2>/dev/null'
if $systemd && $v1 && ! $cpuset_slice; then
  check "the cpuset hierarchy's machine.slice that ctrun made is gone" test ! -d /sys/fs/cgroup/cpuset/machine.slice
fi
no_leaks sd

begin v1-sigkill-leftovers
# cgroup v1 under systemd: after a SIGKILL of ctrun systemd collects its
# scope, but not ctrun's copy of the scope's path in a hierarchy systemd
# does not manage (cpuset); the next run of any container removes it.
if $systemd && $v1; then
  rm -f "$F"/*
  CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set resources.cpu.cpuset=0 "$P" \
    -- sh -c 'touch /w/ready; sleep 30' &
  ctr=$!
  wait_file "$F/ready" || bad "the container did not start"
  kill -KILL "$ctr"
  wait "$ctr" 2>/dev/null
  wait_collected_scope() { for _ in $(seq 400); do systemctl is-active --quiet ctrun-sd.scope || return 0; sleep 0.05; done; }
  wait_collected_scope
  for _ in $(seq 400); do grep -q . /sys/fs/cgroup/cpuset/machine.slice/ctrun-sd.scope/payload/cgroup.procs 2>/dev/null || break; sleep 0.05; done
  check "ctrun's cpuset copy stays after the SIGKILL (for this test)" test -d /sys/fs/cgroup/cpuset/machine.slice/ctrun-sd.scope
  manifest sd-next <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
EOF2
  ct "$WORK/sd-next.yaml"
  expect_rc 0
  check "another container's run removed it" test ! -d /sys/fs/cgroup/cpuset/machine.slice/ctrun-sd.scope
  "$CTRUN" stop sd  # (its dead state)
  wait_collected sd
  no_leaks sd
  no_leaks sd-next
else
  echo "SKIP v1-sigkill-leftovers: needs systemd on cgroup v1 (the VM's v1 stages; not counted)"
fi

begin keep-unit
if $systemd; then
  # Under systemd-run as the service's only process: keep-unit puts the
  # limits on the service and the container in its payload cgroup.
  rm -f "$F"/*
  systemd-run --quiet --unit=ctit-keep-$$ -p Delegate=yes --setenv=CTIT_TOKEN=$TOKEN \
    "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set systemd.register=keep-unit "${lim[@]:0:2}" "$P" \
    -- sh -c 'touch /w/ready; while [ ! -e /w/stop ]; do usleep 20000; done'
  wait_file "$F/ready" || bad "the container did not start"
  cg=$(systemctl show ctit-keep-$$.service -p ControlGroup --value)
  if $LIMITS; then
    OUT=$(systemctl show ctit-keep-$$.service -p MemoryMax --value; cat "$(cg memory "$cg")/$memory_max"; ls "$(cg memory "$cg")" | grep -E '^(payload|supervisor)$')
    expect_out "67108864
67108864
payload
supervisor"
  else
    OUT=$(ls "$(cg memory "$cg")" | grep -E '^(payload|supervisor)$')
    expect_out "payload
supervisor"
  fi
  check "no scope of its own" test ! -d /sys/fs/cgroup/machine.slice/ctrun-sd.scope
  touch "$F/stop"
  for _ in $(seq 200); do systemctl is-active --quiet ctit-keep-$$.service || break; sleep 0.05; done
  check "the service's cgroup is gone" test ! -d "$(cg memory "$cg")"
  systemctl reset-failed ctit-keep-$$.service 2>/dev/null

  # auto picks keep-unit in the same situation.
  rm -f "$F"/*
  systemd-run --quiet --unit=ctit-auto-$$ -p Delegate=yes --setenv=CTIT_TOKEN=$TOKEN \
    "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$P" -- sh -c 'touch /w/ready; while [ ! -e /w/stop ]; do usleep 20000; done'
  wait_file "$F/ready" || bad "the container did not start"
  cg=$(systemctl show ctit-auto-$$.service -p ControlGroup --value)
  check "auto under a service: the container in the service's payload" test -d "$(cg pids "$cg")/payload"
  check "auto under a service: no scope" test ! -d /sys/fs/cgroup/machine.slice/ctrun-sd.scope
  touch "$F/stop"
  for _ in $(seq 200); do systemctl is-active --quiet ctit-auto-$$.service || break; sleep 0.05; done
  systemctl reset-failed ctit-auto-$$.service 2>/dev/null

  # Type=notify with systemd.notify: container: activating until the
  # container's own READY=1, active after; exec: active once it runs.
  rm -f "$F"/*
  systemd-run --quiet --no-block --unit=ctit-notify-$$ -p Type=notify -p NotifyAccess=main -p Delegate=yes \
    --setenv=CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set systemd.notify=container "$P" \
    -- sh -c 'touch /w/ready; while [ ! -e /w/go ]; do usleep 20000; done; probe notify-send "STATUS=warm\nREADY=1" >/dev/null; \
              while [ ! -e /w/stop ]; do usleep 20000; done'
  wait_file "$F/ready" || bad "the container did not start"
  OUT=$(systemctl is-active ctit-notify-$$.service)
  expect_out "activating"
  touch "$F/go"
  for _ in $(seq 200); do [ "$(systemctl is-active ctit-notify-$$.service)" = active ] && break; sleep 0.05; done
  OUT=$(systemctl is-active ctit-notify-$$.service; systemctl show ctit-notify-$$.service -p StatusText --value)
  expect_out "active
sd: warm"
  touch "$F/stop"
  for _ in $(seq 200); do systemctl is-active --quiet ctit-notify-$$.service || break; sleep 0.05; done
  systemctl reset-failed ctit-notify-$$.service 2>/dev/null
else
  ct "$P" --set systemd.register=keep-unit
  expect_rc 125
  expect_err "systemd.register: keep-unit needs ctrun started by a systemd service as its only process"
  echo "SKIP keep-unit: no systemd as PID 1 here (tested in the VM stage; not counted)"
fi
no_leaks sd

begin unit-file
# units/ctrun@.service as shipped: start, the container in the unit's
# payload, stop (SIGTERM to ctrun, stop.signal to the container), gone.
unit=$(cd "$(dirname "$0")/../../units" 2>/dev/null || cd "$(dirname "$0")/../units" && pwd)/ctrun@.service
if $systemd && [ -f "$unit" ] && [ ! -e /etc/systemd/system/ctrun@.service ] && [ ! -e /usr/local/bin/ctrun ]; then
  cp "$CTRUN" /usr/local/bin/ctrun
  cp "$unit" /etc/systemd/system/ctrun@.service
  mkdir -p /etc/ctrun
  cat > "/etc/ctrun/ctit$$.yaml" <<EOF2
version: 1
name: ctit$$
rootfs: {path: $R}
mounts: [{type: bind, source: $F, target: /w}]
process: {args: [/bin/sh, -c, "touch /w/ready; exec sleep 600"], env: {CTIT_TOKEN: $TOKEN}}
EOF2
  systemctl daemon-reload
  # check MANIFEST against the unit it would run under: a TimeoutStopSec
  # shorter than stop.timeout (10 s) is named; the shipped one is not.
  OUT=$("$CTRUN" check "/etc/ctrun/ctit$$.yaml" 2>/dev/null); RC=$?
  expect_rc 0
  mkdir -p "/run/systemd/system/ctrun@ctit$$.service.d"
  printf '[Service]\nTimeoutStopSec=3s\n' > "/run/systemd/system/ctrun@ctit$$.service.d/timeout.conf"
  systemctl daemon-reload
  OUT=$("$CTRUN" check "/etc/ctrun/ctit$$.yaml" 2>/dev/null); RC=$?
  expect_rc 1
  expect_out "stop.timeout: 10s and ctrun's clean-up do not fit in ctrun@ctit$$.service's TimeoutStopSec=3s: systemd would kill ctrun before the container has stopped"
  rm -f "/run/systemd/system/ctrun@ctit$$.service.d/timeout.conf"
  systemctl daemon-reload
  rm -f "$F"/*
  systemctl start "ctrun@ctit$$"
  wait_file "$F/ready" || bad "the unit's container did not start: $(systemctl status "ctrun@ctit$$" 2>&1 | tail -5)"
  cg=$(systemctl show "ctrun@ctit$$" -p ControlGroup --value)
  OUT=$(systemctl is-active "ctrun@ctit$$")
  expect_out "active"
  # auto under the unit: keep-unit, the container in the unit's payload.
  check "the container in the unit's payload ($cg)" grep -q . "$(cg pids "$cg")/payload/cgroup.procs"
  check "no scope of its own" test ! -d "/sys/fs/cgroup/machine.slice/ctrun-ctit$$.scope"
  systemctl stop "ctrun@ctit$$"
  OUT=$(systemctl is-active "ctrun@ctit$$")
  expect_out "inactive"
  check "the unit's cgroup is gone" test ! -d "$(cg pids "$cg")"
  # ctrun stop on a container that keeps its unit stops the unit, so that
  # its Restart=always does not bring it back, rather than signalling ctrun.
  mkdir -p "/run/systemd/system/ctrun@ctit$$.service.d"
  printf '[Service]\nRestart=always\nRestartSec=200ms\n' > "/run/systemd/system/ctrun@ctit$$.service.d/restart.conf"
  systemctl daemon-reload
  rm -f "$F"/*
  systemctl start "ctrun@ctit$$"
  wait_file "$F/ready" || bad "the unit's container did not start again"
  # ctrun exec lands in the unit's payload, beside the container's command.
  # (its cgroup namespace's root: a cgroup outside it would read "0::/..")
  # (every hierarchy's line ends in ":/"; none at all is a failure too)
  OUT=$("$CTRUN" exec "ctit$$" -- cat /proc/self/cgroup </dev/null | awk -F: '$3 != "/" {print} END {if (!NR) print "nothing"}')
  expect_out ""
  "$CTRUN" stop "ctit$$"
  RC=$?
  expect_rc 0
  sleep 1  # longer than RestartSec: a restart would have happened
  OUT=$(systemctl is-active "ctrun@ctit$$")
  expect_out "inactive"
  rm -rf "/run/systemd/system/ctrun@ctit$$.service.d"
  rm -f /etc/systemd/system/ctrun@.service /usr/local/bin/ctrun "/etc/ctrun/ctit$$.yaml"
  rmdir /etc/ctrun 2>/dev/null
  systemctl daemon-reload
  no_leaks "ctit$$"
else
  echo "SKIP unit-file: needs systemd as PID 1 and no installed ctrun (the VM stage; not counted)"
fi

begin machined
# systemd.machine: yes registers the container with systemd-machined (its
# PID 1 the leader, class container, service ctrun), gone when it ends; a
# name taken or machined masked: yes is a 125, auto runs unregistered;
# without a bus, yes is a 125 naming the key and auto says nothing.
if $systemd && command -v machinectl > /dev/null; then
  rm -f "$F"/*
  CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set systemd.machine=yes "$P" \
    -- sh -c 'touch /w/ready; while [ ! -e /w/stop ]; do usleep 20000; done' 2> "$WORK/machine.err" &
  ctr=$!
  wait_file "$F/ready" || bad "the container did not start"
  OUT=$(machinectl show sd -p Class -p Service -p State -p Unit | sort)
  expect_out "Class=container
Service=ctrun
State=running
Unit=ctrun-sd.scope"
  leader=$(machinectl show sd -p Leader --value)
  init=$(awk '/"init": \{/ {f = 1} f && /"pid"/ {gsub(/[^0-9]/, ""); print; exit}' /run/ctrun/sd/state.json)
  check "the machine's leader ($leader) is not the container's PID 1 ($init)" [ "$leader" = "$init" ]
  OUT=$(machinectl show sd -p Id --value)
  expect_out "$("$CTRUN" exec sd -- cat /run/host/container-uuid | tr -d '-')"
  touch "$F/stop"
  wait "$ctr"
  RC=$?
  expect_rc 0
  if machine_gone sd; then ok; else bad "machined still lists sd after the container ended: $OUT"; fi
  ERR=$(cat "$WORK/machine.err")
  check "warnings: $ERR" [ -z "$ERR" ]
  wait_collected sd
  no_leaks sd
  # A machine of that name that is not ours (a sleep in a scope of the
  # test's, registered by hand): yes is a 125 with machined's words, auto a
  # warning.
  systemd-run -q --scope --unit="ctit-other-$$" sleep 300 &
  other=$!
  for _ in $(seq 400); do [ "$(cat /proc/$other/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
  busctl call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
    RegisterMachine sayssus sd 0 ctit container "$other" / > /dev/null
  ct "$P" --set systemd.machine=yes
  expect_rc 125
  expect_err "^ctrun: failed to register sd with systemd-machined: .*sd.* \(systemd.machine\)$"
  wait_collected sd
  no_leaks sd
  ct "$P" --set systemd.machine=auto
  expect_rc 0
  expect_err "^ctrun: warning: .*register sd with systemd-machined"
  wait_collected sd
  no_leaks sd
  OUT=$(machinectl show sd -p Service --value)
  expect_out ctit
  busctl call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
    UnregisterMachine s sd > /dev/null
  kill "$other"
  wait "$other" 2>/dev/null
  if machine_gone sd; then ok; else bad "the hand-made machine sd stayed: $OUT"; fi
  # machined masked (not there to be activated): yes is a 125 naming the
  # key, auto runs the container unregistered.
  systemctl mask --runtime --now systemd-machined > /dev/null 2>&1
  ct "$P" --set systemd.machine=yes
  expect_rc 125
  expect_err "^ctrun: failed to register sd with systemd-machined.* \(systemd.machine\)$"
  wait_collected sd
  no_leaks sd
  ct "$P" --set systemd.machine=auto
  expect_rc 0
  wait_collected sd
  no_leaks sd
  systemctl unmask --runtime systemd-machined > /dev/null 2>&1
elif $systemd; then
  echo "SKIP machined: no machinectl here (not counted)"
else
  ct "$P" --set systemd.machine=yes
  expect_rc 125
  expect_err "ctrun: failed to connect to the system bus: .* \(systemd.machine\)"
  no_leaks sd
  ct "$P" --set systemd.machine=auto
  expect_rc 0
  check "auto warned without machined: $ERR" [ -z "$ERR" ]
  no_leaks sd
fi

finish
