#!/usr/bin/env bash
# Installs everything Showcase needs on a fresh Debian (bookworm) machine, idempotently:
#   1. Debian packages (ffmpeg for transcoding and tests; chromium for the browser tests;
#      python3-aiortc and iproute2 for the non-browser and network-namespace WebRTC tests),
#   2. the Node runtime (the machine's node if >= 22, else the pinned Node 24 LTS from the npm
#      registry, see scripts/runtime.sh) and npm dependencies built against it (npm ci, skipped
#      when package-lock.json and the runtime have not changed),
#   3. native parts under native/ (the mediasoup worker, cached by version),
#   4. the TypeScript build (dist/).
# Run as root (or with sudo available). Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# python3-aiortc: the non-browser WHIP/WHEP client of the tests (test/clients/); iproute2: ip netns
# for the test that publishes from a network namespace of its own (another host, no loopback).
# postgresql: the PostgreSQL store's tests run a throwaway cluster of their own (test/helpers/postgres.ts).
# redis-server, haproxy: the cluster tests start their own Redis (test/helpers/redis.ts) and load balancer.
# gcc, libc6-dev: the room fan-out addon (native/room-fanout, built by npm run build: scripts/build-native.mjs).
APT_PACKAGES=(ffmpeg gcc libc6-dev chromium fonts-dejavu-core ca-certificates python3-aiortc python3-numpy iproute2 postgresql redis-server haproxy)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  # No service may start during the install (Debian's postgresql would start its "main" cluster):
  # nothing here depends on a system service, and the tests start their own PostgreSQL.
  policy_added=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 0755 /usr/sbin/policy-rc.d
    policy_added=1
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$policy_added" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
else
  echo "setup: Debian packages present"
fi
# The tests run PostgreSQL as this unprivileged system user (postgres refuses to run as root).
if ! id -u showcase-pg >/dev/null 2>&1; then
  $SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin showcase-pg
  echo "setup: created system user showcase-pg (runs the tests' PostgreSQL)"
fi

# promtool (from Debian's prometheus package) checks /metrics in the tests. Only the binary is
# unpacked into the cache: installing the package would also install and start a Prometheus server.
TOOLS_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/showcase-tools"
if [ ! -x "$TOOLS_CACHE/promtool" ]; then
  echo "setup: fetching promtool from Debian's prometheus package"
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download prometheus >/dev/null 2>&1; })
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p "$TOOLS_CACHE"
  install -m 0755 "$tmp/x/usr/bin/promtool" "$TOOLS_CACHE/promtool"
  rm -rf "$tmp"
fi

# nginx with nginx-rtmp, for bench/rtmp-ingest's side-by-side figure only: the binary and the
# module are unpacked from Debian's packages into the cache, like promtool (installing them would
# start an nginx service on port 80). Best effort: the server and the tests do not need it.
if [ ! -x "$TOOLS_CACHE/nginx/usr/sbin/nginx" ] || [ ! -f "$TOOLS_CACHE/nginx/usr/lib/nginx/modules/ngx_rtmp_module.so" ]; then
  echo "setup: fetching nginx and nginx-rtmp (benchmark comparison) from Debian's packages"
  tmp="$(mktemp -d)"
  if (cd "$tmp" && { apt-get download nginx libnginx-mod-rtmp >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download nginx libnginx-mod-rtmp >/dev/null 2>&1; }; }); then
    rm -rf "$TOOLS_CACHE/nginx"
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$TOOLS_CACHE/nginx"; done
  else
    echo "setup: warning: could not fetch nginx-rtmp; bench/rtmp-ingest will print its figure without the comparison"
  fi
  rm -rf "$tmp"
fi

# The mediasoup worker is built from source against Debian's libraries (native/README.md);
# npm must not try to download or build it itself.
# The worker is cached outside the checkout (keyed by version and patches), so fresh clones reuse it.
export SHOWCASE_NATIVE_CACHE="${SHOWCASE_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/showcase-native}"
if [ -f native/mediasoup/build.sh ]; then
  MEDIASOUP_WORKER_BIN="$(bash native/mediasoup/build.sh | tail -n 1)"
  export MEDIASOUP_WORKER_BIN
  echo "setup: mediasoup worker at $MEDIASOUP_WORKER_BIN"
fi

# Node: everything below (npm's install scripts, node-gyp, the build, the server, the tests) runs
# on the runtime chosen here; native addons are compiled against its own headers.
NODE_BIN="$(bash scripts/runtime.sh --provision)"
NODE_DIR="$(dirname "$NODE_BIN")"
export PATH="$NODE_DIR:$PATH"
export npm_config_nodedir="$(bash scripts/runtime.sh --nodedir)"
echo "setup: Node $("$NODE_BIN" --version) at $NODE_BIN"

stamp="node_modules/.showcase-lock-hash"
hash="$(sha256sum package-lock.json | cut -d' ' -f1)-$("$NODE_BIN" --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  echo "setup: npm dependencies up to date"
else
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > "$stamp"
fi
# A native addon built for another Node (NODE_MODULE_VERSION) would only fail at the first
# request; fail here instead, saying what to do.
if ! err="$("$NODE_BIN" -e "new (require('better-sqlite3'))(':memory:').close()" 2>&1)"; then
  echo "setup: ERROR: better-sqlite3 does not load on Node $("$NODE_BIN" --version) ($NODE_BIN):" >&2
  echo "$err" | grep -m1 -E 'NODE_MODULE_VERSION|Error' >&2 || true
  echo "setup: remove node_modules and run scripts/setup.sh again to rebuild it for this runtime" >&2
  rm -f "$stamp"
  exit 1
fi

echo "setup: building (TypeScript and the watch page bundle)"
npm run build --silent
echo "setup: done"
