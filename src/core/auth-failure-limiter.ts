import { ShowcaseError } from './errors.js';

/**
 * Counts failed authentications per client address in a fixed window; past the limit the address
 * gets 429 with Retry-After until the window ends. The table is capped (oldest entries evicted), so
 * a flood of spoofed-looking addresses cannot grow memory without bound.
 */
export class AuthFailureLimiter {
  readonly #hits = new Map<string, { count: number; resetAt: number }>();
  /** Failed authentications seen (for /metrics). */
  failures = 0;
  /** Requests refused with 429 (for /metrics). */
  limited = 0;

  constructor(private readonly maxFailures = 20, private readonly windowMs = 60_000, private readonly maxAddresses = 10_000, private readonly now: () => number = Date.now) {}

  /** Throws 429 when the address is over its budget of failures. */
  check(address: string): void {
    const e = this.#hits.get(address);
    if (!e) return;
    const now = this.now();
    if (now >= e.resetAt) {
      this.#hits.delete(address);
      return;
    }
    if (e.count >= this.maxFailures) {
      this.limited++;
      const retryAfterSeconds = Math.max(1, Math.ceil((e.resetAt - now) / 1000));
      throw new ShowcaseError('SHOWCASE_ERR_RATE_LIMITED', 'too many failed authentications; try again later', { retryAfterSeconds });
    }
  }

  /** Records a failed authentication from the address. */
  fail(address: string): void {
    this.failures++;
    const now = this.now();
    let e = this.#hits.get(address);
    if (!e || now >= e.resetAt) {
      if (!e && this.#hits.size >= this.maxAddresses) this.#hits.delete(this.#hits.keys().next().value!);
      e = { count: 0, resetAt: now + this.windowMs };
      this.#hits.delete(address);
      this.#hits.set(address, e);
    }
    e.count++;
  }
}
