#!/usr/bin/env bash
# Soak test (issue 16; not in ctest): one echo server under a fixed open-loop rate for a long
# time, its RSS sampled every second. Reports the RSS slope (least squares over the run, after
# a warm-up minute) in kB/min and per million calls, the failed calls, and the latency. A
# call due while every connection is busy waits for one (open loop, as wrk2: counted as late,
# its latency measured from its due time); a call fails only when it errs.
#   scripts/soak.sh [--minutes 10] [--rate 2000] [--connections 64] [--size 64]
#                   [--build-dir build/default] [--out DIR]
# The server runs on core 0 and the load on core 1 when the machine has two. Exits non-zero
# when a call failed. Figures go in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10 rate=2000 connections=64 size=64 build=build/default out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${out:-$(mktemp -d /tmp/micro-soak.XXXXXX)}
mkdir -p "$out"
server=$build/bench/micro-bench-server client=$build/bench/micro-bench
[[ -x $server && -x $client ]] || { echo "build first: cmake --build --preset default" >&2; exit 1; }

pin_server="" pin_client=""
if [[ $(nproc) -ge 2 ]]; then pin_server="taskset -c 0" pin_client="taskset -c 1"; fi
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')

MICRO_LOG_LEVEL=warn $pin_server "$server" --registry memory --server_address "127.0.0.1:$port" \
  >"$out/server.log" 2>&1 &
spid=$!
sampler=""
cleanup() {
  [[ -n $sampler ]] && kill "$sampler" 2>/dev/null || true
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.02; done

# RSS every second: seconds since start, kB.
(
  start=$(date +%s.%N)
  while kill -0 "$spid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$spid/status" 2>/dev/null || true)
    [[ -n $rss ]] && echo "$(echo "$(date +%s.%N) - $start" | bc) $rss"
    sleep 1
  done
) >"$out/rss.txt" &
sampler=$!

echo "soak: ${minutes} min at ${rate} calls/s, ${connections} connections, ${size} B, server pid $spid"
MICRO_LOG_LEVEL=warn $pin_client "$client" --address "127.0.0.1:$port" --rate "$rate" \
  -c "$connections" -s "$size" -d "$(echo "$minutes * 60 / 1" | bc)s" --name soak --client_retries 0 \
  >"$out/client.txt" 2>&1 || true
kill "$sampler" 2>/dev/null || true
sampler=""

/usr/bin/python3 - "$out" "$rate" <<'PY'
import json, sys
out, rate = sys.argv[1], float(sys.argv[2])
samples = [tuple(map(float, l.split())) for l in open(f"{out}/rss.txt") if l.strip()]
result = json.loads([l for l in open(f"{out}/client.txt") if l.startswith("{")][-1])
warmup = 60 if samples[-1][0] > 180 else 10  # a minute of warm-up on real runs
steady = [(t, r) for t, r in samples if t >= warmup] or samples
n = len(steady)
mt = sum(t for t, _ in steady) / n
mr = sum(r for _, r in steady) / n
var = sum((t - mt) ** 2 for t, _ in steady)
slope = sum((t - mt) * (r - mr) for t, r in steady) / var if var else 0.0  # kB per second
calls = result["calls"]
late = result.get("late", 0)
print(f"calls {calls}, failed {result['errors']}, late {late} (waited for a free connection; "
      f"latency counted from the due time), qps {result['qps']:.0f}, "
      f"p50 {result['p50_us']:.0f} us, p99 {result['p99_us']:.0f} us, max {result['max_us']:.0f} us")
print(f"RSS first {samples[0][1]:.0f} kB, after warm-up {steady[0][1]:.0f} kB, "
      f"last {samples[-1][1]:.0f} kB, max {max(r for _, r in samples):.0f} kB")
print(f"RSS slope {slope * 60:.1f} kB/min = {slope / rate * 1e6:.3f} kB per million calls "
      f"({len(samples)} samples; raw data in {out})")
sys.exit(1 if result["errors"] else 0)
PY
