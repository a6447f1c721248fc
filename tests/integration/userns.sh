#!/usr/bin/env bash
# namespaces.user: the maps as configured, the container's root owning its
# rootfs (idmapped, or a tree chowned to it), host files out of its reach,
# capabilities and seccomp inside, clear errors; and joining an existing
# user namespace by path (another container's, or one the probe makes).
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

begin join-user-namespace
# namespaces.user a path: the container runs in that user namespace (here
# another container's), and the namespaces it creates are that namespace's,
# so its root names its host, mounts its /proc and owns its idmapped root.
manifest unsh <<EOF2
rootfs: {path: $(fresh_rootfs holder)}
namespaces: {user: true}
user_namespace:
  uid_map: [{inside: 0, outside: 200000, count: 65536}]
  gid_map: [{inside: 0, outside: 200000, count: 65536}]
process: {args: [/bin/sleep, "1000"]}
EOF2
CTIT_TOKEN=$TOKEN "$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$WORK/unsh.yaml" </dev/null >/dev/null 2>&1 &
holder=$! stub=
# Its stub init (PID 1, in the new user namespace), once it is there.
for _ in $(seq 400); do
  stub=$(pgrep -P "$holder" | head -n 1)
  [ -n "$stub" ] && [ "$(readlink "/proc/$stub/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
  stub=; sleep 0.05
done
check "the holder container did not start" test -n "$stub"
J=$WORK/joined-out
mkdir -p "$J"; chmod 1777 "$J"
manifest unsj <<EOF2
rootfs: {path: $R}
hostname: joined
namespaces: {user: /proc/$stub/ns/user}
mounts: [{type: bind, source: $J, target: /out}]
process: {args: [/bin/true]}
EOF2
ct "$WORK/unsj.yaml" -- sh -c 'cat /proc/self/uid_map | tr -s " " | sed "s/^ //"; id -u; hostname; readlink /proc/self/ns/user;
  echo $$; stat -c "%u:%g" /; touch /out/made; probe caps; readlink /proc/self/ns/pid'
pidns=$(tail -n 1 <<<"$OUT")
OUT=$(head -n -1 <<<"$OUT")
expect_rc 0
expect_out "0 200000 65536
0
joined
$(readlink "/proc/$stub/ns/user")
2
0:0
0000000000000000 00000000a80425fb 00000000a80425fb 00000000a80425fb 0000000000000000"
check "the joined container shares the holder's pid namespace" test "$pidns" != "$(readlink "/proc/$stub/ns/pid")"
check "a file made through a plain bind is not owned by the joined namespace's root (200000)" \
  test "$(stat -c %u:%g "$J/made")" = 200000:200000
# ctrun exec enters it too (its init's user namespace first, then the rest).
CTIT_TOKEN=$TOKEN "$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$WORK/unsj.yaml" \
  -- sh -c 'touch /out/up; exec sleep 3600' </dev/null >/dev/null 2>&1 &
joined=$!
for _ in $(seq 400); do [ -e "$J/up" ] && [ -e /run/ctrun/unsj/state.json ] && break; sleep 0.05; done
OUT=$("$CTRUN" exec unsj -- sh -c 'id -u; hostname; readlink /proc/self/ns/user' 2>"$WORK/stderr" </dev/null); RC=$?
ERR=$(cat "$WORK/stderr")
expect_rc 0
expect_out "0
joined
$(readlink "/proc/$stub/ns/user")"
"$CTRUN" stop unsj >/dev/null 2>&1
wait "$joined"
kill -TERM "$holder"; wait "$holder"
no_leaks unsj
no_leaks unsh

# end_holder PID: SIGKILLs a probe's user namespace holder and waits (20 s at
# most) until it is gone, so that no_leaks does not see it dying.
end_holder() {
  kill -9 "$1"
  for _ in $(seq 400); do
    grep -q . "/proc/$1/environ" 2>/dev/null || return 0
    sleep 0.05
  done
}
# join_probes NAME PROBE-ARGS...: a user namespace the probe makes (H: its
# holder's pid; see probe userns) and manifest NAME, which joins it.
join_probes() {
  local name=$1
  shift
  H=$(CTIT_TOKEN=$TOKEN "$TEMPLATE/bin/probe" userns "$@")
  manifest "$name" <<EOF2
rootfs: {path: $R}
namespaces: {user: /proc/$H/ns/user}
process: {args: [/bin/true]}
EOF2
}

begin join-user-namespace-denying-setgroups
# A user namespace whose setgroups is "deny" (made here by the probe): ctrun
# joins it without supplementary groups, and refuses to set any.
join_probes unsd "0 300000 65536" "0 300000 65536" deny
ct "$WORK/unsd.yaml" -- sh -c 'id -u; id -G; cat /proc/self/setgroups'
expect_rc 0
expect_out "0
0
deny"
ct "$WORK/unsd.yaml" --set 'process.supplementary_groups=[5]' -- /bin/true
expect_rc 125
expect_err "failed to set the supplementary groups: the user namespace denies setgroups \(its /proc/PID/setgroups\) \(process.supplementary_groups\)"
end_holder "$H"
no_leaks unsd

begin join-user-namespace-without-root
# A user namespace that maps no root: a clear 125, nothing left.
join_probes unsr "1 300000 65536" "1 300000 65536"
ct "$WORK/unsr.yaml"
expect_rc 125
expect_err "failed to become root in the user namespace: it maps no root \(inside id 0\) \(namespaces.user\)"
end_holder "$H"
no_leaks unsr

begin join-user-namespace-of-another-owner
# A user namespace that uid 1000 made (and owns): its owner could enter the
# container's mount namespace, so ctrun idmaps no rootfs through it (what
# they wrote there would be host root's on disk); a tree chowned to its
# root is used as it is.
join_probes unso "0 400000 65536" "0 400000 65536" owner=1000
ct "$WORK/unso.yaml"
expect_rc 125
expect_err "failed to use the rootfs $R in the user namespace /proc/$H/ns/user: it belongs to uid 1000, who could write files owned by host root through an idmapped rootfs; chown the tree to 400000:400000 \(its root\) instead \(namespaces.user\)"
# (the leak check comes at the end: the holder, a process of the test, is
# still needed here)
C=$(fresh_rootfs owned)
chown -R 400000:400000 "$C"
ct "$WORK/unso.yaml" --set "rootfs.path=$C" -- sh -c 'id -u; stat -c "%u:%g" /; echo hi > /created'
expect_rc 0
expect_out "0
0:0"
check "a file the container's root created is not owned by 400000 on disk" test "$(stat -c %u:%g "$C/created")" = 400000:400000
end_holder "$H"
no_leaks unso

begin join-not-a-user-namespace
manifest unsn <<EOF2
rootfs: {path: $R}
namespaces: {user: /proc/self/ns/net}
process: {args: [/bin/true]}
EOF2
ct "$WORK/unsn.yaml"
expect_rc 125
expect_err "failed to join the user namespace /proc/self/ns/net: it is not a user namespace \(namespaces.user\)"
no_leaks unsn

finish
