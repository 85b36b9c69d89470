#!/usr/bin/env bash
# Builds the mediasoup C++ worker from the npm tarball against Debian's
# libraries, once per (version, changes, platform), and caches the binary.
#
#   bash native/mediasoup/build.sh        # prints the absolute binary path last
#
# Progress goes to stderr; stdout is only the binary path, so
#   MEDIASOUP_WORKER_BIN="$(bash native/mediasoup/build.sh)"
# works. Idempotent: a cache hit takes well under a second and needs no network.
#
# Environment:
#   SHOWCASE_NATIVE_CACHE  out dir (default native/mediasoup/out); the binary is
#                          $SHOWCASE_NATIVE_CACHE/<version>/mediasoup-worker
#   SHOWCASE_NATIVE_JOBS   compile jobs (default 2)
# See native/README.md.
set -euo pipefail

# Everything is in main(), parsed before anything runs: editing or checking out
# this file while a build is compiling cannot change what the running build does.
main() {
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(tr -d '[:space:]' <"$here/VERSION")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build.sh: bad VERSION '$version'" >&2; exit 1; }

out_root="${SHOWCASE_NATIVE_CACHE:-$here/out}"
mkdir -p "$out_root"
out_root="$(cd "$out_root" && pwd)"
out_dir="$out_root/$version"
bin="$out_dir/mediasoup-worker"
stamp="$out_dir/stamp"
src_dir="$here/src/mediasoup-$version"
build_dir="$here/build/$version"
jobs="${SHOWCASE_NATIVE_JOBS:-2}"

deb_deps=(meson ninja-build pkg-config g++ libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev
  libabsl-dev libflatbuffers-dev flatbuffers-compiler)
meson_opts=(--buildtype release -Db_ndebug=true -Dms_disable_liburing=true)

log() { printf 'mediasoup-worker: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

integrity="$(awk -v v="$version" '$1 == v { print $2 }' "$here/INTEGRITY")"
[[ -n "$integrity" ]] || die "no tarball integrity for $version in $here/INTEGRITY (add: npm view mediasoup@$version dist.integrity)"

# Cache key: everything that changes the binary. The changes are hashed by
# content (patches/ and compat/), the platform because the binary links
# Debian's shared libraries dynamically.
platform="$(uname -m) $(. /etc/os-release && echo "${ID:-unknown}-${VERSION_ID:-unknown}")"
changes_hash="$(cd "$here" && find patches compat -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
key="$(printf '%s\n' "mediasoup=$version" "integrity=$integrity" "changes=$changes_hash" \
  "meson=${meson_opts[*]}" "platform=$platform" | sha256sum | cut -d' ' -f1)"

deps_missing() {
  local p status
  for p in "${deb_deps[@]}"; do
    # Captured, not piped into grep -q: no SIGPIPE false negatives under pipefail.
    status="$(dpkg -s "$p" 2>/dev/null || true)"
    [[ "$status" == *$'\nStatus: install ok installed'* ]] || printf '%s\n' "$p"
  done
}

ensure_deps() {
  local missing
  mapfile -t missing < <(deps_missing)
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "missing Debian packages (${missing[*]}) and not root"
    sudo=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The worker exits with 41 when started without MEDIASOUP_VERSION (i.e. not by
# the Node library): that proves it loads (shared libraries resolve) and runs.
worker_runs() {
  local rc=0
  env -u MEDIASOUP_VERSION "$1" >/dev/null 2>&1 </dev/null || rc=$?
  ((rc == 41))
}

cache_hit() {
  [[ -f "$bin" && -x "$bin" && -f "$stamp" ]] && grep -qx "key=$key" "$stamp"
}

mkdir -p "$out_dir"
exec 9>"$out_dir/.lock"
flock 9 # one build per out dir at a time; the others wait and then hit the cache

if cache_hit; then
  if ! worker_runs "$bin"; then
    # A restored CI cache on a fresh machine lacks the runtime libraries.
    log "cached binary does not start; checking Debian packages"
    ensure_deps
  fi
  if worker_runs "$bin"; then
    log "cached ($out_dir)"
    printf '%s\n' "$bin"
    exit 0
  fi
  log "cached binary still does not start; rebuilding"
fi

started=$SECONDS
ensure_deps

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Source: reused only if it was prepared with the same key (this resumes an
# interrupted compile); otherwise extracted fresh so changes apply to pristine text.
if [[ -f "$src_dir/.showcase-key" && "$(cat "$src_dir/.showcase-key")" == "$key" && -d "$build_dir" ]]; then
  log "reusing prepared source $src_dir"
else
  rm -rf "$src_dir" "$build_dir"
  log "fetching mediasoup@$version from the npm registry"
  (cd "$tmp" && npm pack "mediasoup@$version" --pack-destination "$tmp" --silent >/dev/null)
  tgz="$tmp/mediasoup-$version.tgz"
  [[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
  got="$(node -e 'const c = require("crypto"), f = require("fs");
    console.log("sha512-" + c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"));' "$tgz")"
  [[ "$got" == "$integrity" ]] || die "tarball integrity mismatch: got $got, pinned $integrity"
  mkdir -p "$tmp/x" "$here/src"
  tar -xzf "$tgz" -C "$tmp/x"
  log "applying changes (patches/apply.mjs)"
  node "$here/patches/apply.mjs" "$tmp/x/package" >&2
  printf '%s\n' "$key" >"$tmp/x/package/.showcase-key"
  mv "$tmp/x/package" "$src_dir"
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
  rm -rf "$build_dir"
  mkdir -p "$(dirname "$build_dir")"
  meson setup "${meson_opts[@]}" "$build_dir" "$src_dir/worker" >&2
fi
# Nothing else depends on the generated FBS/ headers, so generate them first.
meson compile -C "$build_dir" flatbuffers-generator >&2
log "compiling with $jobs jobs (takes minutes)"
meson compile -C "$build_dir" -j "$jobs" mediasoup-worker >&2

strip -o "$out_dir/.mediasoup-worker.tmp" "$build_dir/mediasoup-worker"
chmod 755 "$out_dir/.mediasoup-worker.tmp"
worker_runs "$out_dir/.mediasoup-worker.tmp" || die "built binary does not start"
mv -f "$out_dir/.mediasoup-worker.tmp" "$bin"
printf '%s\n' "version=$version" "key=$key" "platform=$platform" \
  "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "build_seconds=$((SECONDS - started))" >"$out_dir/.stamp.tmp"
mv -f "$out_dir/.stamp.tmp" "$stamp"
log "built in $((SECONDS - started))s: $(du -h "$bin" | cut -f1) at $bin"
printf '%s\n' "$bin"
}

main "$@"
