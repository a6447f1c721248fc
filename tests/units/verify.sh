#!/usr/bin/env bash
# The unit files pass `systemd-analyze verify` without a word: an unknown key
# or a bad value is only a warning there, so any output fails the test.
#   verify.sh UNITS_DIR CTRUN
set -u
units=$1 ctrun=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (apt-get install systemd)"; echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for u in "$units"/*; do
  name=$(basename "$u")
  # ExecStart names the installed binary; the built one stands in for it.
  sed "s|/usr/local/bin/ctrun|$ctrun|g" "$u" > "$tmp/$name"
  target=$name
  [[ $name == *@.service ]] && target=${name%@.service}@ctit.service
  out=$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$tmp/$target" 2>&1)
  if [ $? -eq 0 ] && [ -z "$out" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name: $out"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
