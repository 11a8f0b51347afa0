#!/usr/bin/env bash
# `micro new` against the INSTALLED package: install into a scratch prefix, create a service
# with the installed `micro`, configure and build it with find_package(micro) only, run its
# GoogleTest suite, then run it and call it (unary and stream) with the installed `micro`.
#   new_service_test.sh BUILD_DIR CXX [CXX_FLAGS] [EXE_LINKER_FLAGS]
set -euo pipefail
build_dir=$1 cxx=$2 cxx_flags=${3:-} link_flags=${4:-}
server=""
cleanup_extra() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
}
cxx_flags="$cxx_flags -Werror"
source "$(dirname "$0")/../support/installed_package.sh"
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; "$@"; }
micro=$work/prefix/bin/micro

# 1. The skeleton.
"$micro" new hello-world --dir "$work/hello"
for f in hello_world.proto handler/hello_world.h handler/hello_world.cc main.cc \
         hello_world_test.cc CMakeLists.txt README.md; do
  [[ -s "$work/hello/$f" ]] || { echo "missing $f"; exit 1; }
done
# A second time into the same (non-empty) folder: refused, exit 1.
status=0
"$micro" new hello-world --dir "$work/hello" 2>"$work/err" || status=$?
[[ $status == 1 ]] || { echo "micro new over a project exited $status"; exit 1; }
grep -q '"code":409' "$work/err"
# A bad name: usage, exit 2.
status=0
"$micro" new 9lives --dir "$work/bad" 2>/dev/null || status=$?
[[ $status == 2 ]] || { echo "micro new 9lives exited $status"; exit 1; }

# 2. It builds against the installed package and its tests pass.
configure_installed "$work/hello" "$work/hello/build"
run cmake --build "$work/hello/build" -j2
run ctest --test-dir "$work/hello/build" --output-on-failure

# 3. It runs and answers `micro call` and `micro stream`.
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
"$work/hello/build/hello-world" --registry=memory --server_address=127.0.0.1:$port \
  >"$work/server.log" 2>&1 &
server=$!
call() { "$micro" --registry=memory call --address 127.0.0.1:$port hello-world "$@"; }
out=$(retry call HelloWorld.Call '{"name": "Ada"}') || { cat "$work/server.log"; exit 1; }
echo "$out"
[[ "$(jq -c . <<<"$out" 2>/dev/null || python3 -c 'import json,sys;print(json.dumps(json.load(sys.stdin),separators=(",",":")))' <<<"$out")" == '{"msg":"Hello Ada"}' ]]
status=0
err=$(call HelloWorld.Call '{}' 2>&1 >/dev/null) || status=$?
echo "$err"
[[ $status == 1 ]] && grep -q '"code":400' <<<"$err"
out=$(printf '{"count": 1}\n{"count": "2"}\n' |
  "$micro" --registry=memory stream --address 127.0.0.1:$port hello-world HelloWorld.Stream)
echo "$out"
[[ "$out" == $'{"count":"1"}\n{"count":"2"}' ]]
echo "micro new: skeleton built against the installed package, tested, called"
