/// <reference lib="dom" />
/**
 * The browser side of the WebSocket signaling (/v1/signal): one request at a time per call, each
 * matched to its reply by id, with a deadline so a lost reply cannot hang the page. Replies with
 * ok:false reject with a SignalError carrying the server's code; notices go to onNotice.
 */

/** A coded refusal from the server (or a local failure: SHOWCASE_ERR_SIGNAL_LOST). */
export class SignalError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'SignalError';
    this.code = code;
    this.details = details;
  }
}

/** A notice the server sends on its own: what this socket joined went away. */
export interface SignalNotice {
  notice: 'closed';
  code: string;
  reason: string;
}

interface Pending {
  resolve(data: Record<string, unknown>): void;
  reject(err: Error): void;
  timer: number;
}

/** The signaling URL on the page's own host (ws: for http pages, wss: for https). */
export function signalUrl(path = '/v1/signal'): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

export class SignalClient {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  #seq = 1;
  #closed = false;
  /** Called for each notice; and once, with a reason, when the socket closes. */
  onNotice: (n: SignalNotice) => void = () => {};
  onClose: (reason: string) => void = () => {};

  private constructor(ws: WebSocket, timeoutMs: number) {
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
    ws.onmessage = (e) => this.#onMessage(e.data);
    ws.onclose = (e) => this.#onClosed(`signaling closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
  }

  /** Opens the socket; rejects if it does not open within timeoutMs. */
  static open(url = signalUrl(), timeoutMs = 10_000): Promise<SignalClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = window.setTimeout(() => { ws.close(); reject(new SignalError('SHOWCASE_ERR_SIGNAL_LOST', 'could not reach the server')); }, timeoutMs);
      ws.onopen = () => { window.clearTimeout(timer); resolve(new SignalClient(ws, timeoutMs)); };
      ws.onerror = () => { window.clearTimeout(timer); reject(new SignalError('SHOWCASE_ERR_SIGNAL_LOST', 'could not reach the server')); };
    });
  }

  /** Sends a request and resolves with its reply's data. */
  request<T = Record<string, unknown>>(type: string, fields: Record<string, unknown> = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new SignalError('SHOWCASE_ERR_SIGNAL_LOST', 'the signaling socket is closed'));
    const id = this.#seq++;
    return new Promise<T>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.#pending.delete(id);
        reject(new SignalError('SHOWCASE_ERR_SIGNAL_LOST', `no answer to ${type}`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve: resolve as Pending['resolve'], reject, timer });
      this.#ws.send(JSON.stringify({ id, type, ...fields }));
    });
  }

  /** Closes the socket (pending requests reject). */
  close(): void {
    if (!this.#closed) this.#ws.close(1000, 'bye');
    this.#onClosed('closed by the page');
  }

  #onMessage(data: unknown): void {
    let m: { id?: number | null; ok?: boolean; data?: Record<string, unknown>; error?: { code: string; message: string; details?: Record<string, unknown> }; notice?: string };
    try {
      m = JSON.parse(String(data));
    } catch {
      return;
    }
    if (m.notice) return this.onNotice(m as unknown as SignalNotice);
    const p = typeof m.id === 'number' ? this.#pending.get(m.id) : undefined;
    if (!p) return;
    this.#pending.delete(m.id as number);
    window.clearTimeout(p.timer);
    if (m.ok) p.resolve(m.data ?? {});
    else p.reject(new SignalError(m.error?.code ?? 'SHOWCASE_ERR_INTERNAL', m.error?.message ?? 'refused', m.error?.details));
  }

  #onClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      window.clearTimeout(p.timer);
      p.reject(new SignalError('SHOWCASE_ERR_SIGNAL_LOST', reason));
    }
    this.#pending.clear();
    this.onClose(reason);
  }
}
