import type { StreamRecord } from '../store/types.js';
import { fromTicker, mergeAnalytics, type StoredAnalytics } from './stream-analytics.js';
import type { StreamWatchTotals } from './stream-watch-stats.js';
import type { WatchTicker } from './watch-ticker.js';

/** The store calls analytics persistence needs. */
export interface AnalyticsStore {
  getStream(id: string): StreamRecord | undefined;
  updateStream(id: string, patch: { extra: Record<string, unknown> }): unknown;
}

/**
 * Keeps each stream's analytics whole across tracking periods: the ticker tracks a stream while it
 * is live (and after, while watched), drops it after a grace, and tracks it afresh for a replay or
 * after a restart. What earlier periods stored is this period's base, read once when the period is
 * first seen, before anything of it is written; every write and every read is base + the ticker's
 * figures, so nothing is counted twice or lost.
 */
export class AnalyticsPersistence {
  readonly #store: AnalyticsStore;
  readonly #ticker: WatchTicker;
  readonly #now: () => number;
  /** Per tracked stream: the period (its trackedAtMs) and what was stored before it. Bounded by the ticker's tracked streams. */
  readonly #bases = new Map<string, { trackedAtMs: number; base: StoredAnalytics | undefined }>();

  constructor(store: AnalyticsStore, ticker: WatchTicker, now: () => number = Date.now) {
    this.#store = store;
    this.#ticker = ticker;
    this.#now = now;
  }

  /** Everything known of a stream's audience: stored periods plus the ticker's current one. */
  current(streamId: string): StoredAnalytics | undefined {
    const snap = this.#ticker.snapshot(streamId);
    if (!snap) return this.#stored(streamId);
    const cur = fromTicker(snap, this.#ticker.timeline(streamId) ?? [], this.#ticker.uniqueSketch(streamId), this.#now());
    return mergeAnalytics(this.#base(streamId, snap.trackedAtMs), cur);
  }

  /** Writes the current figures of every tracked stream (every minute, and at shutdown). */
  persistTracked(): void {
    for (const id of this.#ticker.trackedStreams()) {
      const a = this.current(id);
      if (a) this.#write(id, a);
    }
  }

  /** The ticker dropped a stream: its period's totals join the base, and the period is forgotten. */
  dropped(totals: StreamWatchTotals): void {
    const base = this.#base(totals.streamId, totals.trackedAtMs);
    this.#bases.delete(totals.streamId);
    this.#write(totals.streamId, mergeAnalytics(base, fromTicker(totals, totals.timeline, totals.uniqueSketch, this.#now())));
  }

  #base(streamId: string, trackedAtMs: number): StoredAnalytics | undefined {
    const held = this.#bases.get(streamId);
    if (held && held.trackedAtMs === trackedAtMs) return held.base;
    const base = this.#stored(streamId);
    this.#bases.set(streamId, { trackedAtMs, base });
    return base;
  }

  #stored(streamId: string): StoredAnalytics | undefined {
    return this.#store.getStream(streamId)?.extra.analytics as StoredAnalytics | undefined;
  }

  #write(streamId: string, analytics: StoredAnalytics): void {
    if (!this.#store.getStream(streamId)) return; // deleted meanwhile
    this.#store.updateStream(streamId, { extra: { analytics } });
  }
}
