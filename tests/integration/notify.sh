# systemd.notify: what ctrun tells its service manager ($NOTIFY_SOCKET,
# played here by the probe listening on a socket of the test's own) in each
# mode, and what a container can and cannot make it say through
# /run/host/notify. (Type=notify under a real systemd: systemd.sh, VM.)
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs notify)
PROBE=$R/bin/probe
mkdir -p "$WORK/w"
manifest nt <<EOF2
rootfs: {path: $R}
mounts: [{type: bind, source: $WORK/w, target: /w}]
process: {args: [/bin/true]}
EOF2
P=$WORK/nt.yaml
SOCK=$WORK/manager.sock

# listen N SECS: the probe receives N datagrams on $SOCK (SECS at most for
# each) into $WORK/got, one per line, newlines as '|'. Returns once bound.
listen() {
  rm -f "$WORK/got"
  "$PROBE" notify-recv "$SOCK" "$1" "$2" > "$WORK/got" &
  LISTENER=$!
  for _ in $(seq 400); do grep -q listening "$WORK/got" 2>/dev/null && return 0; sleep 0.02; done
}
# got: waits for the listener (in this shell: it is this shell's child), OUT = what it received.
got() { wait "$LISTENER"; OUT=$(grep -v '^listening$' "$WORK/got"); }
run() { OUT=$(NOTIFY_SOCKET=$SOCK CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$@" 2>"$WORK/stderr"); RC=$?; }

begin exec
# auto is exec in app mode: READY=1 once the command has been executed.
listen 2 5
run "$P" -- sh -c 'echo hi'
expect_rc 0
got
expect_out "STATUS=Starting container nt.
READY=1|STATUS=Container nt running."
no_leaks nt

begin exec-fails
# A command that cannot be executed: never READY=1. (Each message may take
# seconds to come in the VM's emulation: 4 s before "timeout".)
listen 2 4
run "$P" -- /no/such/command
expect_rc 127
got
expect_out "STATUS=Starting container nt.
timeout"
no_leaks nt

begin none
listen 1 3
run "$P" --set systemd.notify=none -- true
expect_rc 0
got
expect_out "timeout"
no_leaks nt

begin container
# The container's READY=1 is what counts; its STATUS is passed on with its
# name; MAINPID and oversized messages go nowhere; fds sent along are
# closed; /run/host is read-only.
listen 5 5
big=$(head -c 5000 /dev/zero | tr '\0' x)
run "$P" --set systemd.notify=container -- sh -c "echo \$NOTIFY_SOCKET; probe write /run/host/x; \
  probe notify-send 'STATUS=warming' >/dev/null; probe notify-send 'MAINPID=1' >/dev/null; \
  probe notify-send 'STATUS=$big' >/dev/null; probe notify-send 'STATUS=with an fd' fd >/dev/null </dev/null; \
  probe notify-send 'READY=1\\nSTATUS=up' >/dev/null"
expect_rc 0
expect_out "/run/host/notify
EROFS"
got
expect_out "STATUS=Starting container nt.
STATUS=Container nt started, waiting for its READY=1.
STATUS=nt: warming
STATUS=nt: with an fd
READY=1|STATUS=nt: up"
no_leaks nt

begin container-ready-alone
# READY=1 without a status of the container's: ctrun adds its own.
listen 3 5
run "$P" --set systemd.notify=container -- probe notify-send READY=1
expect_rc 0
got
expect_out "STATUS=Starting container nt.
STATUS=Container nt started, waiting for its READY=1.
READY=1|STATUS=Container nt ready."
no_leaks nt

begin container-foreign-sender
# A process outside the container that reaches its socket (through
# /proc/PID/root) is not listened to.
listen 4 5
rm -f "$WORK/w/"*
NOTIFY_SOCKET=$SOCK CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set systemd.notify=container "$P" \
  -- sh -c 'touch /w/ready; while [ ! -e /w/go ]; do usleep 20000; done; probe notify-send "STATUS=from inside\nREADY=1" >/dev/null' \
  >/dev/null 2>&1 &
ctr=$!
for _ in $(seq 200); do [ -e "$WORK/w/ready" ] && break; sleep 0.05; done
# A process of the container (ctrun itself carries the token too, outside).
inside=
for p in $(grep -l "CTIT_TOKEN=$TOKEN" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
  [ -S "/proc/$p/root/run/host/notify" ] && inside=$p && break
done
# (alive while ctrun reads: an exited sender cannot be placed, and is heard)
NOTIFY_SOCKET=/proc/$inside/root/run/host/notify "$PROBE" notify-send 'STATUS=from the host\nREADY=1' hold > "$WORK/sent" &
sender=$!
for _ in $(seq 400); do grep -q ok "$WORK/sent" && break; sleep 0.02; done
OUT=$(cat "$WORK/sent")
expect_out "ok"
sleep 0.2  # ctrun has read (and refused) it while the sender lives
touch "$WORK/w/go"
wait "$ctr"
wait "$sender"
got
expect_out "STATUS=Starting container nt.
STATUS=Container nt started, waiting for its READY=1.
STATUS=nt: from inside|READY=1
timeout"
no_leaks nt

begin stop-and-watchdog
# WATCHDOG_USEC: WATCHDOG=1 every half of it; SIGTERM: STOPPING=1.
listen 20 5
rm -f "$WORK/w/"*
WATCHDOG_USEC=100000 NOTIFY_SOCKET=$SOCK CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$P" \
  -- sh -c 'touch /w/ready; sleep 30' >/dev/null 2>&1 &
ctr=$!
for _ in $(seq 200); do [ -e "$WORK/w/ready" ] && break; sleep 0.05; done
sleep 0.3
kill -TERM "$ctr"
wait "$ctr"
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
n=$(grep -c '^WATCHDOG=1$' "$WORK/got")
check "WATCHDOG=1 about every 50 ms ($n in the first 0.3 s or more)" test "$n" -ge 3
check "STOPPING=1 on SIGTERM" grep -qx 'STOPPING=1|STATUS=Stopping container nt.' "$WORK/got"
# WATCHDOG_PID naming another process: not ctrun's watchdog.
listen 3 4
WATCHDOG_USEC=100000 WATCHDOG_PID=1 NOTIFY_SOCKET=$SOCK CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$P" \
  -- sleep 0.3 >/dev/null 2>&1
got
expect_out "STATUS=Starting container nt.
READY=1|STATUS=Container nt running.
timeout"
no_leaks nt

finish
