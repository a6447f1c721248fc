#!/usr/bin/env bash
# Builds a busybox rootfs from Debian's busybox-static, no download:
#   mk-rootfs.sh DIR [PROBE]
# DIR is replaced atomically; PROBE (the static test probe) goes to /bin/probe.
set -euo pipefail
dir=$1 probe=${2:-}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mk-rootfs: $bb is missing (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.new.XXXXXX")
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,home/app,var/tmp,mnt}
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list-full); do
  [ -e "$tmp/$applet" ] || ln -s /bin/busybox "$tmp/$applet"
done
[ -n "$probe" ] && install -m 0755 "$probe" "$tmp/bin/probe"
cat > "$tmp/etc/passwd" <<'END'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
END
cat > "$tmp/etc/group" <<'END'
root:x:0:
tty:x:5:
app:x:1000:
extra:x:2000:app
other:x:3000:
nogroup:x:65534:
END
chown 1000:1000 "$tmp/home/app"
echo "ctrun busybox rootfs" > "$tmp/etc/motd"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
