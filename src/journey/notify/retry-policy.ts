/** Outbox retry policy: exponential backoff with full jitter, bounded by a lifetime from creation. */
export interface RetryPolicy {
  /** First retry delay before jitter, ms. */
  baseMs: number;
  /** Ceiling on any one delay, ms (so a long outage still gets retried a few times an hour). */
  maxDelayMs: number;
  /** A row older than this since creation is marked dead instead of retried, ms (24 h per issue 15). */
  lifetimeMs: number;
}

/** The defaults: 5 s doubling to a 1 h cap, for up to 24 h after the event was written. */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 5_000, maxDelayMs: 3_600_000, lifetimeMs: 86_400_000 };

/**
 * When attempt number `attempts` (1 = the first failure) should be retried, or null when the row
 * is past its lifetime and is dead. Jitter is "equal jitter" (half fixed, half random) so attempt
 * times still grow monotonically in expectation while nodes retrying the same outage spread out.
 */
export function nextAttemptAt(p: RetryPolicy, createdAtMs: number, attempts: number, nowMs: number,
  random: () => number = Math.random): number | null {
  const exp = Math.min(p.maxDelayMs, p.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  const delay = exp / 2 + random() * (exp / 2);
  const at = nowMs + Math.ceil(delay);
  if (at - createdAtMs > p.lifetimeMs) return null;
  return at;
}
