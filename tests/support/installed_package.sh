# Sourced by the tests that build a project against the INSTALLED package. Expects
# build_dir, cxx, cxx_flags and link_flags; sets `work` (a scratch folder, removed at exit
# after `cleanup_extra` if defined), installs build_dir into $work/prefix, and offers
#   run CMD...                       quiet unless CMD fails (then the log is printed)
#   configure_installed SRC BIN ARGS  cmake -S SRC -B BIN against $work/prefix with our compiler
work=$(mktemp -d)
trap '[[ $(type -t cleanup_extra) == function ]] && cleanup_extra; rm -rf "$work"' EXIT
log=$work/log
run() { "$@" >>"$log" 2>&1 || { cat "$log"; echo "FAILED: $*"; exit 1; }; }
# ccache, when installed, with paths inside the scratch folder made relative: repeated runs hit
# the cache although the folder's name changes.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
configure_installed() {
  local src=$1 bin=$2
  shift 2
  run cmake -S "$src" -B "$bin" -G Ninja "${launcher[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS="$cxx_flags" -DCMAKE_EXE_LINKER_FLAGS="$link_flags" \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release "$@"
}
run cmake --install "$build_dir" --prefix "$work/prefix"
