#!/usr/bin/env bash
# The unchanged greeter example on NATS, as the README shows it: a real nats-server on a free
# loopback port; greeter_server_nats and greeter_client_nats (the example's sources linked with
# micro::nats) find each other through the nats registry and talk over the nats transport.
# The same program built without the plugin does not know the name.
#   greeter_nats_test.sh BUILD_DIR          (exit 77 = skipped: no nats-server)
set -euo pipefail
build=$1
command -v nats-server >/dev/null || { echo "nats-server is not installed: skipped"; exit 77; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; "$@"; }

port=$(freeport)
nats-server -a 127.0.0.1 -p "$port" >/dev/null 2>&1 &
nats_pid=$!
pids+=($nats_pid)
retry python3 -c "import socket;socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null

flags=(--registry=nats --registry_address=127.0.0.1:$port
       --transport=nats --transport_address=127.0.0.1:$port
       --broker=nats --broker_address=127.0.0.1:$port)
bin=$build/plugins/nats
"$bin/greeter_server_nats" "${flags[@]}" &
server=$!
pids+=($server)
out=$(retry "$bin/greeter_client_nats" "${flags[@]}" Ada 2>&1)
echo "$out"
grep -qx "Hello Ada" <<<"$out"
grep -qx "stream: Hello Linus" <<<"$out"

# The same through the environment, as go-micro's MICRO_* variables.
out=$(MICRO_REGISTRY=nats MICRO_REGISTRY_ADDRESS=127.0.0.1:$port MICRO_TRANSPORT=nats \
      MICRO_TRANSPORT_ADDRESS=127.0.0.1:$port MICRO_BROKER=nats \
      MICRO_BROKER_ADDRESS=127.0.0.1:$port "$bin/greeter_client_nats" Grace 2>&1)
echo "$out"
grep -qx "Hello Grace" <<<"$out"

# Known only when linked: the plain example lists no "nats" and refuses the name.
grep -q "Registries: .*nats" <<<"$("$bin/greeter_server_nats" --help)"
if [[ -x $build/examples/greeter/greeter_server ]]; then
  if grep -q "nats" <<<"$("$build/examples/greeter/greeter_server" --help)"; then exit 1; fi
  if out=$("$build/examples/greeter/greeter_server" --registry=nats 2>&1); then exit 1; fi
  grep -q 'unknown registry' <<<"$out"
fi

# SIGTERM: the server drains, deregisters and exits 0.
kill -TERM "$server"
status=0
wait "$server" || status=$?
[[ $status == 0 ]] || { echo "greeter_server_nats exited $status after SIGTERM"; exit 1; }
echo "greeter on nats: all passed"
