#!/usr/bin/env bash
# Installs the Debian packages micro-cpp needs, only when something is missing.
# Idempotent: a second run with everything present takes well under a second.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config ccache mold
  libprotobuf-dev protobuf-compiler libprotoc-dev
  libasio-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  zlib1g-dev libssl-dev node-llhttp
  clang libclang-rt-14-dev
  iproute2 util-linux python3 python3-prometheus-client curl
  etcd-server etcd-client nats-server libnats-dev
  libgrpc++-dev protobuf-compiler-grpc
  wrk nghttp2-client libtcmalloc-minimal4
  chromium chromium-driver python3-websocket
)
# Extra packages for later parts (plugins, benchmarks) are listed by the caller: deps.sh pkg...
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
