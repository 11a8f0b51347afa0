#!/usr/bin/env bash
# Link-in, select by name: the unchanged greeter built twice, without and with micro::etcd and
# micro::consul. Only the plugin build knows the names; it runs end to end on a real etcd
# (started here on free loopback ports, stopped by PID), by flag and by environment.
#   plugins_link_test.sh BUILD_DIR      (exit 77 = skipped: etcd not installed)
set -euo pipefail
bin=$1/examples/greeter
pids=()
scratch=$(mktemp -d)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; "$@"; }

# 1. --help lists the registries each build knows.
plain_help=$("$bin/greeter_server" --help)
plugin_help=$("$bin/greeter_server_plugins" --help)
grep '^Registries:' <<<"$plain_help"
grep '^Registries:' <<<"$plugin_help"
! grep '^Registries:.*etcd' <<<"$plain_help"
! grep '^Registries:.*consul' <<<"$plain_help"
grep -q '^Registries:.*consul.*etcd' <<<"$plugin_help"

# 2. Without the plugin the name is an error that lists the known names.
if out=$("$bin/greeter_server" --registry=etcd 2>&1); then echo "plain build accepted etcd"; exit 1; fi
echo "$out"
grep -q 'unknown registry .*etcd.* (known: mdns, memory)' <<<"$out"
if out=$(MICRO_REGISTRY=consul "$bin/greeter_client" Ada 2>&1); then exit 1; fi
grep -q 'unknown registry .*consul' <<<"$out"

# 3. With it, the greeter runs on a real etcd.
if ! command -v etcd >/dev/null; then echo "SKIPPED: etcd is not installed"; exit 77; fi
cp=$(freeport); pp=$(freeport)
etcd --name n1 --data-dir "$scratch/etcd" \
  --listen-client-urls http://127.0.0.1:$cp --advertise-client-urls http://127.0.0.1:$cp \
  --listen-peer-urls http://127.0.0.1:$pp --initial-advertise-peer-urls http://127.0.0.1:$pp \
  --initial-cluster n1=http://127.0.0.1:$pp --initial-cluster-state new \
  --logger zap --log-level warn >"$scratch/etcd.log" 2>&1 &
etcd_pid=$!
pids+=($etcd_pid)
healthy() { curl -sf http://127.0.0.1:$cp/health | grep -q true; }
retry healthy || { cat "$scratch/etcd.log"; exit 1; }

port=$(freeport)
"$bin/greeter_server_plugins" --registry=etcd --registry_address=127.0.0.1:$cp \
  --server_address=127.0.0.1:$port &
server=$!
pids+=($server)
registered() { etcdctl --endpoints=127.0.0.1:$cp get --prefix /micro/registry/greeter/ --keys-only | grep -q .; }
retry registered
etcdctl --endpoints=127.0.0.1:$cp get --prefix /micro/registry/greeter/ --keys-only

out=$(retry "$bin/greeter_client_plugins" --registry=etcd --registry_address=127.0.0.1:$cp Ada 2>&1)
echo "$out"
grep -qx "Hello Ada" <<<"$out"
grep -qx "stream: Hello Linus" <<<"$out"
out=$(MICRO_REGISTRY=etcd MICRO_REGISTRY_ADDRESS=127.0.0.1:$cp "$bin/greeter_client_plugins" Grace 2>&1)
echo "$out"
grep -qx "Hello Grace" <<<"$out"

# SIGTERM: the server deregisters from etcd and exits 0.
kill -TERM $server
status=0
wait $server || status=$?
[[ $status == 0 ]] || { echo "greeter_server_plugins exited $status"; exit 1; }
! registered
echo "plugins link-in: all passed"
