#!/usr/bin/env bash
# namespaces.user: the maps as configured, the container's root owning its
# rootfs (idmapped, or a tree chowned to it), host files out of its reach,
# capabilities and seccomp inside, clear errors.
source "$(dirname "$0")/lib.sh"
# The container's root (host uid 100000) must reach bind sources below WORK.
chmod 0711 "$WORK"
R=$(fresh_rootfs main)
manifest uns <<EOF2
rootfs: {path: $R}
namespaces: {user: true}
process: {args: [/bin/true]}
EOF2
P=$WORK/uns.yaml

begin maps-and-privileges
ct "$P" -- sh -c 'cat /proc/self/uid_map /proc/self/gid_map | tr -s " " | sed "s/^ //"; id -u; probe caps; probe status Seccomp; probe syscall keyctl 0 -1'
expect_rc 0
expect_out "0 100000 65536
0 100000 65536
0
0000000000000000 00000000a80425fb 00000000a80425fb 00000000a80425fb 0000000000000000
2
EPERM"
ct "$P" --set 'user_namespace.uid_map=[{inside: 0, outside: 200000, count: 1000}]' \
        --set 'user_namespace.gid_map=[{inside: 0, outside: 300000, count: 10}]' -- sh -c 'cat /proc/self/uid_map /proc/self/gid_map | tr -s " " | sed "s/^ //"'
expect_rc 0
expect_out "0 200000 1000
0 300000 10"
no_leaks uns

begin loopback
# The container's network namespace belongs to its user namespace; ctrun
# brings its lo up from the host's side (IFF_UP | IFF_LOOPBACK).
ct "$P" -- cat /sys/class/net/lo/flags
expect_rc 0
expect_out "0x9"
no_leaks uns

begin idmapped-rootfs
# A tree owned by host root: idmapped, the container's root owns it, and
# what it creates keeps the tree's on-disk owner (0).
ct "$P" -- sh -c 'stat -c "%u:%g" / /etc/passwd; echo hi > /created && stat -c "%u:%g" /created'
expect_rc 0
expect_out "0:0
0:0
0:0"
check "a file created in the idmapped root is not owned by 0 on disk" test "$(stat -c %u:%g "$R/created")" = 0:0
no_leaks uns

begin chowned-rootfs
# A tree chowned to the container's root is used as it is.
C=$(fresh_rootfs chowned)
chown -R 100000:100000 "$C"
manifest unsc <<EOF2
rootfs: {path: $C}
namespaces: {user: true}
process: {args: [/bin/true]}
EOF2
ct "$WORK/unsc.yaml" -- sh -c 'stat -c "%u:%g" /; echo hi > /created'
expect_rc 0
expect_out "0:0"
check "a file created in the chowned root is not owned by 100000 on disk" test "$(stat -c %u:%g "$C/created")" = 100000:100000
no_leaks unsc

begin host-files-out-of-reach
# Host root's files, bound in, belong to nobody the container knows: its
# root can neither read a private one nor change a public one; in a
# world-writable directory its files are host uid 100000's.
H=$WORK/hostdir
mkdir -p "$H/shared"
echo secret > "$H/secret"; chmod 0600 "$H/secret"
echo public > "$H/public"; chmod 0644 "$H/public"
chmod 0755 "$H"; chmod 1777 "$H/shared"
ct "$P" --set "mounts=[{type: bind, source: $H, target: /h}]" -- sh -c 'stat -c "%U" /h/public; cat /h/secret 2>/dev/null || echo no-read; probe write /h/public; probe write /h/new; chown 0 /h/public 2>/dev/null || echo no-chown; echo x > /h/shared/mine; :'
expect_rc 0
expect_out "nobody
no-read
EACCES
EACCES
no-chown"
check "host files changed" test "$(cat "$H/public")" = public
check "a file the container made on the host is not uid 100000's" test "$(stat -c %u "$H/shared/mine")" = 100000
no_leaks uns

begin no-propagation-to-the-host
# On a host whose / is shared (systemd's default), nothing the container
# mounts may appear outside: here a mount namespace of the test's own, made
# rshared, stands in for such a host, and is searched while the container
# runs.
F=$WORK/flag
mkdir -p "$F"; chmod 1777 "$F"
OUT=$(unshare -m sh -c '
  mount --make-rshared /
  CTIT_TOKEN=$3 "$1" --set process.env.CTIT_TOKEN=$3 --set "mounts=[{type: bind, source: $4, target: /w}]" "$2" \
    -- sh -c "touch /w/ready; sleep 2" &
  i=0; while [ ! -e "$4/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
  grep -c " $5/" /proc/self/mountinfo
  wait' _ "$CTRUN" "$P" "$TOKEN" "$F" "$R")
check "the container never started (no flag)" test -e "$F/ready"
expect_out "0"
no_leaks uns

begin ephemeral
ct "$P" --set rootfs.ephemeral=true -- sh -c 'echo x > /etc/motd && cat /etc/motd; stat -c "%u" /etc/passwd'
expect_rc 0
expect_out "x
0"
check "the ephemeral container wrote to its rootfs" test "$(cat "$R/etc/motd")" = "ctrun busybox rootfs"
no_leaks uns

begin user-not-mapped
ct "$P" --set 'user_namespace.uid_map=[{inside: 0, outside: 100000, count: 1}]' --set process.user=app -- /bin/true
expect_rc 125
expect_err "failed to set the user id to 1000: uid 1000 is not mapped in user_namespace.uid_map \(process.user\)"
no_leaks uns

begin not-idmappable
# A rootfs on a file system that cannot be idmapped (overlayfs, mounted here
# for the test) and not chowned: a clear 125 naming it.
O=$WORK/ov
mkdir -p "$O/lower" "$O/upper" "$O/work" "$O/merged"
cp -a "$R/." "$O/lower/"
mount -t overlay overlay -o "lowerdir=$O/lower,upperdir=$O/upper,workdir=$O/work" "$O/merged"
ct "$P" --set "rootfs.path=$O/merged" -- /bin/true
expect_rc 125
expect_err "failed to map the rootfs's owners into the user namespace: $O/merged is on overlayfs, which cannot be idmapped; chown the tree to 100000:100000 \(the container's root\) instead \(rootfs.path\)"
umount "$O/merged"
no_leaks uns

finish
