#!/usr/bin/env bash
# The whole test suite: type-check and build (e2e tests spawn the built server), run every tap test
# with TAP output, and end with the "N passed, N failed" line counted from that output.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f native/mediasoup/VERSION ] && [ -z "${MEDIASOUP_WORKER_BIN:-}" ]; then
  bin="native/mediasoup/out/$(cat native/mediasoup/VERSION)/mediasoup-worker"
  [ -x "$bin" ] && export MEDIASOUP_WORKER_BIN="$PWD/$bin"
fi
npm run build --silent || { echo "0 passed, 1 failed"; exit 1; }
npx tap --reporter=tap "$@" 2>&1 | node scripts/tap-summary.mjs
