#!/usr/bin/env bash
# Signals, stopping, the name lock, SIGKILL of ctrun, parallel launches.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)

# bg NAME ARGS...: ctrun in the background, output in $WORK/NAME.out; sets BG.
bg() {
  local out=$1; shift
  CTIT_TOKEN=$TOKEN "$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$@" >"$WORK/$out.out" 2>&1 </dev/null &
  BG=$!
}
# wait_for FILE: until FILE exists (the payload's sign that it runs), 10 s at most.
wait_for() {
  for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
  return 1
}

manifest svc <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
mounts: [{type: bind, source: $WORK, target: /w}]
stop: {timeout: 1s}
EOF2

begin stop-forwards-sigterm
bg stop "$WORK/svc.yaml" -- sh -c 'trap "echo got-term; exit 7" TERM; touch /w/ready1; while :; do sleep 0.1; done'
wait_for "$WORK/ready1"; check "payload started" test -e "$WORK/ready1"
kill -TERM $BG; wait $BG; RC=$?
expect_rc 7
check "the payload saw SIGTERM" grep -q got-term "$WORK/stop.out"
no_leaks svc

begin stop-timeout-kills
bg stopkill "$WORK/svc.yaml" -- sh -c 'touch /w/ready2; exec probe sleep-ignoring 60'
wait_for "$WORK/ready2"
start=$(date +%s%N)
kill -INT $BG; wait $BG; RC=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 137
check "SIGKILL came after stop.timeout (took ${took} ms)" test "$took" -ge 900 -a "$took" -lt 5000
no_leaks svc

begin signals-forwarded
bg fwd "$WORK/svc.yaml" -- sh -c 'trap "echo usr1" USR1; trap "echo hup" HUP; touch /w/ready3; n=0; while [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); [ -e /w/done3 ] && exit 0; done; exit 9'
wait_for "$WORK/ready3"
kill -USR1 $BG; sleep 0.3; kill -HUP $BG; sleep 0.3; touch "$WORK/done3"
wait $BG; RC=$?
expect_rc 0
check "USR1 and HUP reached the payload" test "$(grep -cE '^(usr1|hup)$' "$WORK/fwd.out")" -eq 2
no_leaks svc

begin zombies-reaped
# Orphans re-parented to the stub init are reaped while the payload runs.
ct "$WORK/svc.yaml" -- sh -c 'for i in 1 2 3 4 5; do (sleep 0.01 &); done; sleep 0.5; ps -o stat,comm | grep -c "^Z"'
expect_rc 1
expect_out 0
no_leaks svc

begin same-name-twice
bg first "$WORK/svc.yaml" -- sh -c 'touch /w/ready4; sleep 30'
wait_for "$WORK/ready4"
ct "$WORK/svc.yaml" -- /bin/true
expect_rc 125
expect_err "^ctrun: failed to start svc: a container of that name is already running \(name\)$"
kill -TERM $BG; wait $BG
no_leaks svc

begin sigkill-of-ctrun
bg killed "$WORK/svc.yaml" -- sh -c 'touch /w/ready5; sleep 60'
wait_for "$WORK/ready5"
kill -KILL $BG; wait $BG 2>/dev/null
# The container dies with ctrun (PR_SET_PDEATHSIG, then the pid namespace).
for _ in $(seq 400); do
  [ "$(grep -l "CTIT_TOKEN=$TOKEN" /proc/[0-9]*/environ 2>/dev/null | wc -l)" -eq 0 ] && break
  sleep 0.05
done
n=$(grep -l "CTIT_TOKEN=$TOKEN" /proc/[0-9]*/environ 2>/dev/null | wc -l)
check "no container process survives ctrun's SIGKILL ($n left)" test "$n" -eq 0
check "mounts went with the mount namespace" test "$(grep -cF "$WORK" /proc/self/mountinfo)" -eq 0
# The stale, unlocked lock file is collected by the next launch of any name.
manifest other <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
EOF2
ct "$WORK/other.yaml"
expect_rc 0
wait_collected svc
# Its state (if ctrun had written it before the SIGKILL) stays for
# `ctrun list --all` until ctrun stop removes it (ops.sh tests the listing).
"$CTRUN" stop svc
no_leaks svc
no_leaks other

begin parallel-20
pids=()
for i in $(seq 20); do
  sed "s/^name: other/name: par$i/" "$WORK/other.yaml" > "$WORK/par$i.yaml"
  bg "par$i" "$WORK/par$i.yaml" -- sh -c "hostname; echo \$\$"
  pids+=($!)
done
bad_runs=0
for i in $(seq 20); do
  rc=0
  wait "${pids[$((i - 1))]}" || rc=$?
  if [ "$rc" -ne 0 ] || [ "$(cat "$WORK/par$i.out")" != "par$i
2" ]; then
    bad_runs=$((bad_runs + 1))
    echo "par$i: exit $rc: $(head -c 300 "$WORK/par$i.out")"
  fi
done
check "20 parallel containers ran as themselves ($bad_runs bad)" test "$bad_runs" -eq 0
for i in $(seq 20); do no_leaks "par$i"; done

begin stdio-byte-exact
# Without a terminal stdio passes straight through: 100 MB of random bytes
# through cat arrive unchanged.
head -c 100000000 /dev/urandom > "$WORK/blob"
want=$(md5sum < "$WORK/blob")
got=$(CTIT_TOKEN=$TOKEN "$CTRUN" "$WORK/other.yaml" -- cat < "$WORK/blob" | md5sum)
check "100 MB through cat unchanged" test "$want" == "$got"
rm -f "$WORK/blob"
no_leaks other

finish
