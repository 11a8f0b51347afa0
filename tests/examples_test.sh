#!/usr/bin/env bash
# The example programs end to end, as a user runs them:
#   1. greeter and sum with --registry=memory and a fixed address, clients through MICRO_PROXY;
#   2. greeter on the defaults (mDNS + HTTP) inside a private network namespace.
#   examples_test.sh BUILD_DIR
set -euo pipefail
bin=$1/examples
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
retry() { for _ in $(seq 30); do "$@" && return 0; sleep 0.1; done; "$@"; }

port=$(freeport)
"$bin/greeter/greeter_server" --registry=memory --server_address=127.0.0.1:$port &
pids+=($!)
out=$(MICRO_PROXY=127.0.0.1:$port retry "$bin/greeter/greeter_client" --registry=memory Ada 2>&1)
echo "$out"
grep -qx "Hello Ada" <<<"$out"
grep -qx "stream: Hello Linus" <<<"$out"

port=$(freeport)
"$bin/sum/sum_server" --registry memory --server_address 127.0.0.1:$port &
pids+=($!)
out=$(MICRO_PROXY=127.0.0.1:$port retry "$bin/sum/sum_client" --registry=memory 40 2 2>&1)
echo "$out"
grep -qx "40 + 2 = 42" <<<"$out"

# SIGTERM: the server drains, deregisters and exits 0.
kill -TERM "${pids[0]}"
status=0
wait "${pids[0]}" || status=$?
[[ $status == 0 ]] || { echo "greeter_server exited $status after SIGTERM"; exit 1; }

# Unknown plugin names fail clearly.
if out=$("$bin/greeter/greeter_server" --registry=nope 2>&1); then exit 1; fi
grep -q 'unknown registry \\"nope\\"' <<<"$out" || grep -q 'unknown registry "nope"' <<<"$out"

# Defaults (mDNS, HTTP transport) in a namespace of our own: no multicast reaches eth0.
unshare -n sh -c '
  set -e
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo src 127.0.0.1
  "$0/greeter/greeter_server" --server_address=127.0.0.1:0 & server=$!
  trap "kill $server; wait $server" EXIT
  for i in $(seq 30); do
    if out=$("$0/greeter/greeter_client" Grace 2>&1); then echo "$out"; exit 0; fi
    sleep 0.1
  done
  echo "$out"; exit 1' "$bin" | tee /dev/stderr | grep -x "Hello Grace" >/dev/null
# Pub/sub on the defaults (mDNS + HTTP broker), in a namespace of our own: two services publish
# ten events each; two audit instances in one queue record each event exactly once between them.
unshare -n bash -c '
  set -euo pipefail
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo src 127.0.0.1
  log=$(mktemp -d)
  "$0/pubsub/pubsub_audit" --server_id=a --server_address=127.0.0.1:0 >"$log/a" 2>&1 & a=$!
  "$0/pubsub/pubsub_audit" --server_id=b --server_address=127.0.0.1:0 >"$log/b" 2>&1 & b=$!
  trap "kill $a $b 2>/dev/null || true" EXIT
  for i in $(seq 50); do
    grep -q "Subscribing to topic" "$log/a" && grep -q "Subscribing to topic" "$log/b" && break
    sleep 0.1
  done
  "$0/pubsub/pubsub_publisher" users 10
  "$0/pubsub/pubsub_publisher" orders 10
  sleep 0.5
  kill -TERM $a $b; wait $a; wait $b
  cat "$log/a" "$log/b" | grep "^audit"
  total=$(cat "$log/a" "$log/b" | grep -c -E "^audit [ab]: (users|orders) ")
  unique=$(cat "$log/a" "$log/b" | grep -oE "(users|orders)-[0-9]+ " | sort -u | wc -l)
  na=$(grep -c -E "^audit a: (users|orders) " "$log/a" || true)
  nb=$(grep -c -E "^audit b: (users|orders) " "$log/b" || true)
  echo "pubsub: $total recorded, $unique distinct, a=$na b=$nb"
  [[ $total == 20 && $unique == 20 && $na -gt 0 && $nb -gt 0 ]]' "$bin"

echo "examples: all passed"
