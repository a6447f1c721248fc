#!/usr/bin/env bash
# Capabilities, no_new_privileges and seccomp, checked from inside with the
# static probe; Docker's and podman's profiles loaded from files.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)
manifest priv <<EOF2
rootfs: {path: $R, readonly: true}
process: {args: [/bin/true]}
EOF2
P=$WORK/priv.yaml
DEFAULT_CAPS=00000000a80425fb

begin caps-default
# Docker's 14 as bounding, permitted and effective; inheritable and ambient
# empty; no_new_privs on; one filter (the profile, with the TIOCSTI rule).
ct "$P" -- sh -c 'probe caps; probe status NoNewPrivs; probe status Seccomp; probe status Seccomp_filters'
expect_rc 0
expect_out "0000000000000000 $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS 0000000000000000
1
2
1"
no_leaks priv

begin caps-add-drop
# + NET_ADMIN (bit 12), - MKNOD (bit 27)
ct "$P" --set 'capabilities.add=[CAP_NET_ADMIN]' --set 'capabilities.drop=[mknod]' -- probe caps
expect_rc 0
expect_out "0000000000000000 00000000a00435fb 00000000a00435fb 00000000a00435fb 0000000000000000"
no_leaks priv

begin caps-non-root
# Another user gets nothing unless add names it; then it is ambient (and
# permitted, effective, inheritable), and survives execve.
ct "$P" --set process.user=app -- probe caps
expect_rc 0
expect_out "0000000000000000 0000000000000000 0000000000000000 $DEFAULT_CAPS 0000000000000000"
ct "$P" --set process.user=app --set 'capabilities.add=[NET_BIND_SERVICE, NET_ADMIN]' -- sh -c 'probe caps'
expect_rc 0
expect_out "0000000000001400 0000000000001400 0000000000001400 00000000a80435fb 0000000000001400"
no_leaks priv

begin caps-cannot-regain
# Root without CAP_SYS_ADMIN cannot mount, and no setuid-root binary gives
# back what the bounding set lacks.
ct "$P" -- sh -c 'mount -t tmpfs none /mnt 2>/dev/null && echo mounted; probe syscall mount 0 0 0 0 0; probe syscall sethostname 0 0'
expect_rc 0
expect_out "EPERM
EPERM"
no_leaks priv

begin masks-hold
# Without CAP_SYS_ADMIN (the default) no mask or read-only path can be
# undone: no umount (lazy or not), no fresh /proc, no remount read-write.
ct "$P" -- sh -c 'umount /proc/keys 2>/dev/null || echo keep; umount -l /proc/keys 2>/dev/null || echo keep-lazy; mount -t proc proc /mnt 2>/dev/null || echo no-proc; mount -o remount,rw /proc/sys 2>/dev/null || echo no-remount; head -c 1 /proc/keys | wc -c'
expect_rc 0
expect_out "keep
keep-lazy
no-proc
no-remount
0"
no_leaks priv

begin no-new-privs-off
# Without no_new_privileges a non-root payload still gets its filter: it is
# loaded while the payload is root, before setuid.
ct "$P" --set process.user=app --set process.no_new_privileges=false -- sh -c 'probe status NoNewPrivs; probe status Seccomp; probe syscall keyctl 0 0'
expect_rc 0
expect_out "0
2
EPERM"
no_leaks priv

begin seccomp-dangerous
# Each call EPERM under the default profile. For the ones whose arguments
# make the kernel answer otherwise, unconfined shows the filter did it.
calls='keyctl:0:-1 add_key request_key bpf:999 perf_event_open io_uring_setup:1:0 io_uring_enter:-1 kexec_load kexec_file_load init_module finit_module:-1 delete_module open_by_handle_at swapon swapoff userfaultfd lookup_dcookie mount umount2 pivot_root unshare:0x40000000 setns:-1:0 fsopen open_tree:-1 syslog:3:0:0 settimeofday'
script='for c in '"$calls"'; do set -- $(echo $c | tr : " "); echo "$1 $(probe syscall "$@")"; done'
ct "$P" -- sh -c "$script"
expect_rc 0
want=$(for c in $calls; do echo "${c%%:*} EPERM"; done)
expect_out "$want"
ct "$P" --set seccomp.profile=unconfined -- sh -c "$script"
expect_rc 0
for c in keyctl add_key request_key bpf perf_event_open io_uring_setup io_uring_enter; do
  line=$(grep "^$c " <<<"$OUT")
  check "$c unconfined: '$line' (expected an answer other than EPERM)" test -n "$line" -a "$line" != "$c EPERM"
done
no_leaks priv

begin seccomp-unknown
# A syscall this kernel has but the profile does not know (mseal, 462), and
# a number no kernel has: ENOSYS. clone3 too, and threads still work
# (glibc falls back to clone).
ct "$P" -- sh -c 'probe syscall 462 0 0 0; probe syscall 1000; probe syscall clone3 0 0; probe threads'
expect_rc 0
expect_out "ENOSYS
ENOSYS
ENOSYS
ok"
ct "$P" --set seccomp.profile=unconfined -- probe syscall 462 0 0 0
if [ "$OUT" = ENOSYS ]; then
  echo "SKIP seccomp-unknown: this kernel has no mseal, so ENOSYS above may be the kernel's (not counted)"
else
  ok
fi
no_leaks priv

begin seccomp-namespaces
# New namespaces only with CAP_SYS_ADMIN, whatever the call.
ct "$P" -- sh -c 'probe syscall clone 0x40000011; probe syscall unshare 0x20000; unshare -n true 2>/dev/null || echo refused'
expect_rc 0
expect_out "EPERM
EPERM
refused"
ct "$P" --set 'capabilities.add=[CAP_SYS_ADMIN]' -- sh -c 'probe syscall unshare 0x40000000'
expect_rc 0
expect_out "ok"
no_leaks priv

begin seccomp-compat-arches
# i386 system calls through int 0x80 are filtered like native ones; x32
# numbers (bit 30) too, whether or not this kernel runs x32 at all.
ct "$P" -- sh -c 'probe int80 20; probe int80 288 0 0; probe x32 250 0 0'
expect_rc 0
expect_out_match "^ok
EPERM
(EPERM|ENOSYS)$"
no_leaks priv

begin seccomp-allow-deny
ct "$P" --set 'seccomp.allow=[keyctl]' --set 'seccomp.deny=[getppid]' -- sh -c 'probe syscall keyctl 0 -1; probe syscall getppid'
expect_rc 0
expect_out_match "^(ENOKEY|ok)
EPERM$"
no_leaks priv

begin seccomp-tiocsti
# TIOCSTI on the container's own pty: EPERM, also with bit 32 of the command
# set (a 64-bit compare would let it through).
command -v script >/dev/null || bad "script(1) is missing (bsdutils)"
export CTRUN TOKEN P
script -qec 'CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN "$P" -- sh -c "probe tiocsti; probe tiocsti high"' /dev/null > "$WORK/tiocsti.out" 2>&1 < <(sleep 3)
OUT=$(tr -d '\r' < "$WORK/tiocsti.out")
expect_out "EPERM
EPERM"
if [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ]; then
  # Unconfined the same call works: the refusal above was the filter's.
  script -qec 'CTIT_TOKEN=$TOKEN "$CTRUN" --set process.env.CTIT_TOKEN=$TOKEN --set seccomp.profile=unconfined "$P" -- sh -c "probe tiocsti high"' /dev/null > "$WORK/tiocsti.out" 2>&1 < <(sleep 3)
  OUT=$(tr -d '\r' < "$WORK/tiocsti.out")
  expect_out_match "ok"
fi
no_leaks priv

begin docker-and-podman-profiles
cache=${CTRUN_CACHE:-/var/cache/ctrun}/seccomp-profiles
if bash "$(dirname "$0")/fetch-profiles.sh" "$cache"; then
  for prof in docker podman; do
    ct "$P" --set "seccomp.profile=$cache/$prof.json" -- sh -c 'probe threads; probe status Seccomp; probe syscall keyctl 0 -1; probe tiocsti high </dev/null; echo done'
    expect_rc 0
    # Docker: keyctl not allowed -> EPERM (its default errno); podman: allowed.
    expect_out_match "^ok
2
(EPERM|ENOKEY|ok)
(EPERM)
done$"
  done
  ct "$P" --set "seccomp.profile=$cache/docker.json" -- probe syscall keyctl 0 -1
  expect_out EPERM
else
  bad "could not fetch Docker's and podman's profiles from Debian's archive"
fi
no_leaks priv

begin devices
# Extra nodes: made with the host's type and numbers; errors name the item.
ct "$P" --set "devices=[{path: /dev/fuse}, {path: /dev/net/tun}]" -- sh -c "stat -c '%F %t:%T' /dev/fuse /dev/net/tun"
expect_rc 0
expect_out "character special file a:e5
character special file a:c8"
loop=$(ls /dev/loop[0-9]* 2>/dev/null | head -n 1)
if [ -n "$loop" ]; then
  ct "$P" --set "devices=[{path: $loop}]" -- stat -c '%F %t:%T' "$loop"
  expect_rc 0
  expect_out "block special file $(stat -c '%t:%T' "$loop")"
else
  echo "SKIP devices: no loop device on this host, block nodes not checked (not counted)"
fi
ct "$P" --set 'devices=[{path: /dev/fuse}, {path: /dev/nope}]'
expect_rc 125
expect_err "^ctrun: failed to add the device /dev/nope: /dev/nope does not exist on the host \(devices\[1\].path\)$"
ct "$P" --set 'devices=[{path: /dev/shm}]'
expect_rc 125
expect_err "/dev/shm is not a device node on the host \(devices\[0\].path\)"
no_leaks priv

begin bad-profile
printf '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]\n}\n' > "$WORK/bad.json"
ct "$P" --set "seccomp.profile=$WORK/bad.json"
expect_rc 125
expect_err "^$WORK/bad.json:3:46: syscalls\[0\]\.action: SCMP_ACT_NOTIFY needs a seccomp listener"
ct "$P" --set "seccomp.profile=$WORK/missing.json"
expect_rc 125
expect_err "missing.json: cannot open: No such file or directory"
no_leaks priv

finish
