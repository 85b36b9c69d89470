/// <reference lib="dom" />
/** A bounded poll for the control room: one read at a time, every few seconds, stopped by a refusal that will not change. */
import { ApiError } from '../creator-api.js';

/** What a Poller's owner may do with it. */
export interface Poller {
  /** Reads now (something changed), besides the timer's reads; never two at once. */
  now(): void;
}

/**
 * Calls read() now and then every `everyMs` (after the previous read settles, so reads never pile
 * up; a hidden tab skips its reads). A refused token or a deleted stream (401, 403, 404) will not
 * come right by asking again: that rejection stops the polling; any other is given to onError and
 * the next read tries again.
 */
export function startPoller(read: () => Promise<void>, everyMs: number, onError: (err: unknown) => void): Poller {
  let reading = false;
  let stopped = false;
  const once = async (): Promise<void> => {
    if (reading || stopped) return;
    reading = true;
    try {
      await read();
    } catch (err) {
      onError(err);
      if (err instanceof ApiError && [401, 403, 404].includes(err.status)) stopped = true;
    } finally {
      reading = false;
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    window.setTimeout(() => {
      void (document.visibilityState === 'hidden' ? Promise.resolve() : once()).then(schedule);
    }, everyMs);
  };
  void once().then(schedule);
  return { now: () => void once() };
}
