#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds and runs a tiny consumer project
# that only does find_package(micro CONFIG REQUIRED) and links micro::micro.
#   install_consumer_test.sh BUILD_DIR CONSUMER_SRC CXX [CXX_FLAGS] [EXE_LINKER_FLAGS]
set -euo pipefail
build_dir=$1 consumer_src=$2 cxx=$3 cxx_flags=${4:-} link_flags=${5:-}
source "$(dirname "$0")/support/installed_package.sh"
configure_installed "$consumer_src" "$work/build"
run cmake --build "$work/build"
"$work/build/consumer"
[[ ! -x "$work/build/consumer_plugins" ]] || "$work/build/consumer_plugins"
