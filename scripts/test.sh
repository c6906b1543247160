#!/usr/bin/env bash
# Installs what is missing, builds aimo and runs every test: unit, server, cli, and the
# end-to-end test that drives the real OpenClaw (set AIMO_SKIP_E2E=1 to leave that out, e.g.
# offline; CI never does).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh redis-server # the tests of the shared state start real ones
build_dir=${AIMO_BUILD_DIR:-build}
e2e_path=""
if [ "${AIMO_SKIP_E2E:-0}" != "1" ]; then
  e2e_path=$(./scripts/e2e-deps.sh)
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${AIMO_BUILD_TYPE:-RelWithDebInfo}" \
  -DAIMO_E2E_PATH="$e2e_path" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 300
