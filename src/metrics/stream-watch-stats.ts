import { HyperLogLog } from './hyperloglog.js';
import { MinuteTimeline, type MinuteBucket } from './minute-timeline.js';
import { BUCKETS, BUCKET_KEYS, type ViewerProtocol, type ViewMode } from './viewer-types.js';

/** A number per protocol and mode. */
export type ByProtocolMode = Record<ViewerProtocol, Record<ViewMode, number>>;

/** A stream's audience figures at the last tick (the analytics API's answer). */
export interface StreamWatchSnapshot {
  streamId: string;
  /** When this tracking period began (a stream is tracked again after a drop or a restart). */
  trackedAtMs: number;
  live: boolean;
  startedAtMs: number | null;
  endedAtMs: number | null;
  /** Concurrent viewers at the last tick. */
  viewers: ByProtocolMode;
  viewersTotal: number;
  watchSeconds: ByProtocolMode;
  watchSecondsTotal: number;
  /** HyperLogLog estimate (±0.81 % at 1σ with the default precision 14). */
  uniqueViewers: number;
  /** The same estimate for the sessions that watched a replay (0 when none did). */
  replayUniqueViewers: number;
  peakViewers: number;
  peakAtMs: number | null;
}

/** Everything known about a stream when it is dropped, handed to the persistence callback. */
export interface StreamWatchTotals extends StreamWatchSnapshot {
  droppedAtMs: number;
  timeline: MinuteBucket[];
  /** The unique-viewer sketch's registers (merge or re-estimate with HyperLogLog.fromRegisters). */
  uniqueSketch: Uint8Array;
  /** The replay viewers' sketch, when any session watched a replay. */
  replaySketch?: Uint8Array;
}

/** Read-only view of a tracked stream used by scrape-time collectors (no allocation per scrape). */
export interface StreamWatchView {
  readonly streamId: string;
  readonly live: boolean;
  /** Concurrent viewers at the last tick, by bucket (see BUCKET_KEYS). */
  readonly viewers: Readonly<Uint32Array>;
  readonly viewersTotal: number;
  /** Watch seconds so far, by bucket (see BUCKET_KEYS). */
  readonly watchSeconds: Readonly<Float64Array>;
  readonly peakViewers: number;
  readonly unique: HyperLogLog;
}

/** Per-stream accumulators of the WatchTicker. */
export class StreamWatchStats implements StreamWatchView {
  readonly streamId: string;
  readonly index: number;
  readonly trackedAtMs: number;
  live = false;
  startedAtMs: number | null = null;
  endedAtMs: number | null = null;
  lastViewedAtMs: number | null = null;
  readonly viewers = new Uint32Array(BUCKETS);
  viewersTotal = 0;
  // Float64: 100k viewers for a day is 8.6e9 watch seconds, past Uint32.
  readonly watchSeconds = new Float64Array(BUCKETS);
  peakViewers = 0;
  peakAtMs: number | null = null;
  readonly unique: HyperLogLog;
  /** Replay sessions only; made on the first one (most streams are never replayed while tracked). */
  replayUnique: HyperLogLog | undefined;
  readonly timeline: MinuteTimeline;

  constructor(streamId: string, index: number, nowMs: number, hllPrecision: number, timelineMinutes: number) {
    this.streamId = streamId;
    this.index = index;
    this.trackedAtMs = nowMs;
    this.unique = new HyperLogLog(hllPrecision);
    this.timeline = new MinuteTimeline(timelineMinutes);
  }

  /** Folds one tick's active-session counts (counts[offset .. offset + BUCKETS)) into the totals. */
  recordTick(nowMs: number, counts: Uint32Array, offset: number, ingestBitsPerSecond?: number): void {
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const n = counts[offset + b]!;
      this.viewers[b] = n;
      this.watchSeconds[b]! += n;
      total += n;
    }
    this.viewersTotal = total;
    if (total > 0) this.lastViewedAtMs = nowMs;
    if (total > this.peakViewers) {
      this.peakViewers = total;
      this.peakAtMs = nowMs;
    }
    this.timeline.record(nowMs, total, ingestBitsPerSecond);
  }

  /** Counts a session's first active tick in the unique sketches (a replay one in the replay sketch too). */
  addViewer(hashHigh: number, hashLow: number, replay: boolean): void {
    this.unique.add(hashHigh, hashLow);
    if (!replay) return;
    this.replayUnique ??= new HyperLogLog(this.unique.precision);
    this.replayUnique.add(hashHigh, hashLow);
  }

  /** When the stream last had a reason to carry series: tracked, ended, or last watched. */
  quietSinceMs(): number {
    return Math.max(this.trackedAtMs, this.endedAtMs ?? -Infinity, this.lastViewedAtMs ?? -Infinity);
  }

  /** The figures at the last tick. */
  snapshot(): StreamWatchSnapshot {
    let watchSecondsTotal = 0;
    for (let b = 0; b < BUCKETS; b++) watchSecondsTotal += this.watchSeconds[b]!;
    return {
      streamId: this.streamId,
      trackedAtMs: this.trackedAtMs,
      live: this.live,
      startedAtMs: this.startedAtMs,
      endedAtMs: this.endedAtMs,
      viewers: byProtocolMode(this.viewers),
      viewersTotal: this.viewersTotal,
      watchSeconds: byProtocolMode(this.watchSeconds),
      watchSecondsTotal,
      uniqueViewers: Math.round(this.unique.estimate()),
      replayUniqueViewers: this.replayUnique ? Math.round(this.replayUnique.estimate()) : 0,
      peakViewers: this.peakViewers,
      peakAtMs: this.peakAtMs,
    };
  }

  /** Everything, for the drop callback. */
  totals(nowMs: number): StreamWatchTotals {
    return {
      ...this.snapshot(),
      droppedAtMs: nowMs,
      timeline: this.timeline.buckets(),
      uniqueSketch: this.unique.registers.slice(),
      ...(this.replayUnique ? { replaySketch: this.replayUnique.registers.slice() } : {}),
    };
  }
}

/** Spreads a bucket-ordered array into {hls:{live,replay}, webrtc:{live,replay}}. */
export function byProtocolMode(values: ArrayLike<number>): ByProtocolMode {
  const out: ByProtocolMode = { hls: { live: 0, replay: 0 }, webrtc: { live: 0, replay: 0 } };
  BUCKET_KEYS.forEach(([protocol, mode], b) => {
    out[protocol][mode] = values[b]!;
  });
  return out;
}
