#!/usr/bin/env bash
# Installs what is missing, builds aimo, makes a keypair on first use and starts the proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
build_dir=${AIMO_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target aimo
aimo="$build_dir/aimo"
if ! "$aimo" address >/dev/null 2>&1; then
  "$aimo" keygen
fi
exec "$aimo" chat --serve "$@"
