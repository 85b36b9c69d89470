#!/usr/bin/env bash
# The whole test suite: type-check and build (e2e tests spawn the built server), run every tap test
# with TAP output, and end with the "N passed, N failed" line counted from that output.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f native/mediasoup/VERSION ] && [ -z "${MEDIASOUP_WORKER_BIN:-}" ]; then
  v="$(cat native/mediasoup/VERSION)"
  cache="${SHOWCASE_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/showcase-native}"
  for bin in "$cache/$v/mediasoup-worker" "$PWD/native/mediasoup/out/$v/mediasoup-worker"; do
    if [ -x "$bin" ]; then export MEDIASOUP_WORKER_BIN="$bin"; break; fi
  done
fi
# Everything runs on Showcase's runtime (scripts/runtime.sh): tap and the processes it spawns
# find it first on PATH.
NODE_BIN="$(bash scripts/runtime.sh --print)" || { echo "0 passed, 1 failed"; exit 1; }
export PATH="$(dirname "$NODE_BIN"):$PATH"
echo "# Node $("$NODE_BIN" --version) ($NODE_BIN)"
npm run build --silent || { echo "0 passed, 1 failed"; exit 1; }
npx tap --reporter=tap "$@" 2>&1 | node scripts/tap-summary.mjs
