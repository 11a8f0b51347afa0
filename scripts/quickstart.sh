#!/usr/bin/env bash
# The README's first command: installs what is missing, builds the greeter example and runs it
# end to end on the defaults (mDNS registry, HTTP transport), keeping discovery on loopback:
# MICRO_REGISTRY_ADDRESS=127.0.0.1 pins mDNS to the loopback interface, so no multicast
# leaves this machine, and the server listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"${JOBS:-2}" --target greeter_server greeter_client

export MICRO_REGISTRY_ADDRESS=${MICRO_REGISTRY_ADDRESS:-127.0.0.1}
export MICRO_SERVER_ADDRESS=${MICRO_SERVER_ADDRESS:-127.0.0.1:0}
bin=build/default/examples/greeter
log=$(mktemp)
"$bin/greeter_server" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

echo "--- greeter_client (the server was found over mDNS on loopback) ---"
# The server may not have announced itself yet: try a few times, showing only the last try.
out=$(mktemp)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log" "$out"' EXIT
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if "$bin/greeter_client" "$@" >"$out" 2>&1; then
    cat "$out"
    echo "--- greeter server log ---"
    cat "$log"
    exit 0
  fi
  sleep 0.3
done
cat "$out" >&2
echo "greeter_client failed; server log:" >&2
cat "$log" >&2
exit 1
