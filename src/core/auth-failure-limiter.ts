import { ShowcaseError } from './errors.js';

/**
 * Counts failed authentications per client address in a fixed window; past the limit the address's
 * failing requests get 429 with Retry-After until the window ends. Only failures are limited: a
 * caller consults it after a credential failed (failure()), never before checking one, so a valid
 * token or key keeps working while someone behind the same address (a shared NAT, a shop's
 * backend) sends bad ones. The table is capped (oldest entries evicted), so a flood of
 * spoofed-looking addresses cannot grow memory without bound.
 */
export class AuthFailureLimiter {
  readonly #hits = new Map<string, { count: number; resetAt: number }>();
  /** Failed authentications seen (for /metrics). */
  failures = 0;
  /** Requests refused with 429 (for /metrics). */
  limited = 0;

  constructor(private readonly maxFailures = 20, private readonly windowMs = 60_000, private readonly maxAddresses = 10_000, private readonly now: () => number = Date.now) {}

  /** Throws 429 when the address is over its budget (as a fixed-window request limiter: check, then fail per request). */
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

  /**
   * A credential from the address failed: throws 429 when the address is already over its budget,
   * otherwise counts the failure (the caller then refuses with its own 401/403/404).
   */
  failure(address: string): void {
    this.check(address);
    this.fail(address);
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
