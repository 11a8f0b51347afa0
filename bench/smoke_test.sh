#!/usr/bin/env bash
# ctest smoke run of one benchmark pair: start the server on a free loopback port, run the load
# generator for about a second (closed loop, then open loop for micro), check that calls were
# answered without errors, measure the launch-to-first-answer once, stop the server by its PID.
#   smoke_test.sh micro|raw|grpc <server> <load generator>
set -euo pipefail
kind=$1 server=$2 client=$3
freeport() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}
port=$(freeport)
case $kind in
  micro) args=(--registry memory --server_address "127.0.0.1:$port") ;;
  *) args=(--address "127.0.0.1:$port") ;;
esac
export MICRO_LOG_LEVEL=warn
"$server" "${args[@]}" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 500); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.01
done

check() {  # the JSON line: calls > 0 and no failed calls (late open-loop calls are not
           # failures: they waited for a free connection on a loaded machine)
  local line=$1
  echo "$line"
  [[ $line =~ \"calls\":([0-9]+) ]] && (( BASH_REMATCH[1] > 0 )) || { echo "no calls" >&2; exit 1; }
  [[ $line =~ \"errors\":0[,}] ]] || { echo "errors" >&2; exit 1; }
}
check "$("$client" --address "127.0.0.1:$port" -c 4 -d 0.5s -s 64 | tail -1)"
check "$("$client" --address "127.0.0.1:$port" -c 2 -n 200 -s 65536 | tail -1)"
if [[ $kind == micro ]]; then
  check "$("$client" --address "127.0.0.1:$port" --content_type json -c 2 -d 0.2s | tail -1)"
  check "$("$client" --address "127.0.0.1:$port" --rate 2000 -d 0.3s | tail -1)"
fi
kill $pid; wait $pid 2>/dev/null || true; trap - EXIT
# Launch to first answer on a fresh port.
port=$(freeport)
case $kind in
  micro) args=(--registry memory --server_address "127.0.0.1:$port") ;;
  *) args=(--address "127.0.0.1:$port") ;;
esac
line=$("$client" --address "127.0.0.1:$port" --startup -- "$server" "${args[@]}" | tail -1)
echo "$line"
[[ $line == *'"ok":true'* ]]
