#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`, clang 14) and runs each for SECONDS seconds
# (default 60), starting from the seeds in fuzz/corpus/<name>. New corpus entries are kept
# under build/fuzz/corpus; crashes are written to build/fuzz/crashes and fail the script.
#   scripts/fuzz.sh [SECONDS] [NAME_FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
filter=${2:-}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"${JOBS:-2}"

crashes=build/fuzz/crashes
mkdir -p "$crashes"
status=0
while read -r name; do
  [[ -z "$name" || ( -n "$filter" && "$name" != *"$filter"* ) ]] && continue
  short=${name#fuzz_}
  corpus=build/fuzz/corpus/$short
  mkdir -p "$corpus"
  seeds=()
  [[ -d fuzz/corpus/$short ]] && seeds=("fuzz/corpus/$short")
  echo "fuzz: $name for ${seconds}s"
  if ! "build/fuzz/fuzz/$name" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/$name-" \
      "$corpus" "${seeds[@]}" >"build/fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED (log: build/fuzz/$name.log)"
    tail -40 "build/fuzz/$name.log"
    status=1
  else
    grep -E '^stat::number_of_executed_units' "build/fuzz/$name.log" | sed "s/^/fuzz: $name /" || true
  fi
done < build/fuzz/fuzzers.txt
exit $status
