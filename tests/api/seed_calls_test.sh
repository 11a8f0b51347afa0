#!/usr/bin/env bash
# The toolkit announcement's two calls, literally, against the real programs on the defaults
# (mDNS registry, HTTP transport), inside a private network namespace so that port 8080 and
# multicast stay ours: examples/api's go.micro.srv.greeter and go.micro.api.greeter behind
# `micro api`; then the CLI against the same services, and a clean SIGTERM exit.
#   seed_calls_test.sh BUILD_DIR
set -euo pipefail
exec unshare -n bash -c '
set -euo pipefail
bin=$1
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo src 127.0.0.1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
"$bin/examples/api/api_greeter_srv" --server_address=127.0.0.1:0 & pids+=($!)
"$bin/examples/api/api_greeter_api" --server_address=127.0.0.1:0 & pids+=($!)
"$bin/tools/micro/micro" api & api=$!
pids+=($api)
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; "$@"; }

# 1. /rpc with form fields, exactly as printed.
seed1() {
  out=$(curl -s -d "service=go.micro.srv.greeter" -d "method=Say.Hello" -d "request={\"name\": \"John\"}" \
     http://localhost:8080/rpc)
  echo "rpc: $out"
  [[ $out == "{\"msg\":\"Hello John\"}" ]]
}
retry seed1
# 2. GET /greeter/say/hello?name=John through go.micro.api.greeter (api handler, by metadata).
seed2() {
  out=$(curl -s "http://localhost:8080/greeter/say/hello?name=John")
  echo "api: $out"
  [[ $out == "{\"message\":\"Hello John\"}" ]]
}
retry seed2
# The API service error comes back with its code.
code=$(curl -s -o /dev/null -w "%{http_code}" "http://localhost:8080/greeter/say/hello")
[[ $code == 400 ]] || { echo "want 400 without a name, got $code"; exit 1; }

# The CLI sees and calls the same services.
services=$("$bin/tools/micro/micro" services)
echo "$services"
grep -q "^go.micro.srv.greeter " <<<"$services"
grep -q "^go.micro.api.greeter " <<<"$services"
answer=$("$bin/tools/micro/micro" --output json call go.micro.srv.greeter Say.Hello "{\"name\":\"John\"}")
[[ $answer == "{\"msg\":\"Hello John\"}" ]] || { echo "micro call: $answer"; exit 1; }

# SIGTERM: the gateway stops and exits 0.
kill -TERM "$api"
status=0
wait "$api" || status=$?
[[ $status == 0 ]] || { echo "micro api exited $status"; exit 1; }
echo "seed calls ok"
' seed_calls "$(realpath "$1")"
