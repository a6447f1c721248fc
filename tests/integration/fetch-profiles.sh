#!/usr/bin/env bash
# Docker's and podman's public default seccomp profiles, as Debian ships
# them (golang-github-docker-docker-dev, golang-github-containers-common),
# unpacked into a cache outside the clone; fetched again when missing:
#   fetch-profiles.sh CACHE_DIR    -> CACHE_DIR/docker.json, CACHE_DIR/podman.json
set -euo pipefail
dir=$1
[ -s "$dir/docker.json" ] && [ -s "$dir/podman.json" ] && exit 0
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
pkgs=(golang-github-docker-docker-dev golang-github-containers-common)
if ! (cd "$tmp" && apt-get download -qq "${pkgs[@]}" 2>/dev/null); then
  apt-get update -qq
  (cd "$tmp" && apt-get download -qq "${pkgs[@]}" 2>/dev/null)
fi
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
cp "$tmp/x/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json" "$dir/docker.json"
cp "$tmp/x/usr/share/containers/seccomp.json" "$dir/podman.json"
