#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, then builds and
# runs the whole test suite under every preset (g++ RelWithDebInfo, ASan+UBSan, TSan), then
# builds the libFuzzer targets with clang and runs each briefly so they cannot rot. Ends with
# the wall time of every phase, so a build or test regression shows in every CI log.
#   scripts/test.sh                 everything
#   PRESETS="default" scripts/test.sh   only some presets;  FUZZ_SECONDS=0 skips fuzzing
#   CCACHE_DISABLE=1 scripts/test.sh    the same run with every object compiled afresh
set -euo pipefail
cd "$(dirname "$0")/.."

presets=${PRESETS:-"default asan tsan"}
fuzz_seconds=${FUZZ_SECONDS:-3}
jobs=${JOBS:-2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

phases=()
phase_start=0
current=""
start_phase() {
  end_phase
  current=$1
  phase_start=$SECONDS
  printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"
}
end_phase() {
  if [[ -n "$current" ]]; then
    phases+=("$(printf '| %-22s | %5d s | %s |' "$current" $((SECONDS - phase_start)) "${1:-ok}")")
    current=""
  fi
}
table_printed=""
print_table() {
  local status=$?
  [[ -n "$table_printed" ]] && return
  table_printed=1
  if [[ $status -eq 0 ]]; then end_phase ok; else end_phase "FAILED (exit $status)"; fi
  printf '\n| phase                  |  wall   | result |\n|---|---|---|\n'
  printf '%s\n' "${phases[@]}"
  printf '| %-22s | %5d s |  |\n' "total" "$SECONDS"
  if command -v ccache >/dev/null && [[ -z "${CCACHE_DISABLE:-}" ]]; then
    ccache --show-stats 2>/dev/null | grep -E '^(Cacheable calls|  Hits|  Misses)' || true
  fi
  rm -f "$log"
}
log=$(mktemp)
trap print_table EXIT

start_phase "deps"
scripts/deps.sh
if command -v ccache >/dev/null; then ccache --zero-stats >/dev/null; fi

passed=0
for preset in $presets; do
  start_phase "build $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  start_phase "test $preset"
  ctest --preset "$preset" -j"$jobs" --timeout 300 | tee "$log"
  n=$(grep -oE 'tests failed out of [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  skipped=$(grep -c '(Skipped)' "$log" || true)
  passed=$((passed + n - skipped))
done

if [[ "$fuzz_seconds" != 0 ]]; then
  start_phase "build fuzz"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j"$jobs"
  start_phase "fuzz smoke (${fuzz_seconds}s each)"
  scripts/fuzz.sh "$fuzz_seconds"
fi
print_table
printf '\n=== all passed (%s) ===\n' "$(date +%T)"
echo "$passed passed, 0 failed"
