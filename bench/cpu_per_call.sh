#!/usr/bin/env bash
# CPU time per call of a micro-cpp server and of micro-bench (less sensitive to a busy machine
# than QPS): N calls at C in flight (SIZE-byte payloads), server on core 0, client on core 1.
#   [SIZE=bytes] bench/cpu_per_call.sh <server> <micro-bench> [calls] [in flight] [server flags]
set -euo pipefail
server=$1 client=$2 calls=${3:-100000} conc=${4:-64} size=${SIZE:-64}
shift $(( $# < 4 ? $# : 4 ))
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
MICRO_LOG_LEVEL=warn taskset -c 0 "$server" --registry memory --server_address "127.0.0.1:$port" "$@" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.01; done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks $pid)
out=$( { /usr/bin/time -f "client_cpu_s %U %S" taskset -c 1 "$client" --address "127.0.0.1:$port" \
          -n "$calls" -c "$conc" -s "$size" | tail -1; } 2>&1 )
after=$(ticks $pid)
client=$(echo "$out" | awk '/client_cpu_s/ {print $2 + $3}')
qps=$(echo "$out" | grep -o '"qps":[0-9.]*' | cut -d: -f2)
awk -v s=$((after - before)) -v hz="$hz" -v c="$client" -v n="$calls" -v q="$qps" 'BEGIN {
  printf "server %.1f us/call  client %.1f us/call  qps %s\n", s / hz / n * 1e6, c / n * 1e6, q }'
