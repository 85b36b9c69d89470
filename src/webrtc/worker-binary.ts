import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as MediasoupModule from 'mediasoup';

/** The mediasoup npm module's type (loaded dynamically: it reads MEDIASOUP_WORKER_BIN on load). */
export type Mediasoup = typeof MediasoupModule;

// src/webrtc (or dist/src/webrtc) -> repository root.
const repoRoot = (): string => {
  const here = import.meta.dirname;
  return here.includes(`${join('dist', 'src')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
};

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pinned worker version from native/mediasoup/VERSION, if the file is there. */
export function nativeWorkerVersion(root = repoRoot()): string | undefined {
  try {
    return readFileSync(join(root, 'native', 'mediasoup', 'VERSION'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the mediasoup-worker binary is, resolved as scripts/test.sh does: $MEDIASOUP_WORKER_BIN,
 * else the native cache (${SHOWCASE_NATIVE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/showcase-native}/<version>),
 * else native/mediasoup/out/<version>; undefined when none exists.
 */
export function resolveWorkerBinary(env: NodeJS.ProcessEnv = process.env, root = repoRoot()): string | undefined {
  if (env.MEDIASOUP_WORKER_BIN) return env.MEDIASOUP_WORKER_BIN;
  const version = nativeWorkerVersion(root);
  if (!version) return undefined;
  const cache = env.SHOWCASE_NATIVE_CACHE || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'showcase-native');
  for (const bin of [join(cache, version, 'mediasoup-worker'), join(root, 'native', 'mediasoup', 'out', version, 'mediasoup-worker')]) {
    if (executable(bin)) return bin;
  }
  return undefined;
}

let loaded: Promise<Mediasoup> | undefined;

/**
 * Imports mediasoup once, after pointing MEDIASOUP_WORKER_BIN at the resolved binary (the module
 * reads the variable when it first loads, so a static import would be too early).
 */
export function loadMediasoup(env: NodeJS.ProcessEnv = process.env): Promise<Mediasoup> {
  loaded ??= (async () => {
    const bin = resolveWorkerBinary(env);
    if (!bin) throw new Error('mediasoup-worker not found: set MEDIASOUP_WORKER_BIN or build it (bash native/mediasoup/build.sh)');
    process.env.MEDIASOUP_WORKER_BIN ??= bin;
    const specifier: string = 'mediasoup';
    const mod = (await import(specifier)) as Mediasoup & { default?: Mediasoup };
    return mod.default ?? mod;
  })().catch((err: unknown) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}
