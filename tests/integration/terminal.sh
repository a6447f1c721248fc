#!/usr/bin/env bash
# process.terminal: a pty session driven by script(1), EOF through a pty,
# the caller's terminal mode restored.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)
command -v script >/dev/null || { bad "script(1) is missing (bsdutils)"; finish; exit; }
manifest tty <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
EOF2
export CTRUN TOKEN WORK

begin pty-session
# script(1) runs its command with $SHELL, which may be dash: POSIX sh only.
# script gives ctrun a terminal of 33x101; the container gets a pty of its
# own devpts instance with that size, as its controlling terminal. (script
# gets an input that stays open: at EOF of its own input it writes a byte.)
script -qec 'stty rows 33 cols 101; before=$(stty -g); CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$WORK/tty.yaml" -- sh -c "tty; stty size; test -t 0 && test -t 1 && echo tty-ok; stat -c %t /dev/console; ls /dev/pts | tr \"\\n\" \" \"; echo; exit 5"; rc=$?; [ "$(stty -g)" = "$before" ] && echo mode-restored; echo rc=$rc' /dev/null > "$WORK/script.out" 2>&1 < <(sleep 5)
OUT=$(tr -d '\r' < "$WORK/script.out")
expect_out "/dev/pts/0
33 101
tty-ok
88
0 ptmx 
mode-restored
rc=5"
no_leaks tty

begin pty-eof
# terminal: true with a pipe as stdin: input arrives, its end is the pty's
# EOF, and cat ends.
OUT=$(printf 'hello\n' | timeout 20 env CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set process.terminal=true "$WORK/tty.yaml" -- cat 2>&1); RC=$?
expect_rc 0
OUT=$(tr -d '\r' <<<"$OUT")
expect_out "hello
hello"
no_leaks tty

begin pty-eof-after-partial-line
# Input that does not end with a newline: the first ^D hands the line over,
# a second one is the EOF (cat would wait for more input otherwise).
OUT=$(printf 'hello' | timeout 20 env CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set process.terminal=true "$WORK/tty.yaml" -- cat 2>&1); RC=$?
ERR=$OUT
expect_rc 0
OUT=$(tr -d '\r' <<<"$OUT")
expect_out "hellohello"
no_leaks tty

begin pty-resize
# A resize of ctrun's terminal while the container runs reaches the payload
# as SIGWINCH with the new size (ctrun gets SIGWINCH and resizes the pty).
script -qec 'stty rows 24 cols 80; CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$WORK/tty.yaml" -- sh -c "trap \"stty size; exit 0\" WINCH; stty size; touch /dev/shm/x; i=0; while [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done; exit 9" </dev/tty & sleep 1; stty rows 20 cols 50; wait $!; echo rc=$?' /dev/null > "$WORK/resize.out" 2>&1 < <(sleep 8)
OUT=$(tr -d '\r' < "$WORK/resize.out")
expect_out "24 80
20 50
rc=0"
no_leaks tty

begin no-terminal-without-tty
ct "$WORK/tty.yaml" -- sh -c 'test -t 0 || echo no-tty; test -e /dev/console || echo no-console'
expect_rc 0
expect_out "no-tty
no-console"
no_leaks tty

finish
