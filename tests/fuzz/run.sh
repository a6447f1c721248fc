#!/usr/bin/env bash
# Builds the fuzzers with clang (libFuzzer, ASan, UBSan) in their own build
# directory and runs them for FUZZ_SECONDS (default 60) in all: two thirds
# for the manifest reader (seeds: the example manifests, the good and bad
# test files, tests/fuzz/corpus), a third for seccomp profiles (seeds: ours,
# tests/fuzz/profiles, Docker's and podman's where cached). Fails on any
# crash, leak or sanitizer report.
set -euo pipefail
src=$1 build=$2
seconds=${FUZZ_SECONDS:-60}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTRUN_STATIC_DEPS=OFF \
  -DCMAKE_CXX_COMPILER=clang++ -DCTRUN_FUZZ=ON -DCTRUN_TESTS=OFF >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cmake --build "$build" --target fuzz_manifest fuzz_profile >>"$build.log" 2>&1 || { tail -40 "$build.log"; exit 1; }
corpus=$build/corpus
rm -rf "$corpus" && mkdir -p "$corpus"
cp "$src"/tests/fuzz/corpus/* "$src"/manifests/*.yaml "$src"/tests/data/good/*.yaml "$src"/tests/data/bad/*.yaml "$corpus"/
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$build/fuzz_manifest" -max_total_time="$((seconds * 2 / 3))" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build/" "$corpus" 2>&1 | tail -25
pcorpus=$build/profile-corpus
rm -rf "$pcorpus" && mkdir -p "$pcorpus"
cp "$src"/seccomp-profiles/default.json "$src"/tests/fuzz/profiles/* "$pcorpus"/
cp "${CTRUN_CACHE:-/var/cache/ctrun}"/seccomp-profiles/*.json "$pcorpus"/ 2>/dev/null || true
"$build/fuzz_profile" -max_total_time="$((seconds / 3))" -max_len=32768 -timeout=20 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build/profile-" "$pcorpus" 2>&1 | tail -12
echo "fuzz: ${seconds}s without a crash"
