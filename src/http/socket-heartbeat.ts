import type { WebSocket } from 'ws';

/** What a heartbeat knows of one socket: whether it spoke since the last ping, and whom to tell when it fell silent. */
interface Beat {
  alive: boolean;
  onSilent: () => void;
  ping: () => void;
}

/**
 * One ping timer for every socket of a server (room and signaling share it): each tick pings the
 * sockets that answered since the last one, and terminates those that did not (a pong or any frame
 * counts as an answer). The timer runs only while it holds sockets, and never keeps the process up.
 */
export class SocketHeartbeat {
  readonly #intervalMs: number;
  readonly #beats = new Map<WebSocket, Beat>();
  #timer?: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Sockets watched now. */
  get size(): number {
    return this.#beats.size;
  }

  /**
   * Watches a socket; onSilent runs (after terminate, before its 'close' event) when it missed a
   * ping. ping sends one (default ws.ping(); the room server's waits for a flush writing to the socket).
   */
  add(ws: WebSocket, onSilent: () => void, ping: () => void = () => ws.ping()): void {
    const beat: Beat = { alive: true, onSilent, ping };
    const answered = (): void => { beat.alive = true; };
    ws.on('pong', answered);
    ws.on('message', answered);
    ws.once('close', () => this.delete(ws));
    this.#beats.set(ws, beat);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Stops watching a socket (it closed); the timer stops with the last one. */
  delete(ws: WebSocket): void {
    if (!this.#beats.delete(ws) || this.#beats.size > 0 || !this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and forgets every socket (server shutdown). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#beats.clear();
  }

  #tick(): void {
    for (const [ws, beat] of [...this.#beats]) {
      if (!beat.alive) {
        this.delete(ws);
        ws.terminate();
        // terminate() emits 'close' later; the owner releases what the socket holds now.
        beat.onSilent();
        continue;
      }
      beat.alive = false;
      beat.ping();
    }
  }
}

/**
 * Closes sockets with 1001 and waits for their close handshakes at most graceMs, then terminates
 * the ones still open (the shutdown both socket servers share).
 */
export async function closeSockets(sockets: readonly WebSocket[], graceMs = 1000): Promise<void> {
  const gone = sockets.map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    ws.once('close', () => resolve());
  }));
  for (const ws of sockets) ws.close(1001, 'server stopping');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(gone), new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
  if (timer) clearTimeout(timer);
  for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
}
