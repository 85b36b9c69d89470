import { HyperLogLog } from './hyperloglog.js';
import type { StreamWatchSnapshot } from './stream-watch-stats.js';
import type { MinuteBucket } from './minute-timeline.js';
import type { AnalyticsRecord } from '../store/types.js';

/** A stream's audience analytics as persisted (the store's analytics tables; survives restarts). */
export type StoredAnalytics = AnalyticsRecord;

/** The most minutes kept in a stored timeline (7 days of watching, across live and replays). */
export const MAX_STORED_MINUTES = 7 * 24 * 60;

/** What the ticker holds of a stream now, in stored form (one tracking period only). */
export function fromTicker(snap: StreamWatchSnapshot, timeline: MinuteBucket[], sketch: Uint8Array | undefined, nowMs: number): StoredAnalytics {
  const w = snap.watchSeconds;
  return {
    watchSecondsLive: w.hls.live + w.webrtc.live,
    watchSecondsReplay: w.hls.replay + w.webrtc.replay,
    watchSecondsByProtocol: { hls: w.hls.live + w.hls.replay, webrtc: w.webrtc.live + w.webrtc.replay },
    uniqueViewers: snap.uniqueViewers,
    ...(sketch ? { uniqueSketch: Buffer.from(sketch).toString('base64') } : {}),
    peakViewers: snap.peakViewers,
    timeline: timeline.map((b) => ({ startMs: b.startMs, viewersAvg: b.viewersAvg, viewersPeak: b.viewersPeak, watchSeconds: b.watchSeconds, ...(b.ingestBitsPerSecond !== undefined ? { ingestBitsPerSecond: b.ingestBitsPerSecond } : {}) })),
    updatedAt: nowMs,
  };
}

/**
 * Adds one tracking period's figures to what earlier periods stored: a stream is tracked while live,
 * dropped after its grace, and tracked again when a replay is watched or after a restart. Watch
 * seconds add up, the peak is the larger, unique viewers merge their sketches (exact union of the
 * HyperLogLogs; a sum when a side has no sketch), timelines join (a minute both hold is combined).
 */
export function mergeAnalytics(base: StoredAnalytics | undefined, cur: StoredAnalytics): StoredAnalytics {
  if (!base) return cur;
  let uniqueViewers = base.uniqueViewers + cur.uniqueViewers;
  let uniqueSketch: string | undefined;
  if (base.uniqueSketch && cur.uniqueSketch) {
    try {
      const a = HyperLogLog.fromRegisters(new Uint8Array(Buffer.from(base.uniqueSketch, 'base64')));
      a.merge(HyperLogLog.fromRegisters(new Uint8Array(Buffer.from(cur.uniqueSketch, 'base64'))));
      uniqueViewers = Math.round(a.estimate());
      uniqueSketch = Buffer.from(a.registers).toString('base64');
    } catch {
      // A sketch of another precision (config changed) or a damaged one: the sum stands.
    }
  }
  const byMinute = new Map<number, StoredAnalytics['timeline'][number]>();
  for (const b of [...base.timeline, ...cur.timeline]) {
    const had = byMinute.get(b.startMs);
    if (!had) {
      byMinute.set(b.startMs, { ...b });
      continue;
    }
    // The same minute in two periods (a restart within it): watching adds, rates take the later one.
    had.watchSeconds += b.watchSeconds;
    had.viewersAvg += b.viewersAvg;
    had.viewersPeak = Math.max(had.viewersPeak, b.viewersPeak);
    if (b.ingestBitsPerSecond !== undefined) had.ingestBitsPerSecond = b.ingestBitsPerSecond;
  }
  const timeline = [...byMinute.values()].sort((x, y) => x.startMs - y.startMs).slice(-MAX_STORED_MINUTES);
  return {
    watchSecondsLive: base.watchSecondsLive + cur.watchSecondsLive,
    watchSecondsReplay: base.watchSecondsReplay + cur.watchSecondsReplay,
    watchSecondsByProtocol: {
      hls: base.watchSecondsByProtocol.hls + cur.watchSecondsByProtocol.hls,
      webrtc: base.watchSecondsByProtocol.webrtc + cur.watchSecondsByProtocol.webrtc,
    },
    uniqueViewers,
    ...(uniqueSketch ? { uniqueSketch } : {}),
    peakViewers: Math.max(base.peakViewers, cur.peakViewers),
    timeline,
    updatedAt: cur.updatedAt,
  };
}
