#!/usr/bin/env bash
# Golden test: `ctrun validate NAME.yaml` run from the file's directory must
# exit 125 and print exactly NAME.err on stderr, and nothing on stdout.
set -u
ctrun=$1 manifest=$2
dir=$(dirname "$manifest") name=$(basename "$manifest" .yaml)
cd "$dir" || exit 1
args=()
[ -f "$name.args" ] && mapfile -t args < "$name.args"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
env -i PATH="$PATH" HOME=/root CTRUN_TEST_SET=set "$ctrun" validate "${args[@]}" "$name.yaml" >"$out" 2>"$err"
rc=$?
fail=0
if [ "$rc" -ne 125 ]; then echo "exit status $rc, expected 125"; fail=1; fi
if [ -s "$out" ]; then echo "unexpected stdout:"; cat "$out"; fail=1; fi
if ! diff -u "$name.err" "$err"; then fail=1; fi
exit $fail
