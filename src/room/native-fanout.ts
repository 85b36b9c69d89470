import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { projectRoot } from '../core/project-root.js';

/**
 * The room fan-out addon (native/room-fanout/room-fanout.c, built by scripts/build-native.mjs into
 * dist/native/room-fanout.node): one buffer written to many sockets by native threads, off the
 * event loop and on several cores. See RoomServer's #flushNative for the rules that make writing
 * beside libuv sound (no fd closed in flight, nothing queued in libuv, nothing else written meanwhile).
 */
export interface NativeFanout {
  /**
   * Sends data[offsets[i]..] once to each fds[i] (non-blocking): out[i] is the bytes sent (0 when
   * the socket's buffer is full) or -errno. Resolves with the writing threads' CPU time (µs).
   */
  write(fds: Int32Array, offsets: Int32Array, data: Uint8Array, out: Int32Array, threads: number): Promise<number>;
}

let loaded: { addon: NativeFanout | null; why: string } | undefined;

/** dist/native/room-fanout.node under the project root, whether this module runs from src/ or dist/src/. */
export function nativeFanoutPath(): string {
  return join(projectRoot(), 'dist', 'native', 'room-fanout.node');
}

/** The addon, loaded once; null (and why) where it is not built or does not load. */
export function loadNativeFanout(): { addon: NativeFanout | null; why: string } {
  if (loaded) return loaded;
  const path = process.env.SHOWCASE_ROOM_FANOUT_ADDON || nativeFanoutPath();
  if (process.platform !== 'linux') return (loaded = { addon: null, why: `not on Linux (${process.platform})` });
  if (!existsSync(path)) return (loaded = { addon: null, why: `${path} is not built (npm run build)` });
  try {
    const addon = createRequire(import.meta.url)(path) as NativeFanout;
    if (typeof addon.write !== 'function') {
      return (loaded = { addon: null, why: `${path} is not the room fan-out addon` });
    }
    return (loaded = { addon, why: 'loaded' });
  } catch (err) {
    return (loaded = { addon: null, why: `${path} did not load: ${(err as Error).message}` });
  }
}

/**
 * A TCP socket's fd, kept open while a native flight writes to it: while `busy`, the close (or
 * reset) its libuv handle is asked for waits, and happens at land(). Without this a socket destroyed
 * mid-flight (the peer gone, a terminate) would free its fd number, the next accept could take it,
 * and the flight would write room frames to another connection. It wraps the handle's own close
 * and reset (Node's net.Socket calls them from destroy, then drops the handle: nothing else reads it).
 */
export interface FlightGuard {
  readonly fd: number;
  busy: boolean;
  /** The flight is done: a close asked for meanwhile happens now. */
  land(): void;
}

type Handle = { fd?: unknown; close?: (...a: unknown[]) => unknown; reset?: (...a: unknown[]) => unknown };

/** The guard of a TCP socket (net.Socket over a libuv TCP handle), or null: not one (the JavaScript path writes it). */
export function guardSocket(socket: Duplex): FlightGuard | null {
  const h = (socket as unknown as { _handle?: Handle | null })._handle;
  const fd = socketFd(socket);
  if (!h || fd < 0 || typeof h.close !== 'function') return null;
  let held: (() => void) | null = null;
  const guard: FlightGuard = {
    fd,
    busy: false,
    land() {
      guard.busy = false;
      const close = held;
      held = null;
      close?.();
    },
  };
  for (const name of ['close', 'reset'] as const) {
    const own = h[name];
    if (typeof own !== 'function') continue;
    h[name] = (...args: unknown[]): unknown => {
      if (!guard.busy) return own.apply(h, args);
      held = () => void own.apply(h, args);
      return 0;
    };
  }
  return guard;
}

/** The file descriptor under a TCP socket (its libuv handle's), or -1 (not a socket with one). */
export function socketFd(socket: Duplex): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : -1;
}
