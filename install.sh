#!/bin/sh
# aimo installer: curl -fsSL <base>/install.sh | sh
# Everything lives in functions and runs from the last line, so a download cut short runs nothing.
set -u

AIMO_DEFAULT_DOWNLOAD_URL="https://beta.aimo.network/releases/aimo"
RC_MARKER="# added by the aimo installer"

say() { [ "$QUIET" = 1 ] || printf '%s\n' "$*"; }
warn() { printf 'aimo-install: %s\n' "$*" >&2; }
die() {
  warn "error: $*"
  return 1
}

usage() {
  cat <<'USAGE'
Install aimo, the signed local door to AI models.

usage: install.sh [options]
  --version X        install version X (default: the latest)
  --no-modify-path   do not add the install directory to your shell's rc file
  -y, --yes          answer every question with its default, without asking
  -q, --quiet        print errors only
  --uninstall        remove aimo and the PATH line this installer added
  -h, --help         show this help

environment:
  AIMO_DOWNLOAD_URL  where releases are (default: the project's release location);
                     any http(s):// or file:// URL
  AIMO_INSTALL_DIR   where the binary goes (default: ~/.aimo/bin)
USAGE
}

parse_args() {
  VERSION=""
  MODIFY_PATH=1
  YES=0
  QUIET=0
  ACTION=install
  while [ $# -gt 0 ]; do
    case "$1" in
      --version)
        [ $# -ge 2 ] || die "--version needs a value, e.g. --version 0.1.0" || return 1
        VERSION=$2
        shift
        ;;
      --version=*) VERSION=${1#--version=} ;;
      --no-modify-path) MODIFY_PATH=0 ;;
      -y | --yes) YES=1 ;;
      -q | --quiet) QUIET=1 ;;
      --uninstall) ACTION=uninstall ;;
      -h | --help) ACTION=help ;;
      *) die "unknown option '$1' (see --help)" || return 1 ;;
    esac
    shift
  done
}

detect_platform() {
  os=$(uname -s)
  case "$os" in
    Linux) OS=linux ;;
    *) die "aimo has builds for Linux only (x86_64, aarch64); this is $os" || return 1 ;;
  esac
  arch=$(uname -m)
  case "$arch" in
    x86_64 | amd64) ARCH=x86_64 ;;
    aarch64 | arm64) ARCH=aarch64 ;;
    *) die "aimo has builds for x86_64 and aarch64 only; this machine is $arch" || return 1 ;;
  esac
}

# fetch URL FILE: download with curl or wget, whichever exists; file:// works with both.
fetch() {
  case "$1" in
    file://*)
      cp "${1#file://}" "$2" 2>/dev/null || die "cannot read $1"
      return
      ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1" || die "download failed: $1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || die "download failed: $1"
  else
    die "neither curl nor wget is installed; install one of them and run this again"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "no sha256sum or shasum to verify the download with"
  fi
}

# ask QUESTION DEFAULT(y|n): the answer comes from the terminal, or is the default without one.
ask() {
  answer=$2
  if [ "$YES" = 0 ] && (: </dev/tty) 2>/dev/null; then
    printf '%s [%s] ' "$1" "$([ "$2" = y ] && echo Y/n || echo y/N)" >/dev/tty
    read -r reply </dev/tty || reply=""
    case "$reply" in
      [yY]*) answer=y ;;
      [nN]*) answer=n ;;
    esac
  fi
  [ "$answer" = y ]
}

rc_file() {
  case "$(basename "${SHELL:-sh}")" in
    bash) echo "$HOME/.bashrc" ;;
    zsh) echo "${ZDOTDIR:-$HOME}/.zshrc" ;;
    fish) echo "$HOME/.config/fish/config.fish" ;;
    *) echo "$HOME/.profile" ;;
  esac
}

path_line() {
  case "$1" in
    *config.fish) echo "fish_add_path \"$INSTALL_DIR\" $RC_MARKER" ;;
    *) echo "export PATH=\"$INSTALL_DIR:\$PATH\" $RC_MARKER" ;;
  esac
}

add_to_path() {
  rc=$(rc_file)
  if [ -f "$rc" ] && grep -F "$RC_MARKER" "$rc" >/dev/null 2>&1; then
    return 0
  fi
  ask "Add $INSTALL_DIR to PATH in $rc?" y || return 0
  mkdir -p "$(dirname "$rc")" || return 1
  line=$(path_line "$rc")
  printf '%s\n' "$line" >>"$rc" || die "cannot write $rc"
  say "Added $INSTALL_DIR to PATH in $rc"
}

install_aimo() {
  detect_platform || return 1
  base=${AIMO_DOWNLOAD_URL:-$AIMO_DEFAULT_DOWNLOAD_URL}
  base=${base%/}
  tmp=$(mktemp -d) || die "cannot create a temporary directory" || return 1
  trap 'rm -rf "$tmp"' EXIT
  if [ -z "$VERSION" ]; then
    fetch "$base/latest" "$tmp/latest" || return 1
    VERSION=$(tr -d ' \r\n' <"$tmp/latest")
    [ -n "$VERSION" ] || die "$base/latest is empty" || return 1
  fi
  name="aimo-$VERSION-$OS-$ARCH"
  say "Downloading $name from $base"
  fetch "$base/$name.tar.gz" "$tmp/$name.tar.gz" || return 1
  fetch "$base/$name.tar.gz.sha256" "$tmp/$name.tar.gz.sha256" || return 1
  expected=$(cut -d' ' -f1 <"$tmp/$name.tar.gz.sha256")
  actual=$(sha256_of "$tmp/$name.tar.gz") || return 1
  if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
    die "checksum mismatch for $name.tar.gz (expected $expected, got $actual); nothing was installed" || return 1
  fi
  tar -xzf "$tmp/$name.tar.gz" -C "$tmp" || die "cannot unpack $name.tar.gz" || return 1
  [ -x "$tmp/$name/bin/aimo" ] || die "$name.tar.gz has no bin/aimo" || return 1
  mkdir -p "$INSTALL_DIR" || die "cannot create $INSTALL_DIR" || return 1
  # Copy next to the target, then rename over it: a running aimo keeps its old file intact.
  cp "$tmp/$name/bin/aimo" "$INSTALL_DIR/.aimo.new.$$" || die "cannot write to $INSTALL_DIR" || return 1
  chmod 755 "$INSTALL_DIR/.aimo.new.$$"
  mv -f "$INSTALL_DIR/.aimo.new.$$" "$INSTALL_DIR/aimo" || die "cannot replace $INSTALL_DIR/aimo" || return 1
  say "Installed $INSTALL_DIR/aimo"

  if [ "$MODIFY_PATH" = 1 ]; then
    add_to_path || return 1
  fi
  if ! version=$("$INSTALL_DIR/aimo" --version 2>&1); then
    warn "aimo was installed but does not start: $version"
    warn "it needs Debian 12's runtime libraries: sudo apt-get install libcpp-httplib0.11 libsodium23 libfmt9 libtomlplusplus3 libssl3"
    return 1
  fi
  say "$version is ready."
  case ":$PATH:" in
    *":$INSTALL_DIR:"*) ;;
    *) say "To use it in this shell now, run: export PATH=\"$INSTALL_DIR:\$PATH\"" ;;
  esac
  say ""
  say "Next steps:"
  say "  aimo keygen               # create your keypair (your identity and wallet)"
  say "  aimo chat --serve         # start the local proxy on http://127.0.0.1:8080/v1"
  say "  aimo connect openclaw     # point OpenClaw at it"
}

uninstall_aimo() {
  if [ -e "$INSTALL_DIR/aimo" ]; then
    rm -f "$INSTALL_DIR/aimo" || die "cannot remove $INSTALL_DIR/aimo" || return 1
    say "Removed $INSTALL_DIR/aimo"
    rmdir "$INSTALL_DIR" 2>/dev/null || true
  else
    say "aimo is not installed in $INSTALL_DIR"
  fi
  for rc in "$HOME/.bashrc" "${ZDOTDIR:-$HOME}/.zshrc" "$HOME/.config/fish/config.fish" "$HOME/.profile"; do
    if [ -f "$rc" ] && grep -F "$RC_MARKER" "$rc" >/dev/null 2>&1; then
      grep -v -F "$RC_MARKER" "$rc" >"$rc.aimo-tmp.$$" || true
      # Rewrite in place so the file keeps its owner and permissions.
      cat "$rc.aimo-tmp.$$" >"$rc" && rm -f "$rc.aimo-tmp.$$"
      say "Removed the PATH line from $rc"
    fi
  done
}

main() {
  parse_args "$@" || return 1
  INSTALL_DIR=${AIMO_INSTALL_DIR:-$HOME/.aimo/bin}
  case "$ACTION" in
    help) usage ;;
    uninstall) uninstall_aimo ;;
    *) install_aimo ;;
  esac
}

main "$@" || exit 1
