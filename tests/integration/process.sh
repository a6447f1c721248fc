#!/usr/bin/env bash
# The process keys, PID 1, exit statuses, the API filesystems, namespaces.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs main)

begin basics
manifest basics <<EOF2
hostname: box
rootfs: {path: $R}
process: {args: [/bin/true]}
EOF2
ct "$WORK/basics.yaml" -- sh -c 'echo "$(hostname) $$ $(cat /proc/1/comm)"; echo /proc/[0-9]*'
expect_rc 0
expect_out "box 2 ctrun
/proc/1 /proc/2"
no_leaks basics

begin exit-codes
ct "$WORK/basics.yaml" -- sh -c 'exit 42'; expect_rc 42
ct "$WORK/basics.yaml" -- sh -c 'kill -TERM $$'; expect_rc 143
ct "$WORK/basics.yaml" -- /bin/not-there; expect_rc 127; expect_err "failed to execute /bin/not-there: No such file or directory \(process.args\)"
ct "$WORK/basics.yaml" -- not-in-path; expect_rc 127
ct "$WORK/basics.yaml" -- /etc/passwd; expect_rc 126; expect_err "Permission denied \(process.args\)"
ct "$WORK/basics.yaml" -- /etc; expect_rc 126
no_leaks basics

begin identity-env-cwd
manifest ids <<EOF2
rootfs: {path: $R}
process:
  args: [/bin/sh, -c, 'id; echo "\$HOME|\$PATH|\$TERM|\$container|\$GREETING"; pwd; probe umask; probe status NoNewPrivs']
  user: app
  supplementary_groups: [other, "4000"]
  env: {GREETING: hello}
  cwd: /tmp
  umask: "0027"
EOF2
ct "$WORK/ids.yaml"
expect_rc 0
expect_out "uid=1000(app) gid=1000(app) groups=1000(app),2000(extra),3000(other),4000
/home/app|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|dumb|ctrun|hello
/tmp
0027
1"
ct --set process.user=4321 --set process.group=other --set process.no_new_privileges=false "$WORK/ids.yaml" -- sh -c 'id -u; id -g; echo $HOME; probe status NoNewPrivs'
expect_rc 0
expect_out "4321
3000
/
0"
ct --set process.user=nosuchuser "$WORK/ids.yaml"
expect_rc 125; expect_err "failed to look up user nosuchuser in the container's /etc/passwd: no such user \(process.user\)"
ct --set process.group=nosuchgroup "$WORK/ids.yaml"
expect_rc 125; expect_err "no such group \(process.group\)"
ct --set process.cwd=/does/not/exist "$WORK/ids.yaml"
expect_rc 125; expect_err "failed to change to the directory /does/not/exist: No such file or directory \(process.cwd\)"
no_leaks ids

begin rlimits-oom
# Below this host's hard limits: root here lacks CAP_SYS_RESOURCE.
manifest lim <<EOF2
rootfs: {path: $R}
process:
  args: [/bin/sh, -c, 'probe rlimit nofile; probe rlimit core; cat /proc/self/oom_score_adj']
  rlimits: {nofile: [512, 1024], core: 0}
  oom_score_adjust: 500
EOF2
ct "$WORK/lim.yaml"
expect_rc 0
expect_out "512 1024
0 0
500"
hard=$(ulimit -Hn)
ct --set "process.rlimits.nofile=[1024, $((hard * 4))]" "$WORK/lim.yaml"
expect_rc 125; expect_err "failed to set the nofile limit: the hard limit cannot be raised above ctrun's own \($hard\) without CAP_SYS_RESOURCE \(process.rlimits.nofile\)"
no_leaks lim

begin fds-closed
# ctrun's caller leaks fd 7 and 9: the payload must see neither.
OUT=$(exec 7</etc/hostname 9>/dev/null; "$CTRUN" "$WORK/basics.yaml" -- probe fds 2>&1); RC=$?
expect_rc 0
expect_out ""
no_leaks basics

begin api-filesystems
# (tmpfs of some kernels, Debian 12's 6.1 among them, adds inode64: ignored)
ct "$WORK/basics.yaml" -- sh -c 'ls /dev | tr "\n" " "; echo; stat -c "%t:%T %a" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in /dev/ptmx /dev/fd /dev/stdin; do readlink $l; done; awk "\$2 ~ /^\/(proc|sys|dev|dev\/pts|dev\/shm|run)\$/ {print \$2, \$3, \$4}" /proc/mounts | sed "s/,inode64//" | sort'
expect_rc 0
expect_out "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero 
1:3 666
1:5 666
1:7 666
1:8 666
1:9 666
5:0 666
pts/ptmx
/proc/self/fd
/proc/self/fd/0
/dev tmpfs rw,nosuid,noexec,relatime,size=4096k,nr_inodes=1024,mode=755
/dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666
/dev/shm tmpfs rw,nosuid,nodev,relatime
/proc proc rw,nosuid,nodev,noexec,relatime
/run tmpfs rw,nosuid,nodev,relatime,mode=755
/sys sysfs ro,nosuid,nodev,noexec,relatime"
no_leaks basics

begin masks-and-readonly
# Every masked file that this kernel has reads empty, masked directories are
# empty, /proc/sys is read-only but for the container's own net sysctls
# (writable mount: without CAP_NET_ADMIN the write is EPERM, not EROFS).
want=
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sysrq-trigger /proc/kallsyms /proc/sched_debug; do
  [ -e "$f" ] && want+="$f:0 "
done
ct "$WORK/basics.yaml" -- sh -c 'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sysrq-trigger /proc/kallsyms /proc/sched_debug; do [ -e $f ] && echo -n "$f:$(head -c 1 $f | wc -c) "; done; echo; { ls -A /proc/acpi; ls -A /sys/firmware; } | wc -w; probe write /proc/sys/kernel/hostname; probe write /proc/sys/net/ipv4/ip_forward; probe write /sys/kernel/uevent_helper; grep -c " /proc/keys " /proc/mounts'
expect_rc 0
expect_out "$want
0
EROFS
EPERM
EROFS
1"
ct "$WORK/basics.yaml" --set 'capabilities.add=[CAP_NET_ADMIN]' -- sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward'
expect_rc 0
expect_out "1"
no_leaks basics

begin namespaces
ct "$WORK/basics.yaml" -- sh -c 'ls /sys/class/net; ip link show lo | grep -c "UP"; readlink /proc/self/ns/net; readlink /proc/self/ns/uts'
expect_rc 0
expect_out_match "^lo
1
net:\[[0-9]+\]
uts:\[[0-9]+\]$"
host_net=$(readlink /proc/self/ns/net)
check "container net ns differs from the host's" test "$(sed -n 3p <<<"$OUT")" != "$host_net"
manifest hostnet <<EOF2
rootfs: {path: $R}
namespaces: {net: false, uts: false, ipc: /proc/$$/ns/ipc}
process: {args: [/bin/sh, -c, 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; hostname']}
network: {mode: host}
EOF2
ct "$WORK/hostnet.yaml"
expect_rc 0
expect_out "$(readlink /proc/self/ns/net)
$(readlink /proc/$$/ns/ipc)
$(hostname)"
manifest badjoin <<EOF2
rootfs: {path: $R}
namespaces: {ipc: /proc/self/ns/net}
process: {args: [/bin/true]}
EOF2
ct "$WORK/badjoin.yaml"
expect_rc 125; expect_err "failed to join the ipc namespace /proc/self/ns/net: it is not a ipc namespace \(namespaces.ipc\)"
ct --set namespaces.ipc=/etc/hostname "$WORK/badjoin.yaml"
expect_rc 125; expect_err "it is not a ipc namespace \(namespaces.ipc\)"
ct --set namespaces.ipc=/nonexistent/ns "$WORK/badjoin.yaml"
expect_rc 125; expect_err "failed to open the ipc namespace /nonexistent/ns: No such file or directory \(namespaces.ipc\)"
no_leaks badjoin

begin session
ct "$WORK/basics.yaml" -- probe sid
expect_rc 0
expect_out "2 2 2"
no_leaks basics

finish
