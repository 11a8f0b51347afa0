#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, then builds and
# runs the whole test suite under every preset (g++ RelWithDebInfo, ASan+UBSan, TSan), then
# builds the libFuzzer targets with clang and runs each briefly so they cannot rot.
#   scripts/test.sh                 everything
#   PRESETS="default" scripts/test.sh   only some presets;  FUZZ_SECONDS=0 skips fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

presets=${PRESETS:-"default asan tsan"}
fuzz_seconds=${FUZZ_SECONDS:-3}
jobs=${JOBS:-2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

phase() { printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"; }
passed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for preset in $presets; do
  phase "build $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  phase "test $preset"
  ctest --preset "$preset" -j"$jobs" --timeout 300 | tee "$log"
  n=$(grep -oE 'tests failed out of [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  skipped=$(grep -c '(Skipped)' "$log" || true)
  passed=$((passed + n - skipped))
done

if [[ "$fuzz_seconds" != 0 ]]; then
  phase "fuzz smoke (${fuzz_seconds}s per target)"
  scripts/fuzz.sh "$fuzz_seconds"
fi
phase "all passed"
echo "$passed passed, 0 failed"
