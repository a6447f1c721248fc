#!/usr/bin/env bash
# The cgroup v2 + systemd test VM's root image, cached: Debian bookworm
# (debootstrap, systemd as init, Debian's kernel) as a raw ext4 image, plus
# its kernel and initrd next to it. Rebuilt when missing or when this
# script changes (its hash is the stamp).
#   mk-image.sh CACHE_DIR   -> CACHE_DIR/{root.ext4,vmlinuz,initrd.img}
set -euo pipefail
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
stamp=$(sha256sum "$here/mk-image.sh" | cut -c1-16)
if [ -s "$dir/root.ext4" ] && [ -s "$dir/vmlinuz" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
mkdir -p "$dir"
rm -rf "$dir/rootfs" "$dir/root.ext4" "$dir/stamp"
# The mirror apt itself uses: Debian's archive is the only network here.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]*debian[^ ]*' | grep -v security | sed -n 1p || true)
[ -n "$mirror" ] || { echo "mk-image: no Debian mirror in apt's sources" >&2; exit 1; }
include=systemd,systemd-sysv,dbus,udev,linux-image-amd64,e2fsprogs,bash,util-linux,bsdutils,procps,iproute2,kmod,systemd-container
echo "mk-image: debootstrap bookworm ($include) from $mirror"
debootstrap --variant=minbase --include="$include" bookworm "$dir/rootfs" "$mirror" > "$dir/debootstrap.log" 2>&1 ||
  { tail -n 20 "$dir/debootstrap.log"; exit 1; }
R=$dir/rootfs
rm -rf "$R/var/cache/apt/archives/"*.deb
echo ctrun-vm > "$R/etc/hostname"
chroot "$R" passwd -d root > /dev/null
# /ctrun is the second disk: the build and the tests, and where results go.
mkdir -p "$R/ctrun"
echo "LABEL=ctrun /ctrun ext4 defaults 0 2" >> "$R/etc/fstab"
cat > "$R/etc/systemd/system/ctrun-tests.service" <<'END'
[Unit]
Description=ctrun's integration tests, then power off
After=multi-user.target
RequiresMountsFor=/ctrun
[Service]
Type=oneshot
ExecStart=/bin/bash /ctrun/run-in-vm.sh
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target
END
chroot "$R" systemctl enable ctrun-tests.service > /dev/null 2>&1
# Nothing else that would slow the boot or grab the serial console.
chroot "$R" systemctl mask serial-getty@ttyS0.service getty@tty1.service systemd-timesyncd.service apt-daily.timer \
  apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer > /dev/null 2>&1 || true
cp "$R"/boot/vmlinuz-* "$dir/vmlinuz"
cp "$R"/boot/initrd.img-* "$dir/initrd.img"
truncate -s 1200M "$dir/root.ext4"
mkfs.ext4 -q -F -L root -d "$R" "$dir/root.ext4"
rm -rf "$R"
echo "$stamp" > "$dir/stamp"
