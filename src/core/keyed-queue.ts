/**
 * Runs async work one job at a time per key, in the order it was queued, across keys in parallel:
 * how store writes made from the media path (state changes, recording progress, analytics) keep
 * their order without anyone awaiting them. Holds an entry only while a key has work queued, so it
 * is bounded by the keys with work in flight.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }

  /** Runs fn after the key's earlier work (whether that succeeded or not); resolves or rejects with fn's outcome. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const result = prev.then(fn);
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when no work is queued for any key (including work queued while waiting). */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.allSettled([...this.#tails.values()]);
  }
}
