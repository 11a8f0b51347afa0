#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds and runs a tiny consumer project
# that only does find_package(micro CONFIG REQUIRED) and links micro::micro.
set -euo pipefail
build_dir=$1 consumer_src=$2 cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer_src" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
