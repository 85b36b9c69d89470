/** A server-wide cap on requests held open by blocking playlist reloads and hinted-part requests. */
export class BlockingBudget {
  inFlight = 0;
  rejected = 0;
  constructor(readonly max: number) {}
}

interface Waiter {
  ready: () => boolean;
  resolve: (r: WaitResult) => void;
  timer: NodeJS.Timeout;
}

export type WaitResult = 'ready' | 'timeout' | 'closed' | 'overloaded';

/**
 * Holds requests until a condition on the timeline becomes true (a part or segment appears),
 * a deadline passes, or the stream closes. Bounded by a shared BlockingBudget: past it a request
 * is answered 'overloaded' at once rather than queued without limit.
 */
export class BlockingWaiter {
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  constructor(private readonly budget: BlockingBudget) {}

  /** Resolves 'ready' as soon as ready() holds (checked now and on every notify()). */
  wait(ready: () => boolean, timeoutMs: number): Promise<WaitResult> {
    if (ready()) return Promise.resolve('ready');
    if (this.#closed) return Promise.resolve('closed');
    if (this.budget.inFlight >= this.budget.max) {
      this.budget.rejected++;
      return Promise.resolve('overloaded');
    }
    this.budget.inFlight++;
    return new Promise<WaitResult>((resolve) => {
      const w: Waiter = {
        ready,
        resolve: (r) => {
          clearTimeout(w.timer);
          if (this.#waiters.delete(w)) this.budget.inFlight--;
          resolve(r);
        },
        timer: setTimeout(() => w.resolve('timeout'), timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  /** Re-checks every held request; called when the timeline changes. */
  notify(): void {
    for (const w of [...this.#waiters]) {
      let ok: boolean;
      try {
        ok = w.ready();
      } catch {
        ok = true;
      }
      if (ok) w.resolve('ready');
    }
  }

  /** Requests currently held. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Releases every held request with 'closed'; later waits resolve at once. */
  close(): void {
    this.#closed = true;
    for (const w of [...this.#waiters]) w.resolve('closed');
  }
}
