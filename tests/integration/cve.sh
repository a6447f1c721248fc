#!/usr/bin/env bash
# One regression test per launcher CVE of research/security.md that the other
# scripts do not already cover (symlinked mount targets and /proc, /dev as a
# symlink: mounts.sh; leaked fds: process.sh; TIOCSTI: privilege.sh).
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)
manifest cve <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
EOF2
P=$WORK/cve.yaml

begin cve-2019-5736-proc-exe
# The stub init runs ctrun's binary: the payload (root, CAP_DAC_OVERRIDE)
# can neither open it for writing nor read it nor follow the link.
sum=$(sha256sum "$CTRUN")
ct "$P" -- sh -c 'probe write /proc/1/exe; cat /proc/1/exe > /dev/null 2>&1 || echo unreadable; readlink /proc/1/exe > /dev/null 2>&1 || echo hidden; :'
expect_rc 0
expect_out "EACCES
unreadable
hidden"
# Sharing the host's pid namespace, the payload sees ctrun itself: closed too.
ct "$P" --set namespaces.pid=false -- sh -c 'c=$(awk "/^PPid/ {print \$2}" /proc/$PPID/status); probe write /proc/$c/exe; cat /proc/$c/exe > /dev/null 2>&1 || echo unreadable; probe write /proc/$c/mem; :'
expect_rc 0
expect_out "EACCES
unreadable
EACCES"
check "ctrun's binary changed" test "$(sha256sum "$CTRUN")" = "$sum"
no_leaks cve

begin cve-2024-21626-cwd
# A working directory through a leaked fd is refused before anything runs.
OUT=$(exec 7</; "$CTRUN" --set process.cwd=/proc/self/fd/7 "$P" 2>&1); RC=$?
expect_rc 125
expect_out_match "process.cwd: a working directory under /proc is refused"
no_leaks cve

begin cve-2025-31133-dev-null
# The image's /dev/null is a symlink into procfs: ctrun's /dev is a fresh
# tmpfs with its own null, so masks and writes never reach the target.
D=$(fresh_rootfs devnull)
mkdir -p "$D/dev"
ln -s /proc/sys/kernel/core_pattern "$D/dev/null"
manifest devnull <<EOF2
rootfs: {path: $D}
process: {args: [/bin/true]}
EOF2
before=$(cat /proc/sys/kernel/core_pattern)
ct "$WORK/devnull.yaml" -- sh -c 'stat -c "%F %t:%T" /dev/null; echo "|/tmp/x" > /dev/null; head -c 1 /proc/kcore 2>/dev/null | wc -c; probe write /proc/sys/kernel/core_pattern; :'
expect_rc 0
expect_out "character special file 1:3
0
EROFS"
check "the host's core_pattern changed" test "$(cat /proc/sys/kernel/core_pattern)" = "$before"
check "the image's /dev/null was touched" test "$(readlink "$D/dev/null")" = /proc/sys/kernel/core_pattern
no_leaks devnull

begin cve-2022-29162-inheritable
# Inheritable and ambient stay empty for root, whatever is added, so a file
# with inheritable file capabilities gains nothing at execve.
ct "$P" --set 'capabilities.add=[CAP_NET_ADMIN, CAP_SYS_PTRACE]' -- probe caps
expect_rc 0
expect_out_match "^0000000000000000 [0-9a-f]+ [0-9a-f]+ [0-9a-f]+ 0000000000000000$"
no_leaks cve

finish
