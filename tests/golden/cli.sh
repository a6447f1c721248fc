#!/usr/bin/env bash
# Command-line behaviour: exit statuses, verbs, -- arguments, --set, files
# that cannot be read, oversize input. Prints "N passed, N failed".
set -u
ctrun=$1 data=$2
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME STATUS STDERR_PATTERN -- COMMAND...
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out err rc
  out=$("$@" 2>"$tmp/err"); rc=$?
  err=$(cat "$tmp/err")
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit status $rc, expected $want"; echo "$err" | head -5; fail=$((fail + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$err$out"; then
    echo "FAIL $name: output does not match /$pattern/"; echo "$err$out" | head -5; fail=$((fail + 1)); return
  fi
  pass=$((pass + 1))
}

good=$data/good/all-keys.yaml
expect help 0 "validate" -- "$ctrun" --help
expect version 0 "^ctrun [0-9]+\.[0-9]+\.[0-9]+" -- "$ctrun" --version
expect no-arguments 2 "manifest is required|requires" -- "$ctrun"
expect unknown-option 2 "--frobnicate" -- "$ctrun" validate --frobnicate "$good"
expect validate-good 0 "^version: 1" -- "$ctrun" validate "$good"
expect validate-extra-command 2 "no command after --" -- "$ctrun" validate "$good" -- /bin/true
expect missing-file 125 "^$tmp/nope.yaml: cannot open: No such file or directory" -- "$ctrun" validate "$tmp/nope.yaml"
expect directory 125 "not a regular file" -- "$ctrun" validate "$tmp"
# Keys whose executor is not built yet are refused with their position.
expect plan-unsupported 125 "all-keys.yaml:[0-9]+:[0-9]+: systemd.properties: not supported yet" -- "$ctrun" validate --plan "$good"
expect run-unsupported 125 "all-keys.yaml:[0-9]+:[0-9]+: systemd.properties: not supported yet" -- "$ctrun" "$good"
expect run-verb 125 "systemd.properties: not supported yet" -- "$ctrun" run "$good" -- /bin/echo --help
expect run-bad-manifest 125 "bad-size.yaml:6:5: resources.memory.max" -- "$ctrun" "$data/bad/bad-size.yaml"

# -- replaces process.args, and satisfies "args required"
printf 'version: 1\nrootfs: {path: /r}\n' > "$tmp/noargs.yaml"
expect args-required 125 "process.args: is required" -- "$ctrun" validate "$tmp/noargs.yaml"
expect args-from-command-line 125 "failed to open the rootfs /r: No such file or directory \\(rootfs.path\\)" -- "$ctrun" "$tmp/noargs.yaml" -- /bin/sh -c true
expect plan-prints 0 "args: \\[\"/bin/sh\", \"-c\", \"true\"\\]" -- "$ctrun" validate --plan --set 'process.args=[/bin/sh, -c, "true"]' "$tmp/noargs.yaml"

# --set on the validate path, and its effect on the printed manifest
expect set-applies 0 "max: 256M" -- "$ctrun" validate --set resources.memory.max=256M "$good"
expect set-removes 0 "" -- "$ctrun" validate --set resources.memory.max= "$good"
if "$ctrun" validate --set resources.memory.max= "$good" | grep -q "max: 512M"; then
  echo "FAIL set-removes: memory.max still set"; fail=$((fail + 1))
else
  pass=$((pass + 1))
fi
expect set-error 125 "^<command line>:1:1: stop.timeout: \"soon\" is not a duration" -- "$ctrun" validate --set stop.timeout=soon "$good"

# Relative paths follow the manifest, not the caller's directory.
mkdir -p "$tmp/m" && printf 'version: 1\nrootfs: {path: ./root}\nprocess: {args: [sh]}\n' > "$tmp/m/r.yaml"
expect relative-path 0 "path: $tmp/m/root" -- bash -c "cd / && '$ctrun' validate '$tmp/m/r.yaml'"

# Variables come from the caller's environment.
printf 'version: 1\nrootfs: {path: /r}\nprocess: {args: [sh]}\nhostname: ${CTRUN_T_HOST:-fallback}\n' > "$tmp/v.yaml"
expect variable-set 0 "hostname: from-env" -- env CTRUN_T_HOST=from-env "$ctrun" validate "$tmp/v.yaml"
expect variable-default 0 "hostname: fallback" -- env -u CTRUN_T_HOST "$ctrun" validate "$tmp/v.yaml"

# Files over 1 MiB are refused before parsing.
{ echo "version: 1"; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } > "$tmp/big.yaml"
expect oversize 125 "big.yaml: the file is larger than 1024 KiB" -- "$ctrun" validate "$tmp/big.yaml"

# A name on the command line becomes a path below /run/ctrun: a path, or
# anything a manifest's name may not be, is a usage error, before anything
# is looked up (a stop of ../x would otherwise unlink x's manifest.yaml).
for verb in status stop kill freeze thaw; do
  expect "name-$verb" 2 '^ctrun: "\.\./\.\./etc" is not a container name' -- "$ctrun" $verb ../../etc
done
expect name-exec 2 '"a/b" is not a container name' -- "$ctrun" exec a/b -- /bin/true
expect name-dotdot 2 '"\.\." is not a container name' -- "$ctrun" stop ..
expect name-long 2 'is not a container name' -- "$ctrun" stop "$(printf 'a%.0s' $(seq 65))"

# The effective manifest validates again and prints the same.
"$ctrun" validate "$good" > "$tmp/eff.yaml" 2>/dev/null
cp "$tmp/eff.yaml" "$tmp/eff2.yaml"
if "$ctrun" validate "$tmp/eff2.yaml" 2>/dev/null | cmp -s - "$tmp/eff.yaml"; then
  pass=$((pass + 1))
else
  echo "FAIL effective-roundtrip"; fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
