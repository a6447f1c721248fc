# Shared by the benchmarks: installing what they need, and the host quirks
# crun and nspawn need on a cgroup v1 hybrid host without systemd as PID 1
# (see startup.sh). Sourced; not a benchmark itself.

# bench_install PKG...: installs those that are missing.
bench_install() {
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# bench_reexec SCRIPT: runs SCRIPT --inner in a private mount namespace,
# from private cgroups of its own where the host needs them (nspawn would
# otherwise make sub-cgroups under the caller's own); removes them after.
# Exports CTRUN_BIN.
bench_reexec() {
  local script=$1 cgs=() h c rc=0
  if [ "$(cat /proc/1/comm)" != systemd ] && [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]; then
    for h in systemd unified; do
      [ -d /sys/fs/cgroup/$h ] || continue
      mkdir -p "/sys/fs/cgroup/$h/ctrun-bench-$$"; cgs+=("/sys/fs/cgroup/$h/ctrun-bench-$$")
    done
  fi
  CTRUN_BIN=$ctrun bash -c 'for c in "${@:2}"; do echo $$ > "$c/cgroup.procs"; done
           exec unshare -m --propagation private bash "$1" --inner' _ "$script" "${cgs[@]}" || rc=$?
  for c in "${cgs[@]}"; do find "$c" -depth -type d -exec rmdir {} \; ; done
  return $rc
}

# bench_bundle DIR CGROUP ARG...: an OCI bundle of `crun spec`'s defaults in
# DIR for the rootfs $R, running ARG... without a terminal, in cgroup CGROUP
# (an explicit cgroupsPath, never relative to ours).
bench_bundle() {
  local dir=$1 cg=$2
  shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && crun spec && jq --arg r "$R" --arg cg "$cg" '.process.terminal=false | .root.path=$r |
     .process.args=$ARGS.positional | .linux.cgroupsPath=$cg' --args "$@" < config.json > c.json &&
     mv c.json config.json)
}

# In --inner: crun refuses hybrid hosts whose cgroup2 lists a controller; an
# empty file covers cgroup.controllers in this private mount namespace.
# Sets $crun to the command line crun needs here, and $nspawn to
# systemd-nspawn's on the rootfs $R (without systemd as PID 1 it registers
# nothing and stays in our private cgroups).
bench_inner_quirks() {
  if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    : > "$B/empty"; mount --bind "$B/empty" /sys/fs/cgroup/unified/cgroup.controllers
  fi
  crun=crun
  [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ] && crun="crun --cgroup-manager=cgroupfs"
  nspawn="systemd-nspawn -D $R -q"
  [ "$(cat /proc/1/comm)" = systemd ] || nspawn="$nspawn --register=no --keep-unit"
  return 0
}
