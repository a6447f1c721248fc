# Networking: veth, bridge, macvlan, ipvlan, moved interfaces, addresses,
# routes, resolv.conf and hosts. Every container runs with a network
# namespace of this script's as its "host" (ctrun is started in it), with an
# uplink, a bridge and a parent the script makes there: the machine's own
# interfaces and addresses are never touched. After each case the test
# namespace must be as it was (links and addresses) and no_leaks must hold.
source "$(dirname "$0")/lib.sh"
R=$(fresh_rootfs net)
NS=ctit-net-$$
ip netns add "$NS" || { echo "cannot create a network namespace"; echo "0 passed, 1 failed"; exit 1; }
trap 'ip netns del "$NS" 2>/dev/null; cleanup' EXIT
nsx() { ip netns exec "$NS" "$@"; }
REAL_CTRUN=$CTRUN
CTRUN=$WORK/ctrun-in-ns
# nsenter, not ip netns exec: that one mounts a sysfs of the namespace over
# /sys, which hides the host's cgroup file systems from ctrun.
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$NS" "$REAL_CTRUN" > "$CTRUN"
chmod +x "$CTRUN"
mkdir -p "$WORK/shared"

# The test namespace's fixtures: a bridge with an address, a veth pair whose
# ends are the macvlan/ipvlan parent (up0) and a peer (up1), and a veth pair
# (mv-a, mv-b) whose mv-b end the interface mode moves.
nsx ip link set lo up
nsx ip link add br-ct type bridge
nsx ip addr add 10.231.1.1/24 dev br-ct
nsx ip link set br-ct up
nsx ip link add up0 type veth peer name up1
nsx ip link set up0 up
nsx ip link set up1 up
nsx ip link add mv-a type veth peer name mv-b
nsx ip addr add 10.231.3.1/24 dev mv-a
nsx ip addr add 10.231.4.7/24 dev mv-b
nsx ip link set mv-a up
nsx ip link set mv-b up

ns_state() {
  ip -n "$NS" -o link | awk '{print $2}' | sed 's/@.*//' | sort
  ip -n "$NS" -o addr | awk '{print $2, $4}' | sort
}
BASE=$(ns_state)
net_clean() {
  local now
  now=$(ns_state)
  [ "$now" == "$BASE" ] || bad "the test namespace changed: $(diff <(echo "$BASE") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')"
  no_leaks "$1"
}
# The veth host side goes with the namespace when ctrun was SIGKILLed: the
# kernel's cleanup runs a little later; wait for it (at most 5 s).
wait_gone() {
  for _ in $(seq 400); do ip -n "$NS" link show "$1" >/dev/null 2>&1 || return 0; sleep 0.05; done
  return 1
}
# Waits (at most 10 s) for a file a container writes into /shared.
wait_file() {
  for _ in $(seq 200); do [ -s "$WORK/shared/$1" ] && return 0; sleep 0.05; done
  return 1
}
# A container in the background, its output aside (ct's files are the
# foreground container's).
ct_bg() { CTIT_TOKEN=$TOKEN "$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$@" >"$WORK/bg.out" 2>"$WORK/bg.err" </dev/null & }
SHARED="mounts: [{type: bind, source: ./shared, target: /shared}]"
# TCP through the probe (tests/probe/probe.c): the receiver takes one
# connection and prints what arrives; the sender retries until the receiver
# listens (busybox nc has no reliable one-shot mode).
listen() { echo "probe tcp-recv $1 > /shared/$2"; }
send_to() { echo "probe tcp-send $1 $2 $3 >/dev/null"; }

begin veth
manifest vethc <<EOF
rootfs: {path: $R}
network:
  mode: veth
  address: [10.231.2.2/24, "fd00:c7::2/64"]
  gateway: 10.231.2.1
  host_address: 10.231.2.1/24
EOF
nsx "$R/bin/probe" tcp-recv 7000 > "$WORK/got-veth" &
listener=$!
ct "$WORK/vethc.yaml" -- sh -c "ip addr show eth0 | grep -o 'inet6\? [0-9a-f.:]*/[0-9]*' | grep -v fe80; ip route | grep default; \
  ping -c1 -W2 10.231.2.1 >/dev/null && echo ping-ok; $(send_to 10.231.2.1 7000 over-veth)"
expect_rc 0
expect_out "inet 10.231.2.2/24
inet6 fd00:c7::2/64
default via 10.231.2.1 dev eth0 
ping-ok"
wait "$listener"
check "the host side received the container's TCP message" grep -qx over-veth "$WORK/got-veth"
net_clean vethc

begin veth-ipv6
# The host side gets an IPv6 address from outside here; the container
# reaches it at once (no duplicate address detection to wait for).
manifest v6 <<EOF
rootfs: {path: $R}
network: {mode: veth, address: ["fd00:c8::2/64"], gateway: "fd00:c8::1", host_address: "fd00:c8::1/64"}
EOF
ct "$WORK/v6.yaml" -- sh -c 'ip -6 route | grep default; ping6 -c1 -W2 fd00:c8::1 >/dev/null && echo ping6-ok'
expect_rc 0
expect_out "default via fd00:c8::1 dev eth0  metric 1024 
ping6-ok"
net_clean v6

begin veth-host-side
# Seen from the host while the container runs: the name, its alias, the
# host address; a long name is shortened to 15 bytes with a hash.
long=a-container-with-a-long-name
manifest "$long" <<EOF
rootfs: {path: $R}
$SHARED
network: {mode: veth, address: [10.231.5.2/24], host_address: 10.231.5.1/24}
EOF
rm -f "$WORK/shared/"*
ct_bg "$WORK/$long.yaml" -- sh -c 'echo up > /shared/ready; while [ ! -e /shared/stop ]; do usleep 20000; done'
bgct=$!
if wait_file ready; then
  ifname=$(ip -n "$NS" -o link | awk '{print $2}' | sed 's/@.*//' | grep '^ve-a-co-')
  check "a shortened veth name of 15 bytes ($ifname)" test "${#ifname}" -eq 15
  check "the veth's alias names the container" sh -c "ip -n $NS link show $ifname | grep -q 'alias ctrun: $long'"
  check "host_address on the host side" sh -c "ip -n $NS addr show $ifname | grep -q 'inet 10.231.5.1/24'"
else
  bad "the container did not start"
fi
touch "$WORK/shared/stop"
wait "$bgct"
net_clean "$long"

begin veth-name-taken
# A host interface of the veth's name (not one of ours): 125, and nothing
# created; the interface stays.
nsx ip link add ve-taken type veth peer name ve-taken-p
manifest taken <<EOF
rootfs: {path: $R}
network: {mode: veth}
EOF
ct "$WORK/taken.yaml" -- true
expect_rc 125
expect_err "^ctrun: failed to create the veth ve-taken: ve-taken already exists on the host.* \(name\)$"
check "the host's interface stays" sh -c "ip -n $NS link show ve-taken >/dev/null"
nsx ip link del ve-taken
net_clean taken

begin veth-stale-predecessor
# One of ours under our own name (a SIGKILLed predecessor's, still being
# deleted by the kernel) is replaced.
nsx ip link add ve-stale type veth peer name ve-stale-p
nsx ip link set ve-stale alias "ctrun: stale"
manifest stale <<EOF
rootfs: {path: $R}
network: {mode: veth, address: [10.231.6.2/24]}
EOF
ct "$WORK/stale.yaml" -- sh -c 'ip addr show eth0 | grep -o "inet [0-9./]*"'
expect_rc 0
expect_out "inet 10.231.6.2/24"
net_clean stale

begin veth-sigkill
# ctrun killed with SIGKILL: the container dies with it and so does the
# veth (with its namespace); the same name starts again.
manifest killed <<EOF
rootfs: {path: $R}
$SHARED
network: {mode: veth, address: [10.231.7.2/24], host_address: 10.231.7.1/24}
EOF
rm -f "$WORK/shared/"*
"$CTRUN" --set "process.env.CTIT_TOKEN=$TOKEN" "$WORK/killed.yaml" -- sh -c 'echo up > /shared/ready; sleep 60' >/dev/null 2>&1 &
wrapper=$!
if wait_file ready; then
  # The wrapper execs nsenter, which execs ctrun: $wrapper is ctrun's pid.
  kill -9 "$wrapper"
  wait "$wrapper" 2>/dev/null
  check "the veth goes with the namespace" wait_gone ve-killed
  ct "$WORK/killed.yaml" -- true
  expect_rc 0
else
  bad "the container did not start"
  kill -9 "$wrapper"
fi
net_clean killed

begin veth-failure-after-setup
# The payload cannot start (127) after the network was built: nothing left.
ct "$WORK/vethc.yaml" -- /no/such/command
expect_rc 127
net_clean vethc

begin bridge
# Two containers on one bridge reach each other (and the bridge's address).
for c in 2 3; do
  manifest "br$c" <<EOF
rootfs: {path: $R}
$SHARED
network: {mode: bridge, bridge: br-ct, address: [10.231.1.$c/24], gateway: 10.231.1.1}
EOF
done
rm -f "$WORK/shared/"*
ct_bg "$WORK/br2.yaml" -- sh -c "$(listen 7001 got-br)"
bgct=$!
ct "$WORK/br3.yaml" -- sh -c "ping -c1 -W2 10.231.1.1 >/dev/null && echo gw-ok; $(send_to 10.231.1.2 7001 across-bridge)"
expect_rc 0
expect_out "gw-ok"
wait "$bgct"
check "the other container received the message" grep -qx across-bridge "$WORK/shared/got-br"
net_clean br2
net_clean br3

begin bridge-missing
manifest nobr <<EOF
rootfs: {path: $R}
network: {mode: bridge, bridge: br-none}
EOF
ct "$WORK/nobr.yaml" -- true
expect_rc 125
expect_err "^ctrun: failed to join the bridge br-none: there is no interface br-none on the host \(network.bridge\)$"
sed -i 's/br-none/up1/' "$WORK/nobr.yaml"
ct "$WORK/nobr.yaml" -- true
expect_rc 125
expect_err "^ctrun: failed to join the bridge up1: up1 is a veth device, not a bridge \(network.bridge\)$"
net_clean nobr

begin macvlan-bridge
# Two containers with macvlans in bridge mode on one parent talk directly.
for c in 2 3; do
  manifest "mv$c" <<EOF
rootfs: {path: $R}
$SHARED
network: {mode: macvlan, parent: up0, macvlan_mode: bridge, address: [10.231.8.$c/24]}
EOF
done
rm -f "$WORK/shared/"*
ct_bg "$WORK/mv2.yaml" -- sh -c "$(listen 7002 got-mv)"
bgct=$!
ct "$WORK/mv3.yaml" -- sh -c "cat /sys/class/net/eth0/uevent | grep -c INTERFACE=eth0; $(send_to 10.231.8.2 7002 across-macvlan)"
expect_rc 0
expect_out "1"
wait "$bgct"
check "the other macvlan container received the message" grep -qx across-macvlan "$WORK/shared/got-mv"
net_clean mv2
net_clean mv3

begin macvlan-modes
for mode in private vepa; do
  manifest "mvm" <<EOF
rootfs: {path: $R}
network: {mode: macvlan, parent: up0, macvlan_mode: $mode, address: [10.231.9.2/24]}
EOF
  ct "$WORK/mvm.yaml" -- sh -c 'ip addr show eth0 | grep -o "inet [0-9./]*"'
  expect_rc 0
  expect_out "inet 10.231.9.2/24"
done
net_clean mvm

begin macvlan-passthru
# passthru takes the whole parent: one with no other macvlan on it.
nsx ip link add pt0 type veth peer name pt1
nsx ip link set pt0 up
nsx ip link set pt1 up
manifest mvp <<EOF
rootfs: {path: $R}
network: {mode: macvlan, parent: pt0, macvlan_mode: passthru, address: [10.231.12.2/24]}
EOF
ct "$WORK/mvp.yaml" -- sh -c 'ip addr show eth0 | grep -o "inet [0-9./]*"'
expect_rc 0
expect_out "inet 10.231.12.2/24"
nsx ip link del pt0
net_clean mvp

begin macvlan-no-parent
manifest nopar <<EOF
rootfs: {path: $R}
network: {mode: macvlan, parent: eth-none}
EOF
ct "$WORK/nopar.yaml" -- true
expect_rc 125
expect_err "^ctrun: failed to create the macvlan device: there is no interface eth-none on the host \(network.parent\)$"
net_clean nopar

begin ipvlan
# Where the kernel has ipvlan (the VM stage): l2 and l3 between two
# containers on one parent. Where it has not (this host: CONFIG_IPVLAN
# unset): a clear 125. Which one ran is printed.
if nsx ip link add link up0 name ipv-probe type ipvlan mode l2 2>/dev/null; then
  nsx ip link del ipv-probe
  echo "ipvlan: supported by this kernel, connectivity tested"
  for mode in l2 l3 l3s; do
    for c in 2 3; do
      manifest "ipv$c" <<EOF
rootfs: {path: $R}
$SHARED
network: {mode: ipvlan, parent: up0, ipvlan_mode: $mode, address: [10.231.10.$c/24]}
EOF
    done
    rm -f "$WORK/shared/"*
    ct_bg "$WORK/ipv2.yaml" -- sh -c "$(listen 7003 got-ipv)"
    bgct=$!
    ct "$WORK/ipv3.yaml" -- sh -c "$(send_to 10.231.10.2 7003 "ipvlan-$mode")"
    expect_rc 0
    wait "$bgct"
    check "ipvlan $mode: the other container received the message" grep -qx "ipvlan-$mode" "$WORK/shared/got-ipv"
  done
  net_clean ipv2
  net_clean ipv3
else
  echo "ipvlan: not in this kernel, the error tested"
  manifest ipv <<EOF
rootfs: {path: $R}
network: {mode: ipvlan, parent: up0, ipvlan_mode: l3}
EOF
  ct "$WORK/ipv.yaml" -- true
  expect_rc 125
  expect_err "^ctrun: failed to create the ipvlan device on up0: this kernel has no ipvlan support: CONFIG_IPVLAN is not set and no ipvlan module loads \(network.mode\)$"
  net_clean ipv
fi

begin interface
# mv-b moves in (its own address goes, the manifest's comes), reaches mv-a
# across the namespaces, and comes back with 10.231.4.7/24 and up.
manifest ifc <<EOF
rootfs: {path: $R}
network: {mode: interface, interfaces: [mv-b], address: [10.231.3.2/24]}
EOF
ct "$WORK/ifc.yaml" -- sh -c 'ip addr show mv-b | grep -o "inet [0-9./]*"; ping -c1 -W2 10.231.3.1 >/dev/null && echo ping-ok'
expect_rc 0
expect_out "inet 10.231.3.2/24
ping-ok"
check "mv-b is back, up" sh -c "ip -n $NS link show mv-b | grep -q 'state UP\|,UP'"
net_clean ifc

begin interface-missing
manifest ifm <<EOF
rootfs: {path: $R}
network: {mode: interface, interfaces: [mv-b, nope0]}
EOF
ct "$WORK/ifm.yaml" -- true
expect_rc 125
expect_err "^ctrun: failed to move nope0 into the container: there is no interface nope0 on the host \(network.interfaces\[1\]\)$"
# mv-b, moved before nope0 failed, is back with its address.
net_clean ifm

begin dns-hosts
# resolv.conf and hosts are ctrun's files, read-only; the rootfs's own stay
# as they were.
printf 'nameserver 192.0.2.53\n' > "$R/etc/resolv.conf"
printf '127.0.0.1 rootfs-own\n' > "$R/etc/hosts"
manifest dns <<EOF
rootfs: {path: $R}
hostname: web
network:
  mode: veth
  address: [10.231.11.2/24]
  dns: [10.231.11.1, "fd00::53"]
  hosts: {db: 10.231.11.3, cache: "fd00::7"}
EOF
ct "$WORK/dns.yaml" -- sh -c 'cat /etc/resolv.conf /etc/hosts; echo x >> /etc/hosts 2>/dev/null || echo read-only'
expect_rc 0
expect_out "# written by ctrun from network.dns
nameserver 10.231.11.1
nameserver fd00::53
# written by ctrun from network.hosts
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.231.11.2	web
10.231.11.3	db
fd00::7	cache
read-only"
check "the rootfs's resolv.conf is unchanged" grep -qx 'nameserver 192.0.2.53' "$R/etc/resolv.conf"
check "the rootfs's hosts is unchanged" grep -qx '127.0.0.1 rootfs-own' "$R/etc/hosts"
# Without dns the rootfs's own resolv.conf is what the container sees.
manifest nodns <<EOF
rootfs: {path: $R}
network: {mode: veth}
EOF
ct "$WORK/nodns.yaml" -- cat /etc/resolv.conf
expect_out "nameserver 192.0.2.53"
net_clean dns
net_clean nodns

begin example-web
# manifests/web.yaml as shipped (on this test's rootfs copy): its httpd,
# started as user app with CAP_NET_BIND_SERVICE, answers on port 80 over the
# veth; SIGTERM to ctrun stops it.
# (tests/integration/../../manifests here; integration/../manifests in the VM)
web=$(cd "$(dirname "$0")/../../manifests" 2>/dev/null || cd "$(dirname "$0")/../manifests" && pwd)/web.yaml
ct_bg --set "rootfs.path=$R" "$web"
bgct=$!
page=
for _ in $(seq 200); do
  # busybox's nc, not its wget (static glibc: wget crashes outside its tree)
  page=$(printf 'GET / HTTP/1.0\r\n\r\n' | nsx "$R/bin/busybox" nc -w 2 10.0.3.2 80 2>/dev/null) && break
  sleep 0.05
done
check "the example web server answers over its veth ($(head -c 300 "$WORK/bg.err"))" grep -q "hello from a ctrun container on a veth pair" <<<"$page"
kill -TERM "$bgct"
wait "$bgct"
rc=$?
check "SIGTERM stops it (exit status $rc)" test "$rc" -eq 143
net_clean web

finish
