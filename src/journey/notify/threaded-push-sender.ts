import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import type { PushSubscriptionRecord } from '../../store/notify-types.js';
import type { PushResult, PushSenderOptions } from './push-sender.js';
import type { PushThreadRequest } from './push-sender-thread.js';

/** What a fan-out sends through: PushSender itself, or this. */
export interface PushSending {
  send(sub: PushSubscriptionRecord, payload: string, signal?: AbortSignal): Promise<PushResult>;
}

/**
 * PushSender on a worker thread (push-sender-thread.ts): the same send(), with the encryption and
 * the request off the main event loop. Requests in flight are bounded by the caller (the fan-out's
 * lanes); each is answered once. If the thread dies, what it held answers 'retry' and the next
 * send starts a new one. close() ends the thread; sends after it answer 'retry'.
 */
export class ThreadedPushSender implements PushSending {
  readonly #opts: PushSenderOptions;
  readonly #log: Logger;
  readonly #pending = new Map<number, (r: PushResult) => void>();
  #worker?: Worker;
  #next = 1;
  #closed = false;

  constructor(opts: PushSenderOptions, logger: Logger) {
    this.#opts = opts;
    this.#log = logger;
  }

  send(sub: PushSubscriptionRecord, payload: string, signal?: AbortSignal): Promise<PushResult> {
    if (this.#closed || signal?.aborted) return Promise.resolve({ kind: 'retry', error: 'push sender closed' });
    const w = this.#thread();
    const id = this.#next++;
    return new Promise<PushResult>((resolve) => {
      const onAbort = () => this.#settle(id, { kind: 'retry', error: 'aborted' });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, (r) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      });
      const req: PushThreadRequest = { id, sub, payload };
      w.postMessage(req);
    });
  }

  /** The push thread's V8 heap in use (bytes), 0 when no thread runs (the bench samples it). */
  async threadHeapUsed(): Promise<number> {
    const w = this.#worker;
    return w ? (await w.getHeapStatistics()).used_heap_size : 0;
  }

  /** Ends the thread; what it still held answers 'retry'. */
  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#worker;
    this.#worker = undefined;
    this.#failAll('push sender closed');
    await w?.terminate();
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    // Under the TypeScript test loader this file is .ts, built it is .js: the thread's file follows.
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const w = new Worker(new URL(`./push-sender-thread.${ext}`, import.meta.url), { workerData: this.#opts });
    w.unref();
    w.on('message', (m: { id: number; result: PushResult }) => this.#settle(m.id, m.result));
    w.on('error', (err) => this.#log.error({ err }, 'push sender thread failed: a new one starts with the next message'));
    w.on('exit', () => {
      if (this.#worker === w) this.#worker = undefined;
      this.#failAll('push sender thread exited');
    });
    this.#worker = w;
    return w;
  }

  #settle(id: number, r: PushResult): void {
    const done = this.#pending.get(id);
    if (!done) return;
    this.#pending.delete(id);
    done(r);
  }

  #failAll(error: string): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, { kind: 'retry', error });
  }
}
