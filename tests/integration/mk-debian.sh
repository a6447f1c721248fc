#!/usr/bin/env bash
# The Debian tree of the boot-mode tests and of the booted-Debian fixture
# (tests/fixture/run.sh), cached: a bookworm tree (debootstrap minbase +
# systemd as init, dbus, iproute2, and systemd-container for machined and
# machinectl in the fixture) that ctrun boots with boot: true. Rebuilt when missing or when this script changes (its hash
# is the stamp). The tree is only ever used read-only (ephemeral: true).
#   mk-debian.sh CACHE_DIR   -> CACHE_DIR/debian
set -euo pipefail
dir=$1/debian
here=$(cd "$(dirname "$0")" && pwd)
stamp=$(sha256sum "$here/mk-debian.sh" | cut -c1-16)
[ -x "$dir/lib/systemd/systemd" ] && [ "$(cat "$dir.stamp" 2>/dev/null)" = "$stamp" ] && exit 0
command -v debootstrap > /dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap > /dev/null
mkdir -p "$1"
exec 9> "$1/debian.lock"
flock 9  # a second test run waits for the first's debootstrap
[ -x "$dir/lib/systemd/systemd" ] && [ "$(cat "$dir.stamp" 2>/dev/null)" = "$stamp" ] && exit 0
# The mirror apt itself uses: Debian's archive is the only network here.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]*debian[^ ]*' | grep -v security | sed -n 1p || true)
[ -n "$mirror" ] || { echo "mk-debian: no Debian mirror in apt's sources" >&2; exit 1; }
tmp=$dir.new
rm -rf "$tmp" "$dir.stamp"
echo "mk-debian: debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2,systemd-container bookworm "$tmp" "$mirror" \
  > "$1/debian.log" 2>&1 || { tail -n 20 "$1/debian.log"; exit 1; }
rm -rf "$tmp/var/cache/apt/archives/"*.deb
chroot "$tmp" passwd -d root > /dev/null
echo debian > "$tmp/etc/hostname"
# A fixed machine id, so the tests can check that the container's UUID comes from it.
echo 0123456789abcdef0123456789abcdef > "$tmp/etc/machine-id"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "$stamp" > "$dir.stamp"
