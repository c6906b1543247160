#!/usr/bin/env bash
# Installs the Debian packages aimo needs to build and test, and only those missing.
# Idempotent: a second run installs nothing. Works as root, or through sudo when present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcli11-dev libcpp-httplib-dev nlohmann-json3-dev libsodium-dev libfmt-dev libssl-dev
  libtomlplusplus-dev libsqlite3-dev libhiredis-dev catch2 curl dash shellcheck bsdutils
)
if [ "${1:-}" = "--test" ]; then
  shift
fi
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
else
  echo "aimo: error: missing packages: ${missing[*]}" >&2
  echo "hint: run as root, or install them with: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
