#!/usr/bin/env bash
# The out-of-tree plugin example (examples/plugin, the `file` registry) against the INSTALLED
# package: install into a scratch prefix, configure and build the example with
# find_package(micro) only, run the installed contract suite on it, then run the unchanged
# greeter server and client in two processes with --registry=file.
#   plugin_example_test.sh BUILD_DIR SOURCE_DIR CXX [CXX_FLAGS] [EXE_LINKER_FLAGS]
set -euo pipefail
build_dir=$1 source_dir=$2 cxx=$3 cxx_flags=${4:-} link_flags=${5:-}
server=""
cleanup_extra() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
}
cxx_flags="$cxx_flags -Werror"
source "$(dirname "$0")/support/installed_package.sh"
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; "$@"; }

configure_installed "$source_dir/examples/plugin" "$work/build" -DMICRO_SOURCE_DIR="$source_dir"
run cmake --build "$work/build" -j2

# 1. The installed contract suite passes on the plugin (and its own tests).
"$work/build/file_registry_test"
# (Into a variable first: grep -q closing a pipe early would fail the pipeline under pipefail.)
tests=$("$work/build/file_registry_test" --gtest_list_tests)
grep -q 'File/RegistryContractTest\.' <<<"$tests"

# 2. The unchanged greeter, server and client in two processes, meeting in one directory.
dir=$work/registry
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
"$work/build/greeter_server_file" --registry=file --registry_address="$dir" \
  --server_address=127.0.0.1:$port >"$work/server.log" 2>&1 &
server=$!
registered() { ls "$dir"/greeter/*.json >/dev/null 2>&1; }
retry registered || { cat "$work/server.log"; exit 1; }
cat "$dir"/greeter/*.json
out=$("$work/build/greeter_client_file" --registry=file --registry_address="$dir" Ada 2>&1)
echo "$out"
grep -qx "Hello Ada" <<<"$out"
grep -qx "stream: Hello Linus" <<<"$out"
out=$(MICRO_REGISTRY=file MICRO_REGISTRY_ADDRESS="$dir" "$work/build/greeter_client_file" Grace 2>&1)
echo "$out"
grep -qx "Hello Grace" <<<"$out"

# 3. The same plugin as a shared library: linking it is still enough. (Not under sanitizers:
# the .so carries its own copy of the static core, which ASan reports as an ODR violation.)
if [[ "$cxx_flags" != *-fsanitize* ]]; then
  configure_installed "$source_dir/examples/plugin" "$work/shared" \
    -DMICRO_SOURCE_DIR="$source_dir" -DBUILD_SHARED_LIBS=ON
  run cmake --build "$work/shared" -j2 --target greeter_client_file
  libs=$(ldd "$work/shared/greeter_client_file")
  grep -q libmicro_file.so <<<"$libs" || { echo "$libs"; echo "libmicro_file.so not linked"; exit 1; }
  out=$("$work/shared/greeter_client_file" --registry=file --registry_address="$dir" Ada 2>&1)
  echo "shared: $out"
  grep -qx "Hello Ada" <<<"$out"
fi

# 4. A clean stop deregisters: the node file goes.
kill -TERM "$server"; wait "$server" || true; server=""
if ls "$dir"/greeter/*.json >/dev/null 2>&1; then
  cat "$work/server.log"; echo "node file left after a clean stop"; exit 1
fi
echo "plugin example: contract suite and greeter over --registry=file passed"
