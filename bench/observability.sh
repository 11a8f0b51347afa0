#!/usr/bin/env bash
# The cost of observability on the echo benchmark (docs/benchmarks.md#observability-cost):
#   off      --metrics=false --tracing=false          (no call wrapper at all)
#   metrics  the defaults: metrics on, tracing sampled at 0
#   sampled  metrics on, --tracer_sample=1, spans kept in memory only (no export)
#   trace100 metrics on, --tracer_sample=1, OTLP export to a collector on loopback
# Server and client get the same flags. Each round runs every mode once (interleaved), 64 B
# payloads, 64 calls in flight, server on core 0, micro-bench on core 1; the table shows the
# median QPS, p99 and CPU microseconds per call of server and client (steadier than QPS on a
# busy machine) over the rounds, and the ratios to `off`.
#   bench/observability.sh [build dir] [rounds] [seconds]
set -euo pipefail
build=${1:-build/default} rounds=${2:-3} seconds=${3:-5}
server=$build/bench/micro-bench-server client=$build/bench/micro-bench
out=$(mktemp -d /tmp/obs_bench.XXXXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

# A lean collector that accepts OTLP POSTs and throws them away (bench/otlp_sink.py); its CPU
# time per call is reported beside the results (it runs on the same two cores).
cport=$(free_port)
/usr/bin/python3 "$(dirname "$0")/otlp_sink.py" "$cport" &
collector=$!
trap 'kill $collector 2>/dev/null || true' EXIT

flags_for() {
  case $1 in
    off) echo "--metrics=false --tracing=false" ;;
    metrics) echo "" ;;
    sampled) echo "--tracer_sample=1" ;;
    trace100) echo "--tracer_sample=1 --tracer_address=127.0.0.1:$cport" ;;
  esac
}

for round in $(seq "$rounds"); do
  for mode in off metrics sampled trace100; do
    port=$(free_port)
    # shellcheck disable=SC2046
    MICRO_LOG_LEVEL=warn taskset -c 0 "$server" --registry memory \
      --server_address "127.0.0.1:$port" $(flags_for $mode) >/dev/null &
    spid=$!
    for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.01; done
    before=$(awk '{print $14 + $15}' "/proc/$spid/stat")
    cbefore=$(awk '{print $14 + $15}' "/proc/$collector/stat")
    # shellcheck disable=SC2046
    res=$( { /usr/bin/time -f "client_cpu_s %U %S" env MICRO_LOG_LEVEL=warn taskset -c 1 \
             "$client" --address "127.0.0.1:$port" -c 64 -s 64 -d "${seconds}s" \
             --name "$mode" $(flags_for $mode) | tail -1; } 2>&1 )
    after=$(awk '{print $14 + $15}' "/proc/$spid/stat")
    cafter=$(awk '{print $14 + $15}' "/proc/$collector/stat")
    kill $spid; wait $spid 2>/dev/null || true
    json=$(echo "$res" | grep '^{')
    ccpu=$(echo "$res" | awk '/client_cpu_s/ {print $2 + $3}')
    echo "$json" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); hz=$(getconf CLK_TCK); \
n=j['qps']*j['seconds']; j['server_us']=($after-$before)/hz/n*1e6; j['client_us']=$ccpu/n*1e6; \
j['collector_us']=($cafter-$cbefore)/hz/n*1e6; \
print(json.dumps(j))" >>"$out/$mode.jsonl"
    echo "round $round $mode: $(tail -1 "$out/$mode.jsonl")" >&2
  done
done

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys, os
d = sys.argv[1]
rows = {}
for mode in ["off", "metrics", "sampled", "trace100"]:
    lines = [json.loads(l) for l in open(os.path.join(d, mode + ".jsonl")) if l.strip()]
    med = lambda k: statistics.median(l[k] for l in lines)
    rows[mode] = (med("qps"), med("p99_us"), med("server_us"), med("client_us"), med("collector_us"))
b = rows["off"]
print("| mode | QPS | vs off | p99 µs | server CPU µs/call | client CPU µs/call | CPU vs off (server+client) | collector CPU µs/call |")
print("|---|---|---|---|---|---|---|---|")
for mode, (qps, p99, s, c, k) in rows.items():
    print(f"| {mode} | {qps:.0f} | {qps / b[0]:.3f} | {p99:.0f} | {s:.1f} | {c:.1f} | {(b[2] + b[3]) / (s + c):.3f} | {k:.1f} |")
PY
echo "raw results: $out" >&2
