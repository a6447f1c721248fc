#!/usr/bin/env bash
# The root filesystem kinds and the mounts list, including hostile rootfs trees.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)
mkdir -p "$WORK/data/sub" "$WORK/lower1" "$WORK/lower2" "$WORK/up" "$WORK/wk"
echo data > "$WORK/data/file"
echo one > "$WORK/lower1/a"; echo two > "$WORK/lower2/b"

begin bind-tmpfs-overlay
manifest m <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
mounts:
  - {type: bind, source: ./data, target: /data, readonly: true}
  - {type: bind, source: ./data/file, target: /new/dir/file}
  - {type: bind, source: ./data, target: /rw}
  - {type: tmpfs, target: /scratch, size: 1M, mode: "0700"}
  - {type: overlay, lower: [./lower1, ./lower2], upper: ./up, work: ./wk, target: /opt}
EOF2
ct "$WORK/m.yaml" -- sh -c 'cat /data/file; probe write /data/x; cat /new/dir/file; probe write /rw/y; stat -c "%a" /scratch; grep " /scratch " /proc/mounts | grep -o "size=[0-9]*k"; ls /opt | tr "\n" " "; echo; echo new > /opt/c; dd if=/dev/zero of=/scratch/big bs=1k count=2000 2>&1 | grep -c "No space"'
expect_rc 0
expect_out "data
EROFS
data
ok
700
size=1024k
a b 
1"
check "bind rw wrote through to the host" test -f "$WORK/data/y"
check "overlay upper got the write" test -f "$WORK/up/c"
check "overlay lower untouched" test ! -e "$WORK/lower1/c"
check "bind target created inside the rootfs" test -f "$R/new/dir/file"
no_leaks m

begin missing-bind-source
manifest missing <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
mounts:
  - {type: tmpfs, target: /t1}
  - {type: bind, source: /nonexistent/src, target: /data}
EOF2
ct "$WORK/missing.yaml"
expect_rc 125
expect_err "^ctrun: failed to bind-mount /nonexistent/src on /data: No such file or directory \(mounts\[1\]\)$"
expect_out ""
no_leaks missing

begin failing-mount-mid-setup
# The second mount fails in the kernel (an overlay lower that is gone by
# the time the container starts), after the root and a tmpfs were mounted.
mkdir -p "$WORK/vanishing"
manifest mid <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
mounts:
  - {type: tmpfs, target: /t1}
  - {type: overlay, lower: [$WORK/vanishing, $WORK/lower1], target: /o}
  - {type: tmpfs, target: /t2}
EOF2
rmdir "$WORK/vanishing"
ct "$WORK/mid.yaml"
expect_rc 125
expect_err "^ctrun: failed to mount overlay on /o: .* \(mounts\[1\]\)$"
no_leaks mid

begin symlink-escape
# An absolute symlink in the rootfs pointing at a host directory: the mount
# must land inside the rootfs, and the host directory stay untouched.
mkdir -p "$WORK/hostdir"
E=$(fresh_rootfs escape)
ln -s "$WORK/hostdir" "$E/evil"
ln -s ../../../../../../.. "$E/up"
manifest escape <<EOF2
rootfs: {path: $E}
process: {args: [/bin/true]}
mounts:
  - {type: tmpfs, target: /evil/mnt}
  - {type: bind, source: ./data, target: /up/tmp/escaped}
EOF2
ct "$WORK/escape.yaml" -- sh -c 'ls /evil/mnt /up/tmp/escaped >/dev/null && echo inside'
expect_rc 0
expect_out inside
check "host directory untouched" test -z "$(ls -A "$WORK/hostdir")"
check "target created inside the rootfs" test -d "$E/$WORK/hostdir/mnt"
check "relative escape stayed inside" test -d "$E/tmp/escaped"
check "nothing created at the host's /tmp/escaped" test ! -e /tmp/escaped
no_leaks escape

begin proc-symlink
P=$(fresh_rootfs procsym)
rmdir "$P/proc"; ln -s "$WORK/hostdir" "$P/proc"
manifest procsym <<EOF2
rootfs: {path: $P}
process: {args: [/bin/true]}
EOF2
ct "$WORK/procsym.yaml"
expect_rc 125
expect_err "failed to mount proc on /proc: the rootfs's /proc must be a directory, not a symlink or a file"
check "host directory untouched" test -z "$(ls -A "$WORK/hostdir")"
D=$(fresh_rootfs devsym)
rmdir "$D/dev"; ln -s /dev "$D/dev"
manifest devsym <<EOF2
rootfs: {path: $D}
process: {args: [/bin/true]}
EOF2
ct "$WORK/devsym.yaml"
expect_rc 125
expect_err "failed to mount tmpfs on /dev: the rootfs's /dev must be a directory"
no_leaks devsym

begin fast-child-failure
# A child that fails at once (its /proc is a symlink) while the parent
# brings its loopback up: the child's own reason, every time, never the
# parent's "cannot open the network namespace" that follows from it.
wrong=0
for _ in $(seq 40); do
  ct "$WORK/procsym.yaml"
  if [ "$RC" != 125 ] || ! grep -q "the rootfs's /proc must be a directory" <<<"$ERR"; then
    wrong=$((wrong + 1)); last=$ERR
  fi
done
check "$wrong of 40 runs reported something else, as: ${last:-}" [ "$wrong" -eq 0 ]
no_leaks procsym

begin mount-over-proc-refused
manifest overproc <<EOF2
rootfs: {path: $R}
process: {args: [/bin/true]}
mounts: [{type: tmpfs, target: /proc/sys}]
EOF2
ct "$WORK/overproc.yaml"
expect_rc 125
expect_err "overproc.yaml:5:[0-9]+: mounts\[0\].target: mounts over /proc are refused"
no_leaks overproc

begin readonly-root
manifest ro <<EOF2
rootfs: {path: $R, readonly: true}
process: {args: [/bin/sh, -c, 'probe write /etc/x; probe write /tmp/x; probe write /run/x; probe write /dev/shm/x']}
EOF2
ct "$WORK/ro.yaml"
expect_out "EROFS
EROFS
ok
ok"
no_leaks ro

begin ephemeral
S=$(fresh_rootfs shared)
before=$(cd "$S" && find . -printf '%p %s %T@\n' | sort | md5sum)
manifest eph1 <<EOF2
rootfs: {path: $S, ephemeral: true}
process: {args: [/bin/sh, -c, 'echo x > /etc/new; rm /etc/motd; mkdir /made; sleep 0.3; ls -d /etc/new /made && test ! -e /etc/motd && echo ok']}
EOF2
sed 's/name: eph1/name: eph2/' "$WORK/eph1.yaml" > "$WORK/eph2.yaml"
CTIT_TOKEN=$TOKEN "$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$WORK/eph2.yaml" > "$WORK/eph2.out" 2>&1 &
ct "$WORK/eph1.yaml"
wait $!; rc2=$?
expect_rc 0
expect_out "/etc/new
/made
ok"
check "second container on the same rootfs at once (rc $rc2)" test "$rc2" -eq 0
after=$(cd "$S" && find . -printf '%p %s %T@\n' | sort | md5sum)
check "the ephemeral rootfs directory was not modified" test "$before" == "$after"
no_leaks eph1
no_leaks eph2

begin host-root
manifest hostroot <<EOF2
rootfs: {host: true}
process: {args: [/bin/sh, -c, 'cat /etc/hostname; ls /usr/bin/env >/dev/null && echo usr; readlink /bin; touch /usr/x 2>&1 | grep -c "Read-only"; id -un; echo hi > /tmp/f && cat /tmp/f']}
EOF2
ct "$WORK/hostroot.yaml"
expect_rc 0
expect_out "hostroot
usr
usr/bin
1
root
hi"
no_leaks hostroot

finish
