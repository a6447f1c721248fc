#!/usr/bin/env bash
# Builds the manifest fuzzer with clang (libFuzzer, ASan, UBSan) in its own
# build directory and runs it for FUZZ_SECONDS (default 60) over the seed
# corpus: the example manifests, the good and bad test files and the seeds
# in tests/fuzz/corpus. Fails on any crash, leak or sanitizer report.
set -euo pipefail
src=$1 build=$2
seconds=${FUZZ_SECONDS:-60}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTRUN_STATIC_DEPS=OFF \
  -DCMAKE_CXX_COMPILER=clang++ -DCTRUN_FUZZ=ON -DCTRUN_TESTS=OFF >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cmake --build "$build" --target fuzz_manifest >>"$build.log" 2>&1 || { tail -40 "$build.log"; exit 1; }
corpus=$build/corpus
rm -rf "$corpus" && mkdir -p "$corpus"
cp "$src"/tests/fuzz/corpus/* "$src"/manifests/*.yaml "$src"/tests/data/good/*.yaml "$src"/tests/data/bad/*.yaml "$corpus"/
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$build/fuzz_manifest" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build/" "$corpus" 2>&1 | tail -25
echo "fuzz: ${seconds}s without a crash"
