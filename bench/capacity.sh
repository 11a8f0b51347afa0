#!/usr/bin/env bash
# Server capacity, measured fairly: every server on one core, driven from another core by a
# load generator that is not the bottleneck and is not of the server's own family:
#   floor        bench/floor: minimal HTTP/1.1 keep-alive echo (the go-micro wire's floor), wrk
#   micro-sync   micro-bench-server, sync handler (what generated code gives), wrk
#   micro-inline micro-bench-server --server_inline_handlers true (sync handler declared
#                non-blocking: run on the I/O thread), wrk
#   micro-async  micro-bench-server --async (coroutine handler), wrk
#   micro-json   micro-bench-server, sync handler, JSON body (application/json), wrk
#   grpc         gRPC C++ callback echo, h2load (HTTP/2, one stream in flight per connection)
#   raw          raw asio echo (4-byte length + payload), raw-echo-bench (wrk cannot speak it)
# wrk sends go-micro's request shape: POST / with Content-Type, Micro-Id, Micro-Service,
# Micro-Endpoint, Micro-Method, Timeout and a protobuf (or JSON) echo.Request body.
# For each run: calls/s, p50 (wrk, raw-echo-bench; h2load gives no percentiles) and the server's
# CPU per call (user+system ticks of the server process over the run / calls answered).
# Systems alternate within each round; the table shows medians over rounds and ratios.
#   bench/capacity.sh [--rounds 3] [--seconds 5] [--no-build] [--build-dir DIR]
#                     [--systems "floor micro-sync micro-inline micro-async micro-json grpc raw"]
#                     [--scenarios "64x64 64x1 65536x8"] [--cpus 0,1] [--out DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build/default"
ROUNDS=3
SECONDS_PER_RUN=5
BUILD_FIRST=1
SERVER_CPU=0
CLIENT_CPU=1
SYSTEMS="floor micro-sync micro-inline micro-async micro-json grpc raw"
SCENARIOS="64x64 64x1 65536x8"
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --no-build) BUILD_FIRST=0; shift ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --cpus) SERVER_CPU=${2%,*}; CLIENT_CPU=${2#*,}; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in wrk h2load; do
  command -v $tool >/dev/null || { echo "$tool missing: scripts/deps.sh wrk nghttp2-client" >&2; exit 1; }
done
if [[ $BUILD_FIRST == 1 ]]; then
  (cd "$ROOT" && cmake --preset default >/dev/null &&
   cmake --build "$BUILD" -j2 --target micro-bench-server raw-echo-server raw-echo-bench \
     http-floor-echo $( [[ $SYSTEMS == *grpc* ]] && echo grpc-echo-server ))
fi
B="$BUILD/bench"
[[ -n $OUT ]] || OUT=$(mktemp -d /tmp/micro-capacity.XXXXXX)
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
export MICRO_LOG_LEVEL=warn

freeport() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
wait_port() {
  for _ in $(seq 400); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.01
  done
  echo "server on port $1 did not come up" >&2
  return 1
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# Request bodies and wrk scripts, one per size and content type.
make_inputs() {  # SIZE
  python3 - "$OUT" "$1" <<'PY'
import base64, sys
out, size = sys.argv[1], int(sys.argv[2])
payload = bytes(i % 251 for i in range(size))
def varint(n):
    b = bytearray()
    while True:
        if n < 0x80:
            b.append(n); return bytes(b)
        b.append((n & 0x7F) | 0x80); n >>= 7
proto = b"\x0a" + varint(size) + payload
open(f"{out}/body-{size}.proto", "wb").write(proto)
open(f"{out}/body-{size}.json", "wb").write(b'{"payload":"' + base64.b64encode(payload) + b'"}')
open(f"{out}/body-{size}.grpc", "wb").write(b"\x00" + len(proto).to_bytes(4, "big") + proto)
for kind, ct in (("proto", "application/protobuf"), ("json", "application/json")):
    with open(f"{out}/wrk-{size}.{kind}.lua", "w") as f:
        f.write(f'''local f = io.open("{out}/body-{size}.{kind}", "rb")
wrk.method = "POST"
wrk.path = "/"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{ct}"
wrk.headers["Micro-Id"] = "1"
wrk.headers["Micro-Service"] = "echo"
wrk.headers["Micro-Endpoint"] = "Echo.Call"
wrk.headers["Micro-Method"] = "Echo.Call"
wrk.headers["Timeout"] = "5000000000"
''')
PY
}
for sc in $SCENARIOS; do make_inputs "${sc%x*}"; done

server_cmd() {  # SYSTEM PORT
  case "$1" in
    floor) echo "$B/http-floor-echo --address 127.0.0.1:$2" ;;
    raw) echo "$B/raw-echo-server --address 127.0.0.1:$2" ;;
    micro-async) echo "$B/micro-bench-server --async --registry memory --server_address 127.0.0.1:$2" ;;
    micro-inline) echo "$B/micro-bench-server --server_inline_handlers true --registry memory --server_address 127.0.0.1:$2" ;;
    micro-*) echo "$B/micro-bench-server --registry memory --server_address 127.0.0.1:$2" ;;
    grpc) echo "$B/grpc-echo-server --address 127.0.0.1:$2" ;;
  esac
}

# run_load SYSTEM PORT SIZE CONC -> "calls qps p50_us errors"
run_load() {
  local sys=$1 port=$2 size=$3 conc=$4 d=$SECONDS_PER_RUN log="$OUT/load.log"
  case "$sys" in
    raw)
      local line
      line=$(taskset -c "$CLIENT_CPU" "$B/raw-echo-bench" --address "127.0.0.1:$port" -s "$size" \
               -c "$conc" -d "$d" --warmup 0.5 | tail -1)
      python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["calls"], r["qps"], r["p50_us"], r["errors"])' "$line" ;;
    grpc)
      taskset -c "$CLIENT_CPU" h2load -t1 -c"$conc" -m1 -D "$d" --warm-up-time=1 \
        -d "$OUT/body-$size.grpc" -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$port/echo.Echo/Call" >"$log" 2>&1
      awk '/^requests:/ {ok=$8; bad=$10 + $12} /^finished in/ {gsub(",","",$4); qps=$4}
           END {print ok, qps, "null", bad}' "$log" ;;
    *)
      local kind=proto
      [[ $sys == micro-json ]] && kind=json
      taskset -c "$CLIENT_CPU" wrk -t1 -c"$conc" -d"${d}s" --latency \
        -s "$OUT/wrk-$size.$kind.lua" "http://127.0.0.1:$port/" >"$log" 2>&1
      awk '/requests in/ {calls=$1} /^Requests\/sec:/ {qps=$2}
           /^ +50%/ {v=$2; u=1; if (v ~ /us$/) u=1; else if (v ~ /ms$/) u=1000; else if (v ~ /s$/) u=1e6;
                     sub(/[a-z]+$/, "", v); p50=v*u}
           /Non-2xx/ {bad=$5} END {print calls, qps, p50, bad+0}' "$log" ;;
  esac
}

for round in $(seq "$ROUNDS"); do
  for sys in $SYSTEMS; do
    [[ $sys == grpc && ! -x $B/grpc-echo-server ]] && continue
    port=$(freeport)
    taskset -c "$SERVER_CPU" $(server_cmd "$sys" "$port") >"$OUT/server-$sys.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$port"
    sleep 0.2
    for sc in $SCENARIOS; do
      size=${sc%x*} conc=${sc#*x}
      before=$(ticks "$SERVER_PID")
      read -r calls qps p50 errors <<<"$(run_load "$sys" "$port" "$size" "$conc")"
      after=$(ticks "$SERVER_PID")
      cpu_us=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$calls" 'BEGIN {printf "%.2f", (n > 0 ? t / hz / n * 1e6 : 0)}')
      echo "{\"round\":$round,\"system\":\"$sys\",\"scenario\":\"$sc\",\"calls\":${calls:-0},\"qps\":${qps:-0},\"p50_us\":${p50:-null},\"errors\":${errors:-0},\"server_cpu_us\":$cpu_us}" >>"$RESULTS"
      echo "round $round  $sys  $sc: $(tail -1 "$RESULTS")" >&2
    done
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  done
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(sys_, sc, key):
    v = [r[key] for r in rows if r["system"] == sys_ and r["scenario"] == sc and r[key] is not None]
    return statistics.median(v) if v else None
systems = list(dict.fromkeys(r["system"] for r in rows))
for sc in dict.fromkeys(r["scenario"] for r in rows):
    size, conc = sc.split("x")
    print(f"\n{size} B x {conc} in flight (medians of {max(r['round'] for r in rows)} rounds)\n")
    print("| server | calls/s | p50 µs | server CPU µs/call | vs floor | vs gRPC | vs raw | errors |")
    print("|---|---|---|---|---|---|---|---|")
    base = {k: med(k, sc, "qps") for k in ("floor", "grpc", "raw")}
    for s in systems:
        q = med(s, sc, "qps")
        if q is None: continue
        ratio = lambda b: f"{q / b:.2f}" if b else "–"
        p50 = med(s, sc, "p50_us"); cpu = med(s, sc, "server_cpu_us")
        err = sum(r["errors"] for r in rows if r["system"] == s and r["scenario"] == sc)
        print(f"| {s} | {q:,.0f} | {'–' if p50 is None else f'{p50:.0f}'} | {cpu:.2f} | "
              f"{ratio(base['floor'])} | {ratio(base['grpc'])} | {ratio(base['raw'])} | {err} |")
# A run with failed calls or none answered is not a measurement: say so in the exit status.
bad = [r for r in rows if r["errors"] or not r["calls"]]
for r in bad:
    print(f"failed run: {r}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "raw results: $RESULTS" >&2
