/**
 * Token buckets keyed by a server-made key (a stream id): a burst of `rate` calls, refilled at
 * `rate` per second. At most maxKeys buckets are held; past it the least recently used goes (a
 * forgotten bucket is full again, which only ever admits more, never blocks a stream for good).
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #refused = 0;

  constructor(private readonly rate: number, private readonly maxKeys = 10_000, private readonly now: () => number = Date.now) {}

  /** Takes a token for key; false when its bucket is empty (the call is refused). */
  take(key: string): boolean {
    const t = this.now();
    let b = this.#buckets.get(key);
    if (b) this.#buckets.delete(key);
    else b = { tokens: this.rate, at: t };
    b.tokens = Math.min(this.rate, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (b.tokens < 1) {
      this.#refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /** Calls refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /** Buckets held. */
  get size(): number {
    return this.#buckets.size;
  }
}
