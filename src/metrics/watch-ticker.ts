import { TypedEmitter } from '../core/typed-emitter.js';
import type { MinuteBucket } from './minute-timeline.js';
import type { ViewerSessionTable } from './session-table.js';
import { BUCKETS } from './viewer-types.js';
import { StreamWatchStats, type StreamWatchSnapshot, type StreamWatchTotals, type StreamWatchView } from './stream-watch-stats.js';

/** What one tick did (for the tick-duration histogram and logs). */
export interface TickInfo {
  nowMs: number;
  durationMs: number;
  activeSessions: number;
  expiredSessions: number;
  trackedStreams: number;
}

/** Events of a WatchTicker. */
export type WatchTickerEvents = {
  tick: [TickInfo];
  /** A stream stopped carrying series (ended or idle past the grace period); its totals. */
  streamdropped: [StreamWatchTotals];
};

/** The logger calls the ticker makes (a pino Logger fits). */
export interface WatchTickerLogger {
  warn(obj: object, msg: string): void;
}

/** Options of a WatchTicker. */
export interface WatchTickerOptions {
  table: ViewerSessionTable;
  /** How long an ended (or never-live, idle) stream keeps its series after its last viewer (default 300,000 ms). */
  graceMs?: number;
  /** Minutes of per-minute timeline kept per stream (default 1,440: 24 h). */
  timelineMinutes?: number;
  /** HyperLogLog precision for unique viewers (default 14: ±0.81 % at 1σ, 16 KiB per stream). */
  hllPrecision?: number;
  /** Receives a stream's totals just before its series are dropped (persist them here); errors are logged, not thrown. */
  onStreamDropped?: (totals: StreamWatchTotals) => void;
  /** A stream's ingest bitrate now, sampled into its per-minute timeline each tick (undefined: not publishing). */
  ingestBitsPerSecond?: (streamId: string, nowMs: number) => number | undefined;
  logger?: WatchTickerLogger;
}

/** The ticker's period: each tick adds exactly one watch second per active session. */
export const TICK_INTERVAL_MS = 1000;

/**
 * Samples the session table once a second and accumulates, per stream, concurrent viewers by
 * protocol and mode, watch seconds, peak concurrency, unique viewers and a per-minute
 * timeline. Decides which streams carry metric series: live ones, and ended or idle ones
 * until graceMs after their last viewer, after which their totals go to onStreamDropped.
 *
 * Exactness: tick() adds 1 to a stream's watch seconds for each session active at nowMs, so
 * N sessions kept alive for T ticks add exactly N×T. A timed session stays active until
 * timeoutMs after its last touch, so a viewer who leaves is counted for up to that long.
 * A tick the event loop delays is late, not lost; one it skips (a blocked loop) is not
 * made up, which undercounts rather than guessing who was watching.
 */
export class WatchTicker extends TypedEmitter<WatchTickerEvents> {
  readonly table: ViewerSessionTable;
  readonly graceMs: number;
  readonly timelineMinutes: number;
  readonly hllPrecision: number;
  /** Wall time the last tick took (ms). */
  lastTickDurationMs = 0;
  /** Ticks run so far. */
  ticks = 0;

  readonly #stats: (StreamWatchStats | undefined)[] = [];
  readonly #counts: Uint32Array;
  readonly #onStreamDropped: ((totals: StreamWatchTotals) => void) | undefined;
  readonly #ingest: WatchTickerOptions['ingestBitsPerSecond'];
  readonly #logger: WatchTickerLogger | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: WatchTickerOptions) {
    super();
    this.table = options.table;
    this.graceMs = options.graceMs ?? 300_000;
    if (!(this.graceMs >= 0)) throw new RangeError('graceMs must be >= 0');
    this.timelineMinutes = options.timelineMinutes ?? 1440;
    this.hllPrecision = options.hllPrecision ?? 14;
    this.#onStreamDropped = options.onStreamDropped;
    this.#ingest = options.ingestBitsPerSecond;
    this.#logger = options.logger;
    this.#counts = new Uint32Array(this.table.maxStreams * BUCKETS);
    this.onListenerError = (event, error) => this.#logger?.warn({ err: error, event }, 'watch ticker listener failed');
  }

  /** Starts the 1 s timer (unref'd: it never keeps the process alive). Idempotent; a no-op after close(). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      try {
        this.tick();
      } catch (error) {
        // A throwing tick must not take the server down with an uncaught exception.
        this.#logger?.warn({ err: error }, 'watch tick failed');
      }
    }, TICK_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops the timer. Idempotent; tracked streams keep their figures (see dropAll for shutdown). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Marks a stream live: it carries series (with zero viewers too) until ended + grace. False when maxStreams are tracked. */
  markLive(streamId: string, nowMs: number = this.table.now()): boolean {
    const stats = this.#ensure(streamId, nowMs);
    if (!stats) {
      this.#logger?.warn({ streamId, maxStreams: this.table.maxStreams }, 'too many streams tracked: watch metrics skip this one');
      return false;
    }
    stats.live = true;
    stats.startedAtMs ??= nowMs;
    stats.endedAtMs = null;
    return true;
  }

  /** Marks a stream ended: its series go graceMs after the later of now and its last viewer. */
  markEnded(streamId: string, nowMs: number = this.table.now()): void {
    const stats = this.#get(streamId);
    if (!stats) return;
    stats.live = false;
    stats.endedAtMs = nowMs;
  }

  /** One sample: expires idle sessions, counts active ones into every stream, drops streams past their grace. */
  tick(nowMs: number = this.table.now()): TickInfo {
    const started = performance.now();
    const table = this.table;
    const expiredSessions = table.expire(nowMs);
    const extent = table.streamIndexExtent;
    const counts = this.#counts;
    counts.fill(0, 0, extent * BUCKETS);
    for (let i = 0; i < extent; i++) this.#sync(i, nowMs);
    const activeSessions = table.sample(nowMs, counts, this.#onFirstActive);
    let trackedStreams = 0;
    for (let i = 0; i < extent; i++) {
      const stats = this.#stats[i];
      if (!stats) continue;
      stats.recordTick(nowMs, counts, i * BUCKETS, stats.live ? this.#ingest?.(stats.streamId, nowMs) : undefined);
      if (!stats.live && stats.viewersTotal === 0 && nowMs - stats.quietSinceMs() >= this.graceMs) this.#drop(stats, nowMs);
      else trackedStreams++;
    }
    this.ticks++;
    const durationMs = performance.now() - started;
    this.lastTickDurationMs = durationMs;
    const info: TickInfo = { nowMs, durationMs, activeSessions, expiredSessions, trackedStreams };
    this.safeEmit('tick', info);
    return info;
  }

  /** Hands every tracked stream's totals to onStreamDropped and drops them (graceful shutdown). */
  dropAll(nowMs: number = this.table.now()): void {
    for (const stats of this.#stats) if (stats) this.#drop(stats, nowMs);
  }

  /** True while a stream carries series (live, or within its grace period). */
  isTracked(streamId: string): boolean {
    return this.#get(streamId) !== undefined;
  }

  /** Ids of the streams that carry series. */
  trackedStreams(): string[] {
    return this.#stats.flatMap((s) => (s ? [s.streamId] : []));
  }

  /** Visits every tracked stream without allocating (scrape-time collectors). */
  forEachStream(visit: (stream: StreamWatchView) => void): void {
    for (const stats of this.#stats) if (stats) visit(stats);
  }

  /** A stream's figures at the last tick, or undefined when it is not tracked. */
  snapshot(streamId: string): StreamWatchSnapshot | undefined {
    return this.#get(streamId)?.snapshot();
  }

  /** A copy of a tracked stream's unique-viewer sketch registers; undefined when not tracked. */
  uniqueSketch(streamId: string): Uint8Array | undefined {
    return this.#get(streamId)?.unique.registers.slice();
  }

  /** A copy of a tracked stream's replay-viewer sketch registers; undefined when not tracked or never replayed. */
  replaySketch(streamId: string): Uint8Array | undefined {
    return this.#get(streamId)?.replayUnique?.registers.slice();
  }

  /** A stream's per-minute buckets (oldest first), optionally from sinceMs; undefined when not tracked. */
  timeline(streamId: string, sinceMs?: number): MinuteBucket[] | undefined {
    return this.#get(streamId)?.timeline.buckets(sinceMs);
  }

  readonly #onFirstActive = (streamIndex: number, hashHigh: number, hashLow: number, replay: boolean): void => {
    this.#stats[streamIndex]?.addViewer(hashHigh, hashLow, replay);
  };

  #get(streamId: string): StreamWatchStats | undefined {
    const index = this.table.streamIndexOf(streamId);
    const stats = index < 0 ? undefined : this.#stats[index];
    return stats?.streamId === streamId ? stats : undefined;
  }

  #ensure(streamId: string, nowMs: number): StreamWatchStats | undefined {
    const index = this.table.ensureStream(streamId);
    if (index < 0) return undefined;
    return this.#sync(index, nowMs);
  }

  /** Keeps the stats slot of a stream index in step with the table's mapping (indices are reused). */
  #sync(index: number, nowMs: number): StreamWatchStats | undefined {
    const streamId = this.table.streamIdAt(index);
    let stats = this.#stats[index];
    if (streamId === undefined) {
      this.#stats[index] = undefined;
      return undefined;
    }
    if (stats?.streamId !== streamId) {
      stats = new StreamWatchStats(streamId, index, nowMs, this.hllPrecision, this.timelineMinutes);
      this.#stats[index] = stats;
    }
    return stats;
  }

  #drop(stats: StreamWatchStats, nowMs: number): void {
    const totals = stats.totals(nowMs);
    if (this.#onStreamDropped) {
      try {
        this.#onStreamDropped(totals);
      } catch (error) {
        this.#logger?.warn({ err: error, streamId: stats.streamId }, 'watch totals callback failed');
      }
    }
    this.safeEmit('streamdropped', totals);
    this.#stats[stats.index] = undefined;
    this.table.releaseStream(stats.streamId);
  }
}
