/**
 * Coalesces socket reads of publishing RTMP connections. A publisher sends each frame as its own
 * burst, so Node wakes up, allocates a Buffer and runs its per-read machinery (a native callback, a
 * Readable push, a nextTick) about 77 times per stream-second (30 video frames, ~47 AAC frames): that
 * per-read cost, not parsing, is what made our ingest cost twice nginx-rtmp's CPU (bench/rtmp-ingest;
 * a CPU profile shows almost no JavaScript). After a read, a held socket's handle stops reading and
 * one shared timer starts them all again, so the kernel queues what arrives meanwhile and the next
 * wakeup reads it in one go, for every held socket in the same epoll wakeup. A byte waits at most
 * holdMs longer than it would have (the default is under one frame at 30 fps).
 *
 * Why the handle: net.Socket's public pause() only stops the stream, not the handle (without the
 * `onread` option, which net.Server cannot give accepted sockets), so the socket would still be read
 * once per burst into the stream's buffer. Stopping the libuv handle is the only way to let the kernel
 * queue. `reading` is left true so the stream's own _read does not restart it behind our back; the
 * test test/unit/rtmp-read-coalescer.test.ts fails if a Node upgrade changes this.
 */
import type { Socket } from 'node:net';

/** The part of net.Socket's libuv handle (an internal of Node) this uses. */
interface ReadableHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

function handleOf(socket: Socket): ReadableHandle | undefined {
  const h = (socket as unknown as { _handle?: Partial<ReadableHandle> | null })._handle;
  return h && typeof h.readStart === 'function' && typeof h.readStop === 'function' ? (h as ReadableHandle) : undefined;
}

/** One shared hold timer for a server's publishing sockets. */
export class ReadCoalescer {
  readonly #held = new Map<Socket, ReadableHandle>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #holds = 0;

  /** @param holdMs how long a held socket stops reading at most; 0 disables coalescing. */
  constructor(readonly holdMs: number) {}

  /** How many times a socket was held (for tests and benches). */
  get holds(): number {
    return this.#holds;
  }

  /** Stops a socket that just delivered data from reading until the next shared tick. */
  hold(socket: Socket): void {
    if (this.holdMs <= 0 || this.#closed || socket.destroyed || this.#held.has(socket)) return;
    const h = handleOf(socket);
    if (!h?.reading || h.readStop() !== 0) return;
    this.#held.set(socket, h);
    this.#holds++;
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.#release(), this.holdMs);
      this.#timer.unref();
    }
  }

  /** Forgets a socket that is closing (its handle is closed with it). */
  forget(socket: Socket): void {
    this.#held.delete(socket);
  }

  /** Restarts every held socket and stops holding new ones. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#release();
  }

  #release(): void {
    this.#timer = undefined;
    const held = [...this.#held];
    this.#held.clear();
    for (const [socket, h] of held) {
      // The same handle still owned by a live socket: restart it (a failure is a dead socket).
      if (socket.destroyed || handleOf(socket) !== h || !h.reading) continue;
      if (h.readStart() !== 0) socket.destroy();
    }
  }
}
