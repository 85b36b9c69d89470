/// <reference lib="dom" />
/**
 * The watch page's room socket (/v1/streams/:id/room): sends the shopper's token only in the
 * first (auth) frame, never in the URL; reconnects with a bounded backoff; hands every server
 * frame to onFrame. History on each (re)connect is de-duplicated by the chat panel (message ids).
 */

/** A frame the room server sends (see README "The room"). */
export type RoomFrame = { type: string; [k: string]: unknown };

export interface ChatSocketOptions {
  url: string;
  /** The token sent in the auth frame, read at each connect (undefined: a reader). */
  token: () => string | undefined;
  onFrame: (f: RoomFrame) => void;
  onOpen?: () => void;
}

const MAX_BACKOFF_MS = 15_000;

/** One room socket that stays connected until stop(). */
export class ChatSocket {
  #ws?: WebSocket;
  #stopped = true;
  #attempt = 0;
  #timer?: number;

  constructor(private readonly o: ChatSocketOptions) {}

  /** Connects (again after stop()). */
  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /** Reconnects now, e.g. to authenticate with a new token. */
  restart(): void {
    this.#ws?.close();
    this.#ws = undefined;
    this.#connect();
  }

  /** Closes for good. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#ws?.close();
    this.#ws = undefined;
  }

  /** Sends a frame when open; false when it could not be sent. */
  send(frame: object): boolean {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  #connect(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const ws = new WebSocket(this.o.url);
    this.#ws = ws;
    ws.addEventListener('open', () => {
      this.#attempt = 0;
      const token = this.o.token();
      if (token) ws.send(JSON.stringify({ type: 'auth', token }));
      this.o.onOpen?.();
    });
    ws.addEventListener('message', (e) => {
      if (typeof e.data !== 'string') return;
      try {
        const f = JSON.parse(e.data) as RoomFrame;
        if (f && typeof f.type === 'string') this.o.onFrame(f);
      } catch {
        /* not JSON: ignored */
      }
    });
    ws.addEventListener('close', () => {
      if (this.#ws !== ws || this.#stopped) return;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
      this.#timer = window.setTimeout(() => this.#connect(), delay);
    });
  }
}
