#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the example.
# Until the greeter example lands, this runs the codec example (every go-micro codec,
# encoding and decoding go-micro's greeter request).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"${JOBS:-2}" --target codec_example
echo "--- running examples/codec (the greeter example arrives with the RPC layer) ---"
build/default/examples/codec/codec_example
