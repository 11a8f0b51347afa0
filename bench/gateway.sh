#!/usr/bin/env bash
# The API gateway's cost (issue 13): the same echo call (64-byte payload, JSON) driven by wrk
# against the echo server's transport directly (go-micro's HTTP request shape) and through
# `micro api` (rpc handler, POST /echo/call, and POST /rpc), in alternating rounds.
# Everything runs inside a private network namespace with the default mDNS registry.
#   bench/gateway.sh BUILD_DIR [seconds per run] [rounds]
# Prints one line per run and the medians: calls/s at 64 connections and p50 at 1 connection.
# PIN=1 pins the server to core 0 and the gateway and wrk to core 1; PIN=2 gives the server and
# the gateway a core each (wrk on the other one; see gateway_inner.sh). GATEWAY_THREADS=N runs
# the gateway with N I/O threads (--threads; default one per CPU). ALT_MICRO=/path/to/micro
# measures a second build of the gateway in the same rounds (ALT_PRELOAD: a library preloaded
# into it, such as another allocator). CHECK=1 ends with the issue's goals as a verdict (exit 1 when
# missed).
set -euo pipefail
build=$(realpath "$1") secs=${2:-5} rounds=${3:-3}
here=$(dirname "$(realpath "$0")")
PIN=${PIN:-0} exec unshare -n bash "$here/gateway_inner.sh" "$build" "$secs" "$rounds"
