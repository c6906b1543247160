#!/usr/bin/env bash
# Installs what is missing, builds aimo (Release, without tests), creates a keypair on first use
# and starts the proxy: `aimo chat --serve`. Extra arguments go to it, e.g. --port 9000.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
build_dir=${AIMO_BUILD_DIR:-build-release}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target aimo
aimo="$build_dir/aimo"
if ! "$aimo" address >/dev/null 2>&1; then
  # Never replaces an existing file: keygen refuses, and the error explains what is wrong.
  "$aimo" keygen
fi
exec "$aimo" chat --serve "$@"
