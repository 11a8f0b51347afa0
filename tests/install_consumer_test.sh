#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds and runs a tiny consumer project
# that only does find_package(micro CONFIG REQUIRED) and links micro::micro.
#   install_consumer_test.sh BUILD_DIR CONSUMER_SRC CXX [CXX_FLAGS] [EXE_LINKER_FLAGS]
set -euo pipefail
build_dir=$1 consumer_src=$2 cxx=$3 cxx_flags=${4:-} link_flags=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log
# ccache, when installed, with paths inside the scratch folder made relative: repeated runs hit
# the cache although the folder's name changes.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
run() { "$@" >>"$log" 2>&1 || { cat "$log"; echo "FAILED: $*"; exit 1; }; }
run cmake --install "$build_dir" --prefix "$work/prefix"
run cmake -S "$consumer_src" -B "$work/build" -G Ninja "${launcher[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$cxx_flags" -DCMAKE_EXE_LINKER_FLAGS="$link_flags" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release
run cmake --build "$work/build"
"$work/build/consumer"
[[ ! -x "$work/build/consumer_plugins" ]] || "$work/build/consumer_plugins"
