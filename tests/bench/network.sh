#!/usr/bin/env bash
# TCP throughput through each kind of container network, the classic
# eth/veth/venet comparison OpenVZ once published, redone with iperf3 in one
# run: loopback of the "host" (the baseline), a container to the host over
# its veth, two containers on one bridge, two macvlans (bridge mode) on one
# parent and, where the kernel has it, two ipvlans (l2). Not a test: nothing
# here asserts.
#
#   tests/bench/network.sh [CTRUN]      (env: SECONDS_EACH=5 ROUNDS=3)
#
# The "host" is a network namespace of this script's own (with a veth pair as
# the macvlan/ipvlan parent), so the machine's interfaces are never touched.
# The containers use `rootfs.host: true` (the host's /usr, where iperf3 is).
# Each figure is the best of ROUNDS runs of SECONDS_EACH seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ctrun=$(realpath "${1:-$here/../../build/ctrun}")
T=${SECONDS_EACH:-5} ROUNDS=${ROUNDS:-3}
bench_install iperf3 jq iproute2

NS=ctbench-net-$$
W=$(mktemp -d /tmp/ctrun-netbench.XXXXXX)
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NS"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip link add br-bench type bridge
nsx ip link set br-bench up
nsx ip link add up0 type veth peer name up1
nsx ip link set up0 up
nsx ip link set up1 up

# container NAME NETWORK-YAML: writes $W/NAME.yaml.
container() {
  cat > "$W/$1.yaml" <<END
version: 1
name: $1
rootfs: {host: true}
network: $2
process: {args: [/bin/true]}
END
}
# client ARGS: runs iperf3's client until the server answers; prints Gbit/s.
client_cmd() {
  echo "for i in \$(seq 100); do iperf3 -c $1 -t $T -J > /tmp/r.json 2>/dev/null && \
    jq -e '.end.sum_received.bits_per_second / 1e9' /tmp/r.json 2>/dev/null && exit 0; sleep 0.1; done; jq -r .error /tmp/r.json >&2; exit 1"
}
best=0
keep_best() {
  local v=$1
  best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b > a ? b : a) }')
}

# measure LABEL SERVER-KIND SERVER CLIENT-KIND CLIENT-TARGET
#   kind: ns (a process in the test namespace) or a container's name.
measure() {
  local label=$1 skind=$2 target=$3 ckind=$4 round
  best=0
  for round in $(seq "$ROUNDS"); do
    if [ "$skind" = ns ]; then
      nsx iperf3 -s -1 > /dev/null 2>&1 &
    else
      nsx "$ctrun" "$W/$skind.yaml" -- iperf3 -s -1 > /dev/null 2>&1 &
    fi
    local server=$!
    local gbps
    if [ "$ckind" = ns ]; then
      gbps=$(nsx bash -c "$(client_cmd "$target")")
    else
      gbps=$(nsx "$ctrun" "$W/$ckind.yaml" -- sh -c "$(client_cmd "$target")")
    fi
    wait "$server" || true
    keep_best "$gbps"
  done
  results+=("$label|$best")
}

results=()
measure "loopback, no container (baseline)" ns 127.0.0.1 ns
container vclient "{mode: veth, address: [10.232.0.2/24], host_address: 10.232.0.1/24}"
measure "container -> host over veth" ns 10.232.0.1 vclient
container bserver "{mode: bridge, bridge: br-bench, address: [10.232.1.2/24]}"
container bclient "{mode: bridge, bridge: br-bench, address: [10.232.1.3/24]}"
measure "container -> container, veths on a bridge" bserver 10.232.1.2 bclient
container mserver "{mode: macvlan, parent: up0, macvlan_mode: bridge, address: [10.232.2.2/24]}"
container mclient "{mode: macvlan, parent: up0, macvlan_mode: bridge, address: [10.232.2.3/24]}"
measure "container -> container, macvlan bridge" mserver 10.232.2.2 mclient
if nsx ip link add link up0 name ipv-probe type ipvlan mode l2 2>/dev/null; then
  nsx ip link del ipv-probe
  container iserver "{mode: ipvlan, parent: up0, ipvlan_mode: l2, address: [10.232.3.2/24]}"
  container iclient "{mode: ipvlan, parent: up0, ipvlan_mode: l2, address: [10.232.3.3/24]}"
  measure "container -> container, ipvlan l2" iserver 10.232.3.2 iclient
else
  results+=("container -> container, ipvlan l2|n/a (no ipvlan in this kernel)")
fi

base=${results[0]#*|}
echo "| path | Gbit/s (best of $ROUNDS x ${T}s) | vs loopback |"
echo "|---|---:|---:|"
for r in "${results[@]}"; do
  label=${r%%|*} v=${r#*|}
  if [[ $v =~ ^[0-9.]+$ ]]; then
    printf '| %s | %.1f | %.2f |\n' "$label" "$v" "$(awk -v a="$v" -v b="$base" 'BEGIN { print a / b }')"
  else
    printf '| %s | %s | |\n' "$label" "$v"
  fi
done
