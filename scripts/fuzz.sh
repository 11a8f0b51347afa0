#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`, clang 14) and runs each for SECONDS seconds
# (default 60), starting from the seeds in fuzz/corpus/<name>. New corpus entries are kept
# under build/fuzz/corpus; crashes are written to build/fuzz/crashes and fail the script.
#   scripts/fuzz.sh [SECONDS] [NAME_FILTER]
#   scripts/fuzz.sh --long [RUNS] [NAME_FILTER]   the campaign: every target to RUNS executions
#       (default 10^7), then a table of executions, speed, coverage and corpus size per target
#       in build/fuzz/campaign.md (docs/reliability.md quotes it).
set -euo pipefail
cd "$(dirname "$0")/.."
long=""
if [[ ${1:-} == --long ]]; then
  long=1
  shift
fi
seconds=${1:-60}
filter=${2:-}
runs=10000000
if [[ -n $long ]]; then
  runs=${1:-10000000}
  seconds=0
  # ASan records the stack of every allocation; for the JSON and protobuf targets storing
  # those stacks was half the time (fuzz_codec_json: 1,300 execs/s, 5,100 with two frames).
  # Faults are still caught; their reports show two frames of where the memory came from.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=2}
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"${JOBS:-2}"

# Longest input per target. fuzz_codec_json stays at 4 KiB: at 64 KiB its corpus fills with
# long inputs that repeat one structure and it runs at 2,000 execs/s instead of ~4,700.
max_len_for() {
  case $1 in
    fuzz_codec_json) echo 4096 ;;
    *) echo 65536 ;;
  esac
}

crashes=build/fuzz/crashes
mkdir -p "$crashes"
[[ -n $long ]] && rm -f build/fuzz/campaign.rows
status=0
while read -r name; do
  [[ -z "$name" || ( -n "$filter" && "$name" != *"$filter"* ) ]] && continue
  short=${name#fuzz_}
  corpus=build/fuzz/corpus/$short
  mkdir -p "$corpus"
  seeds=()
  [[ -d fuzz/corpus/$short ]] && seeds=("fuzz/corpus/$short")
  limit=(-max_total_time="$seconds")
  [[ -n $long ]] && limit=(-runs="$runs")
  if [[ -n $long ]]; then echo "fuzz: $name for $runs runs"; else echo "fuzz: $name for ${seconds}s"; fi
  if ! "build/fuzz/fuzz/$name" "${limit[@]}" -max_len="$(max_len_for "$name")" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/$name-" \
      "$corpus" "${seeds[@]}" >"build/fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED (log: build/fuzz/$name.log)"
    tail -40 "build/fuzz/$name.log"
    status=1
  else
    grep -E '^stat::number_of_executed_units' "build/fuzz/$name.log" | sed "s/^/fuzz: $name /" || true
  fi
  if [[ -n $long ]]; then
    execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "build/fuzz/$name.log")
    speed=$(awk '/^stat::average_exec_per_sec/ {print $2}' "build/fuzz/$name.log")
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "build/fuzz/$name.log" | tail -1)
    echo "| $name | ${execs:-?} | ${speed:-?} | ${cov:-?} |" >>build/fuzz/campaign.rows
  fi
done < build/fuzz/fuzzers.txt
if [[ -n $long && -f build/fuzz/campaign.rows ]]; then
  {
    echo "| target | executions | execs/s | coverage (edges, features, corpus) |"
    echo "|---|---|---|---|"
    cat build/fuzz/campaign.rows
  } >build/fuzz/campaign.md
  rm -f build/fuzz/campaign.rows
  cat build/fuzz/campaign.md
fi
exit $status
