import { KeyedQueue } from '../core/keyed-queue.js';
import type { Logger } from '../core/logger.js';
import type { AnalyticsStore } from '../store/types.js';
import { fromTicker, mergeAnalytics, type StoredAnalytics } from './stream-analytics.js';
import type { StreamWatchSnapshot, StreamWatchTotals } from './stream-watch-stats.js';
import type { MinuteBucket } from './minute-timeline.js';
import type { WatchTicker } from './watch-ticker.js';

export type { AnalyticsStore } from '../store/types.js';

/** What a cluster says about a tracked stream's current period (src/cluster/cluster-audience.ts). */
export interface AnalyticsPeriodSource {
  /**
   * The figures of a stream's current tracking period, given the ticker's: undefined keeps the
   * ticker's own; 'skip': another node writes this stream's analytics (nothing is written here,
   * reads come from the store); otherwise the figures to store, and the period's key (a new key
   * re-reads the base: another node's writes came first).
   */
  period(streamId: string, snap: StreamWatchSnapshot, timeline: MinuteBucket[]): 'skip' | { key: string; snap: StreamWatchSnapshot; timeline: MinuteBucket[] } | undefined;
}

/**
 * Keeps each stream's analytics whole across tracking periods: the ticker tracks a stream while it
 * is live (and after, while watched), drops it after a grace, and tracks it afresh for a replay or
 * after a restart. What earlier periods stored is this period's base, read once when the period is
 * first seen, before anything of it is written; every write and every read is base + the ticker's
 * figures, so nothing is counted twice or lost.
 *
 * The ticker's per-second work never waits on the store: a dropped stream's write is queued. The
 * reads and writes of one stream run one after another (a queue per stream), so a base is read
 * before its period is first written and writes land in order.
 */
export class AnalyticsPersistence {
  readonly #store: AnalyticsStore;
  readonly #ticker: WatchTicker;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  /** Per tracked stream: the period (its trackedAtMs) and what was stored before it. Bounded by the ticker's tracked streams. */
  readonly #bases = new Map<string, { key: string; base: StoredAnalytics | undefined }>();
  /** Each stream's store reads and writes, one after another. */
  readonly #queue = new KeyedQueue();
  #timer?: NodeJS.Timeout;
  /** Clustered: whose figures a period's are (set once by the cluster; none on a single node). */
  periodSource?: AnalyticsPeriodSource;

  constructor(store: AnalyticsStore, ticker: WatchTicker, now: () => number = Date.now, logger?: Logger) {
    this.#store = store;
    this.#ticker = ticker;
    this.#now = now;
    this.#log = logger;
  }

  /** Everything known of a stream's audience: stored periods plus the ticker's current one. */
  current(streamId: string): Promise<StoredAnalytics | undefined> {
    return this.#queue.run(streamId, () => this.#current(streamId));
  }

  /** Persists what the ticker holds every intervalMs, so a crash loses at most that much analytics. */
  startPeriodic(intervalMs = 60_000): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.persistTracked(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the periodic writes and persists once more (shutdown: the last minute is kept). */
  async stopPeriodic(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.persistTracked();
  }

  /** Writes the current figures of every tracked stream (every minute, and at shutdown). */
  async persistTracked(): Promise<void> {
    await Promise.all(this.#ticker.trackedStreams().map((id) => this.#queue.run(id, async () => {
      const a = await this.#current(id, true);
      if (a) await this.#store.putAnalytics(id, a);
    }).catch((err) => this.#log?.error({ err, streamId: id, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'analytics could not be written to the store'))));
  }

  /**
   * The ticker dropped a stream: its period's totals join the base, and the period is forgotten.
   * Called from the ticker's tick: queued, not awaited (failures are logged).
   */
  dropped(totals: StreamWatchTotals): void {
    const id = totals.streamId;
    const own = this.periodSource?.period(id, totals, totals.timeline);
    if (own === 'skip') return void this.#bases.delete(id);
    const key = own?.key ?? String(totals.trackedAtMs);
    const cur = fromTicker(own?.snap ?? totals, own?.timeline ?? totals.timeline, totals.uniqueSketch, this.#now(), totals.replaySketch);
    this.#queue.run(id, async () => {
      const base = await this.#base(id, key);
      // Forget the period only if no newer one started meanwhile.
      if (this.#bases.get(id)?.key === key) this.#bases.delete(id);
      await this.#store.putAnalytics(id, mergeAnalytics(base, cur));
    }).catch((err) => this.#log?.error({ err, streamId: id, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'analytics of a dropped stream could not be written to the store'));
  }

  /** Resolves when every queued read and write has run (shutdown waits for it before closing the store). */
  async flush(): Promise<void> {
    await this.#queue.drain();
  }

  /** Stored periods plus the current one; for a write (forWrite), undefined where another node writes this stream. */
  async #current(streamId: string, forWrite = false): Promise<StoredAnalytics | undefined> {
    const snap = this.#ticker.snapshot(streamId);
    if (!snap) return forWrite ? undefined : this.#store.getAnalytics(streamId);
    const first = this.periodSource?.period(streamId, snap, []);
    if (first === 'skip') {
      this.#bases.delete(streamId);
      return forWrite ? undefined : this.#store.getAnalytics(streamId);
    }
    const base = await this.#base(streamId, first?.key ?? String(snap.trackedAtMs));
    // The ticker's figures as they are now, after the (possible) wait for the base.
    const later = this.#ticker.snapshot(streamId);
    const now = later && later.trackedAtMs === snap.trackedAtMs ? later : snap;
    const timeline = this.#ticker.timeline(streamId) ?? [];
    const own = this.periodSource?.period(streamId, now, timeline);
    if (own === 'skip') return forWrite ? undefined : this.#store.getAnalytics(streamId);
    const cur = fromTicker(own?.snap ?? now, own?.timeline ?? timeline, this.#ticker.uniqueSketch(streamId), this.#now(), this.#ticker.replaySketch(streamId));
    return mergeAnalytics(base, cur);
  }

  async #base(streamId: string, key: string): Promise<StoredAnalytics | undefined> {
    const held = this.#bases.get(streamId);
    if (held && held.key === key) return held.base;
    const base = await this.#store.getAnalytics(streamId);
    this.#bases.set(streamId, { key, base });
    return base;
  }
}
