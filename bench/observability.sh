#!/usr/bin/env bash
# The cost of observability on the echo benchmark (docs/benchmarks.md#observability-cost):
#   off      --metrics=false --tracing=false          (no call wrapper at all)
#   metrics  the defaults: metrics on, tracing sampled at 0
#   trace100 metrics on, --tracer_sample=1, OTLP export to a collector on loopback
# Server and client get the same flags. Each round runs every mode once (interleaved), 64 B
# payloads, 64 calls in flight, server on core 0, micro-bench on core 1; the table shows the
# median QPS and p99 over the rounds and the ratio to `off`.
#   bench/observability.sh [build dir] [rounds] [seconds]
set -euo pipefail
build=${1:-build/default} rounds=${2:-3} seconds=${3:-5}
server=$build/bench/micro-bench-server client=$build/bench/micro-bench
out=$(mktemp -d /tmp/obs_bench.XXXXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

# A collector that accepts OTLP POSTs and throws them away.
cport=$(free_port)
/usr/bin/python3 - "$cport" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
collector=$!
trap 'kill $collector 2>/dev/null || true' EXIT

flags_for() {
  case $1 in
    off) echo "--metrics=false --tracing=false" ;;
    metrics) echo "" ;;
    trace100) echo "--tracer_sample=1 --tracer_address=127.0.0.1:$cport" ;;
  esac
}

for round in $(seq "$rounds"); do
  for mode in off metrics trace100; do
    port=$(free_port)
    # shellcheck disable=SC2046
    MICRO_LOG_LEVEL=warn taskset -c 0 "$server" --registry memory \
      --server_address "127.0.0.1:$port" $(flags_for $mode) >/dev/null &
    spid=$!
    for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.01; done
    # shellcheck disable=SC2046
    MICRO_LOG_LEVEL=warn taskset -c 1 "$client" --address "127.0.0.1:$port" -c 64 -s 64 \
      -d "${seconds}s" --warmup 1 --name "$mode" $(flags_for $mode) | tail -1 >>"$out/$mode.jsonl"
    kill $spid; wait $spid 2>/dev/null || true
    echo "round $round $mode: $(tail -1 "$out/$mode.jsonl")" >&2
  done
done

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys, os
d = sys.argv[1]
rows = {}
for mode in ["off", "metrics", "trace100"]:
    lines = [json.loads(l) for l in open(os.path.join(d, mode + ".jsonl")) if l.strip()]
    rows[mode] = (statistics.median(l["qps"] for l in lines), statistics.median(l["p99_us"] for l in lines))
base = rows["off"][0]
print("| mode | QPS (median) | p99 µs | vs off |")
print("|---|---|---|---|")
for mode, (qps, p99) in rows.items():
    print(f"| {mode} | {qps:.0f} | {p99:.0f} | {qps / base:.3f} |")
PY
echo "raw results: $out" >&2
