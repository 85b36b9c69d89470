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
# One throwaway PostgreSQL for the whole run (test/helpers/postgres.ts): the PostgreSQL store tests
# each create a database on it. Stopped and deleted on exit, whatever happens.
if [ -z "${SHOWCASE_TEST_PG_URL:-}" ]; then
  if pg_env="$(node test/helpers/postgres.ts start)"; then
    export SHOWCASE_TEST_PG_URL="$(printf '%s\n' "$pg_env" | sed -n 's/^SHOWCASE_TEST_PG_URL=//p')"
    SHOWCASE_TEST_PG_DIR="$(printf '%s\n' "$pg_env" | sed -n 's/^SHOWCASE_TEST_PG_DIR=//p')"
    trap 'node test/helpers/postgres.ts stop "$SHOWCASE_TEST_PG_DIR" >/dev/null 2>&1 || true' EXIT
    echo "# PostgreSQL for the store tests at $SHOWCASE_TEST_PG_URL"
  else
    echo "# could not start a PostgreSQL cluster: each PostgreSQL test file tries its own (and fails if that fails too)"
  fi
fi
npx tap --reporter=tap "$@" 2>&1 | node scripts/tap-summary.mjs
