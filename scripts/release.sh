#!/usr/bin/env bash
# Builds a release that can be served as-is:
#   DIR/aimo-<version>-linux-<arch>.tar.gz, its .sha256, install.sh, and `latest`.
#
#   scripts/release.sh [--out DIR] [--build-dir DIR] [--version X]
#
# Without --build-dir it makes a Release build in build-release/. The archive holds what
# `cmake --install` installs: bin/aimo, completions for bash/zsh/fish, the man page.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist
build_dir=""
version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --version) version=$2; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "release.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) echo "release.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
if [ -z "$build_dir" ]; then
  ./scripts/install-deps.sh
  build_dir=build-release
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target aimo
fi
version=${version:-$("$build_dir/aimo" --version | awk '{print $2}')}
name="aimo-$version-linux-$arch"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cmake --install "$build_dir" --prefix "$stage/$name" --strip >/dev/null
cp README.md "$stage/$name/"
mkdir -p "$out"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
cp install.sh "$out/install.sh"
echo "$version" >"$out/latest"
echo "$out/$name.tar.gz"
