#!/usr/bin/env bash
# Side-by-side benchmark: micro-cpp (protobuf and JSON over the HTTP transport), gRPC C++ and a
# raw asio echo, alternating A B A B over several rounds, server pinned to one core and load
# generator to another. Prints a table of medians and ratios to raw and to gRPC.
# See docs/benchmarks.md.
#
#   bench/compare.sh                       # build (RelWithDebInfo), 3 rounds x 5 s per run
#   bench/compare.sh --rounds 1 --seconds 1 --no-build     # a quick look
#   flock /work/build.lock bench/compare.sh                # on a shared machine
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build/default"
ROUNDS=3
SECONDS_PER_RUN=5
WARMUP=0.5
BUILD_FIRST=1
SERVER_CPU=0
CLIENT_CPU=1
SYSTEMS="raw micro-proto micro-async micro-json grpc"
OUT=""

usage() {
  cat <<EOF
usage: bench/compare.sh [--rounds N] [--seconds S] [--warmup S] [--no-build] [--build-dir DIR]
                        [--systems "raw micro-proto micro-async micro-json grpc"] [--cpus SERVER,CLIENT]
                        [--out DIR]
  Builds (cmake --preset default: RelWithDebInfo) unless --no-build, then runs every
  scenario (64 B x 1 in flight, 64 B x 64, 64 KiB x 8) for every system, round after round,
  plus idle RSS, peak RSS under load and launch-to-first-answer time. micro-proto serves
  Echo.Call with a sync handler (handler pool), micro-async with a coroutine handler. Raw results (one JSON
  line per run) are kept in --out (default: a temporary directory, printed at the end).
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --no-build) BUILD_FIRST=0; shift ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --cpus) SERVER_CPU=${2%,*}; CLIENT_CPU=${2#*,}; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ $BUILD_FIRST == 1 ]]; then
  (cd "$ROOT" && cmake --preset default >/dev/null &&
   cmake --build "$BUILD" -j2 --target micro-bench micro-bench-server raw-echo-server \
     raw-echo-bench $( [[ $SYSTEMS == *grpc* ]] && echo grpc-echo-server grpc-echo-bench ) \
     greeter_server)
fi
B="$BUILD/bench"
[[ -x "$B/micro-bench" ]] || { echo "no $B/micro-bench: build first" >&2; exit 1; }
if [[ $SYSTEMS == *grpc* && ! -x "$B/grpc-echo-server" ]]; then
  echo "gRPC peer not built (libgrpc++-dev missing?): skipping it" >&2
  SYSTEMS=${SYSTEMS//grpc/}
fi

[[ -n $OUT ]] || OUT=$(mktemp -d /tmp/micro-compare.XXXXXX)
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

freeport() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# server_cmd SYSTEM PORT: the server's command line.
server_cmd() {
  case "$1" in
    raw) echo "$B/raw-echo-server --address 127.0.0.1:$2" ;;
    micro-async) echo "$B/micro-bench-server --async --registry memory --server_address 127.0.0.1:$2" ;;
    micro-*) echo "$B/micro-bench-server --registry memory --server_address 127.0.0.1:$2" ;;
    grpc) echo "$B/grpc-echo-server --address 127.0.0.1:$2" ;;
  esac
}
# client_cmd SYSTEM: the load generator's command line (without load flags).
client_cmd() {
  case "$1" in
    raw) echo "$B/raw-echo-bench" ;;
    micro-proto|micro-async) echo "$B/micro-bench --content_type proto" ;;
    micro-json) echo "$B/micro-bench --content_type json" ;;
    grpc) echo "$B/grpc-echo-bench" ;;
  esac
}
wait_port() {
  for _ in $(seq 400); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.01
  done
  echo "server on port $1 did not come up" >&2
  return 1
}
proc_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
emit() { echo "$1" >>"$RESULTS"; }

SCENARIOS=("64 1" "64 64" "65536 8")
export MICRO_LOG_LEVEL=warn

for round in $(seq "$ROUNDS"); do
  for sys in $SYSTEMS; do
    port=$(freeport)
    # Launch to first answered call (the load generator launches the server itself).
    line=$(taskset -c "$CLIENT_CPU" $(client_cmd "$sys") --address "127.0.0.1:$port" --name "$sys" \
             --startup -- taskset -c "$SERVER_CPU" $(server_cmd "$sys" "$port") | tail -1)
    emit "{\"round\":$round,\"system\":\"$sys\",\"kind\":\"startup\",\"result\":$line}"

    port=$(freeport)
    taskset -c "$SERVER_CPU" $(server_cmd "$sys" "$port") >"$OUT/server-$sys.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$port"
    sleep 0.3
    emit "{\"round\":$round,\"system\":\"$sys\",\"kind\":\"idle_rss_kb\",\"value\":$(proc_kb $SERVER_PID VmRSS)}"
    for sc in "${SCENARIOS[@]}"; do
      read -r size conc <<<"$sc"
      line=$(taskset -c "$CLIENT_CPU" $(client_cmd "$sys") --address "127.0.0.1:$port" \
               --name "$sys" -s "$size" -c "$conc" -d "$SECONDS_PER_RUN" --warmup "$WARMUP" | tail -1)
      emit "{\"round\":$round,\"system\":\"$sys\",\"kind\":\"load\",\"size\":$size,\"conc\":$conc,\"result\":$line}"
      echo "round $round  $sys  ${size} B x $conc: $line" >&2
    done
    emit "{\"round\":$round,\"system\":\"$sys\",\"kind\":\"peak_rss_kb\",\"value\":$(proc_kb $SERVER_PID VmHWM)}"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  done
  # The greeter example's idle RSS (goal: <= 5 MB), when built.
  if [[ -x "$BUILD/examples/greeter/greeter_server" ]]; then
    port=$(freeport)
    taskset -c "$SERVER_CPU" "$BUILD/examples/greeter/greeter_server" --registry memory \
      --server_address "127.0.0.1:$port" >"$OUT/server-greeter.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$port"
    sleep 0.3
    emit "{\"round\":$round,\"system\":\"greeter\",\"kind\":\"idle_rss_kb\",\"value\":$(proc_kb $SERVER_PID VmRSS)}"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  fi
done

python3 "$ROOT/bench/compare_table.py" "$RESULTS"
echo "raw results: $RESULTS" >&2
