# ctrun exec: a command in a running container, set up as its payload was,
# checked from inside (namespaces, cgroup, capabilities, filters, user,
# environment, terminal) and from outside (sealed binary, signals, the
# command dying with ctrun exec, refusals, nothing left behind).
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs exec)
mkdir -p "$WORK/w"
# A profile file of its own (refusing unshare), to be edited under it later.
profile() {
  printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["%s"], "action": "SCMP_ACT_ERRNO"}]}\n' "$1" \
    > "$WORK/profile.json"
}
profile unshare
limits="resources: {pids: {max: 64}}"
$LIMITS || limits=  # (no controllers here: see lib.sh)
manifest ex <<EOF2
hostname: exhost
rootfs: {path: $R}
mounts: [{type: bind, source: $WORK/w, target: /w}]
$limits
seccomp: {profile: $WORK/profile.json}
process: {args: [/bin/true], env: {FOO: from-manifest}}
EOF2
# start: the container in the background until its state is written.
start() {
  rm -f "$WORK/w/up"
  CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$WORK/ex.yaml" "$@" \
    -- sh -c 'touch /w/up; exec sleep 3600' >"$WORK/ex.out" 2>&1 </dev/null &
  CT=$!
  for _ in $(seq 200); do [ -e "$WORK/w/up" ] && [ -e /run/ctrun/ex/state.json ] && return 0; sleep 0.05; done
  bad "ex did not start"
}
# x ARGS...: ctrun exec with stdin from /dev/null; OUT, ERR, RC.
x() {
  OUT=$("$CTRUN" exec "$@" 2>"$WORK/stderr" </dev/null); RC=$?
  ERR=$(cat "$WORK/stderr")
}
stop_ex() {
  "$CTRUN" stop ex >/dev/null 2>&1
  wait "$CT" 2>/dev/null
}

begin as-the-payload
start
payload=$(grep -A1 '"main"' /run/ctrun/ex/state.json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
x ex -- sh -c 'hostname; echo $FOO; echo $$; cat /proc/2/cmdline | tr "\0" " "; echo; tr -d "\0" < /proc/1/cmdline; echo'
expect_rc 0
# (PID 1, the stub init, shows no host path or argument of ctrun's)
expect_out_match "^exhost
from-manifest
[0-9]+
sleep 3600 ?
ctrun-init$"
# Its capabilities, no_new_privs and filters: the payload's, read from outside.
x ex -- probe status CapEff
expect_out "$(grep CapEff "/proc/$payload/status" | cut -f2)"
x ex -- sh -c 'probe status CapBnd; probe status CapPrm; probe status NoNewPrivs; probe status Seccomp'
expect_out "$(grep -E '^(CapBnd|CapPrm|NoNewPrivs|Seccomp):' "/proc/$payload/status" | cut -f2)"
# Refused by the profile as in the payload (EPERM for unshare).
x ex -- probe syscall unshare 0x10000000
expect_out "EPERM"
# The same namespaces (except pid's view) and cgroups as the payload.
# (Long enough to outlast the checks on a loaded TCG VM: it is killed below.)
"$CTRUN" exec ex -- sleep 600 </dev/null >/dev/null 2>&1 &
ex_pid=$!
for _ in $(seq 500); do
  inner=$(cat "/proc/$ex_pid/task/$ex_pid/children" 2>/dev/null | tr -d ' ')
  [ -n "$inner" ] && break
  sleep 0.02
done
same=yes
for ns in mnt uts ipc net pid cgroup user time; do
  [ "$(readlink "/proc/$inner/ns/$ns")" = "$(readlink "/proc/$payload/ns/$ns")" ] || same="no ($ns)"
done
check "exec'd command in the payload's namespaces: $same" test "$same" = yes
check "exec'd command in the payload's cgroups" test "$(cat "/proc/$inner/cgroup")" = "$(cat "/proc/$payload/cgroup")"
check "exec'd command with the payload's rlimits" test "$(cat "/proc/$inner/limits")" = "$(cat "/proc/$payload/limits")"
check "ctrun exec runs from a sealed memfd" sh -c "readlink /proc/$ex_pid/exe | grep -q '^/memfd:ctrun'"
kill "$ex_pid"
wait "$ex_pid"; RC=$?
expect_rc 143  # TERM forwarded: the command's own status

begin status-and-errors
x ex -- true
expect_rc 0
x ex -- sh -c 'exit 3'
expect_rc 3
x ex -- sh -c 'kill -9 $$'
expect_rc 137
x ex -- /no/such/command
expect_rc 127
expect_err "failed to execute /no/such/command: No such file or directory"
x ex -- /etc/passwd
expect_rc 126
x ex -u nosuchuser -- true
expect_rc 125
expect_err "nosuchuser"
x nosuchcontainer -- true
expect_rc 125
expect_err "nosuchcontainer is not running"
x ex
expect_rc 2
x -t -T ex -- true
expect_rc 2
x -e NOEQUALS ex -- true
expect_rc 2
x -w relative ex -- true
expect_rc 2
x --cgroup ../escape ex -- true
expect_rc 2

begin user-dir-env
x -u app -w /tmp -e FOO=over -e NEW=1 ex -- sh -c 'id; pwd; echo $FOO $NEW $HOME; probe status CapEff'
expect_rc 0
expect_out "uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)
/tmp
over 1 /home/app
0000000000000000"
x -u 1000:3000 ex -- id
expect_out "uid=1000(app) gid=3000(other) groups=2000(extra),3000(other)"
x -e PATH=/nowhere ex -- true
expect_rc 127  # the search uses the PATH given

begin terminal
# -t: a pty of the container's devpts, TERM from the caller; -T or a
# non-terminal stdin: the caller's stdio.
OUT=$(TERM=vt220 "$CTRUN" exec -t ex -- sh -c 'tty; echo $TERM' </dev/null 2>&1 | tr -d '\r')
expect_out_match "^/dev/pts/[0-9]+
vt220$"
x ex -- tty
expect_out "not a tty"
# Under script(1) stdin is a terminal: a pty without asking.
OUT=$(script -qec "$CTRUN exec ex -- tty" /dev/null </dev/null 2>&1 | grep -o '/dev/pts/[0-9]*')
expect_out_match "^/dev/pts/[0-9]+$"
OUT=$(echo piped | "$CTRUN" exec -T ex -- sh -c 'cat; tty' 2>&1)
expect_out "piped
not a tty"

begin signals
# TERM reaches the command, which decides; a SIGKILLed ctrun exec takes its
# command along (it is not left running in the container).
rm -f "$WORK/w/trap"
"$CTRUN" exec ex -- sh -c 'trap "echo got TERM > /w/trap; exit 5" TERM; touch /w/trap-ready; while :; do usleep 10000; done' \
  </dev/null >/dev/null 2>&1 &
p=$!
for _ in $(seq 200); do [ -e "$WORK/w/trap-ready" ] && break; sleep 0.02; done
kill -TERM "$p"
wait "$p"; RC=$?
expect_rc 5
OUT=$(cat "$WORK/w/trap" 2>/dev/null)
expect_out "got TERM"
"$CTRUN" exec ex -- sh -c 'touch /w/orphan-ready; exec sleep 77' </dev/null >/dev/null 2>&1 &
p=$!
for _ in $(seq 200); do [ -e "$WORK/w/orphan-ready" ] && break; sleep 0.02; done
kill -9 "$p"
wait "$p" 2>/dev/null
left=yes
for _ in $(seq 400); do
  x ex -- ps
  grep -q 'sleep 77' <<<"$OUT" || { left=no; break; }
  sleep 0.02
done
check "the command of a SIGKILLed ctrun exec is gone" test "$left" = no

begin stdio
# 100 MB through ctrun exec byte for byte, stderr apart.
head -c 100000000 /dev/urandom > "$WORK/w/big"
"$CTRUN" exec ex -- sh -c 'cat /w/big; echo to-stderr >&2' </dev/null >"$WORK/big.out" 2>"$WORK/big.err"
RC=$?
expect_rc 0
check "100 MB byte-exact" cmp -s "$WORK/w/big" "$WORK/big.out"
OUT=$(cat "$WORK/big.err")
expect_out "to-stderr"
rm -f "$WORK/w/big" "$WORK/big.out"

begin parallel
# Twenty at once, each its own process in the container (pids.max leaves
# room for all of them at once with their helpers, on a loaded VM too).
for i in $(seq 20); do
  "$CTRUN" exec ex -- sh -c "echo \$\$ > /w/par.$i" </dev/null >/dev/null 2>&1 &
done
wait_all=0
for j in $(jobs -p); do [ "$j" = "$CT" ] && continue; wait "$j" || wait_all=1; done
check "twenty parallel execs succeeded" test "$wait_all" = 0
OUT=$(cat "$WORK"/w/par.* | sort -u | wc -l)
expect_out "20"

begin pids-limit
# The container's pids.max (64) counts what exec starts: beyond it, 125.
if ! $LIMITS; then
  skip "no pids controller here"
else
rm -f "$WORK/w/release"
"$CTRUN" exec ex -- probe forks 80 /w/release </dev/null >"$WORK/forks" 2>&1 &
hog=$!
for _ in $(seq 200); do grep -q ok "$WORK/forks" && break; sleep 0.02; done
x ex -- true
expect_rc 125
expect_err "process limit"
touch "$WORK/w/release"
wait "$hog"
x ex -- true
expect_rc 0
fi

begin cgroup-sub
# --cgroup SUB: a cgroup the operator made below the container's (in every
# hierarchy); the container's end removes it too.
subs=0
for d in $(grep -o '"payload": "[^"]*"' /run/ctrun/ex/state.json | cut -d'"' -f4); do
  mkdir "$d/sub" && subs=$((subs + 1))
done
check "sub-cgroups made ($subs)" test "$subs" -gt 0
x --cgroup sub ex -- cat /proc/self/cgroup
expect_rc 0
check "the command ran in sub in each of the $subs hierarchies: $(tr '\n' ' ' <<<"$OUT")" \
  test "$(grep -c ':/sub$' <<<"$OUT")" -eq "$subs"
x --cgroup nosuch ex -- true
expect_rc 125
expect_err "cannot join the cgroup"

begin frozen
if "$CTRUN" freeze ex 2>/dev/null; then
  x ex -- true
  expect_rc 125
  expect_err "frozen"
  "$CTRUN" thaw ex
  x ex -- true
  expect_rc 0
else
  echo "SKIP frozen: no cgroup2 freezer for the container here"
fi

begin profile-changed
# The profile file edited since the start: exec refuses rather than run the
# command under other filters than the container's.
profile setns
x ex -- true
expect_rc 125
expect_err "seccomp profile .* has changed"
# A profile file of its own (refusing unshare), to be edited under it later.
profile() {
  printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["%s"], "action": "SCMP_ACT_ERRNO"}]}\n' "$1" \
    > "$WORK/profile.json"
}
profile unshare
x ex -- true
expect_rc 0

begin cve-2019-5736
# A binary of the container that names /proc/self/exe as its interpreter
# runs ctrun itself inside, where a root process of the container tries to
# write it (at once, and again through an O_PATH fd once it is gone). The
# host's ctrun must come out unchanged: the process runs a sealed copy.
# (ctrun is dynamically linked: the container gets its libraries, as a
# Debian rootfs would have them, so that the kernel can run it there.)
before=$(sha256sum < "$CTRUN")
for lib in $(ldd "$CTRUN" | grep -o '/[^ ]*'); do cp -L --parents "$lib" "$R"; done
printf '#!/proc/self/exe\n' > "$R/evil"
chmod 0755 "$R/evil"
rm -f "$WORK/w/stop-attack" "$WORK/w/stop-attack.seen" "$WORK/w/attack"
"$CTRUN" exec ex -- sh -c 'probe exe-attack /w/stop-attack > /w/attack' </dev/null >/dev/null 2>&1 &
for _ in $(seq 400); do [ -e "$WORK/w/attack" ] && break; sleep 0.02; done
attacker=$!
for i in $(seq 200); do
  x ex -- /evil
  [ "$i" -ge 10 ] && [ -e "$WORK/w/stop-attack.seen" ] && break
done
expect_rc 125  # it ran: ctrun, inside, refusing /evil as a manifest
touch "$WORK/w/stop-attack"
wait "$attacker"
OUT=$(cat "$WORK/w/attack")
expect_out_match "^seen [0-9]+ written 0$"
check "the attacker saw ctrun processes ($OUT)" sh -c "! grep -q '^seen 0 ' '$WORK/w/attack'"
check "the host's ctrun is unchanged" test "$(sha256sum < "$CTRUN")" = "$before"
stop_ex
no_leaks ex

begin user-namespace
# In a container with its own user namespace, exec joins it too: the same
# maps, the container's root with the payload's capabilities there.
U=$(fresh_rootfs exec-userns)
manifest exu <<EOF2
rootfs: {path: $U}
namespaces: {user: true}
process: {args: [sleep, "3600"]}
EOF2
CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$WORK/exu.yaml" >/dev/null 2>&1 </dev/null &
CTU=$!
for _ in $(seq 200); do [ -e /run/ctrun/exu/state.json ] && break; sleep 0.05; done
upayload=$(grep -A1 '"main"' /run/ctrun/exu/state.json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
x exu -- sh -c 'cat /proc/self/uid_map | tr -s " " | sed "s/^ //"; id -u; probe status CapEff; touch /made-inside && echo wrote'
expect_rc 0
expect_out "0 100000 65536
0
$(grep CapEff "/proc/$upayload/status" | cut -f2)
wrote"
x -u app exu -- id -u
expect_out "1000"
"$CTRUN" stop exu >/dev/null
wait "$CTU"
no_leaks exu

begin not-running
x ex -- true
expect_rc 125
expect_err "ex is not running"

begin memfd-noexec
# vm.memfd_noexec=2 (per pid namespace, since 6.3) refuses executable
# memfds: exec falls back to a read-only bind of ctrun, opened and detached.
if [ -e /proc/sys/vm/memfd_noexec ]; then
  OUT=$(CTIT_TOKEN=$TOKEN unshare --pid --fork --mount-proc bash -c '
    echo 2 > /proc/sys/vm/memfd_noexec || exit 3
    "$1" --set process.env.CTIT_TOKEN=$CTIT_TOKEN "$2" -- sh -c "touch /w/up; exec sleep 60" >/dev/null 2>&1 </dev/null &
    for _ in $(seq 200); do [ -e "$3/up" ] && [ -e /run/ctrun/ex/state.json ] && break; sleep 0.05; done
    "$1" exec ex -- sh -c "sleep 0.5; echo inside" </dev/null &
    e=$!
    sleep 0.25
    readlink /proc/$e/exe
    wait $e
    "$1" stop ex >/dev/null' _ "$CTRUN" "$WORK/ex.yaml" "$WORK/w" 2>&1)
  rm -f "$WORK/w/up"
  # (the detached read-only bind: its path is its own root)
  expect_out "/
inside"
  x ex -- true
  expect_rc 125
else
  echo "SKIP memfd-noexec: this kernel has no vm.memfd_noexec"
fi
no_leaks ex

finish
