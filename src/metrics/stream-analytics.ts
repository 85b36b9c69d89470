import { HyperLogLog } from './hyperloglog.js';
import type { StreamWatchSnapshot } from './stream-watch-stats.js';
import type { MinuteBucket } from './minute-timeline.js';
import type { AnalyticsRecord } from '../store/types.js';

/** A stream's audience analytics as persisted (the store's analytics tables; survives restarts). */
export type StoredAnalytics = AnalyticsRecord;

/** The most minutes kept in a stored timeline (7 days of watching, across live and replays). */
export const MAX_STORED_MINUTES = 7 * 24 * 60;

/** What the ticker holds of a stream now, in stored form (one tracking period only). */
export function fromTicker(snap: StreamWatchSnapshot, timeline: MinuteBucket[], sketch: Uint8Array | undefined, nowMs: number, replaySketch?: Uint8Array): StoredAnalytics {
  const w = snap.watchSeconds;
  return {
    watchSecondsLive: w.hls.live + w.webrtc.live,
    watchSecondsReplay: w.hls.replay + w.webrtc.replay,
    watchSecondsByProtocol: { hls: w.hls.live + w.hls.replay, webrtc: w.webrtc.live + w.webrtc.replay },
    uniqueViewers: snap.uniqueViewers,
    ...(sketch ? { uniqueSketch: Buffer.from(sketch).toString('base64') } : {}),
    ...(snap.replayUniqueViewers > 0 || replaySketch ? { replayUniqueViewers: snap.replayUniqueViewers } : {}),
    ...(replaySketch ? { replaySketch: Buffer.from(replaySketch).toString('base64') } : {}),
    peakViewers: snap.peakViewers,
    timeline: timeline.map((b) => ({ startMs: b.startMs, viewersAvg: b.viewersAvg, viewersPeak: b.viewersPeak, watchSeconds: b.watchSeconds, ...(b.ingestBitsPerSecond !== undefined ? { ingestBitsPerSecond: b.ingestBitsPerSecond } : {}) })),
    updatedAt: nowMs,
  };
}

/**
 * Two periods' unique counts: the exact union of their HyperLogLogs when both have a sketch (the
 * merged sketch kept), else the sum. A sketch of another precision (config changed) or a damaged
 * one leaves the sum too.
 */
function mergeUnique(a: number, aSketch: string | undefined, b: number, bSketch: string | undefined): { count: number; sketch?: string } {
  // A side that counted nobody adds nothing: the other's sketch stands as the union.
  if (a === 0 && !aSketch) return { count: b, ...(bSketch ? { sketch: bSketch } : {}) };
  if (b === 0 && !bSketch) return { count: a, ...(aSketch ? { sketch: aSketch } : {}) };
  if (!aSketch || !bSketch) return { count: a + b };
  try {
    const h = HyperLogLog.fromRegisters(new Uint8Array(Buffer.from(aSketch, 'base64')));
    h.merge(HyperLogLog.fromRegisters(new Uint8Array(Buffer.from(bSketch, 'base64'))));
    return { count: Math.round(h.estimate()), sketch: Buffer.from(h.registers).toString('base64') };
  } catch {
    return { count: a + b };
  }
}

/**
 * Adds one tracking period's figures to what earlier periods stored: a stream is tracked while live,
 * dropped after its grace, and tracked again when a replay is watched or after a restart. Watch
 * seconds add up, the peak is the larger, unique viewers merge their sketches (exact union of the
 * HyperLogLogs; a sum when a side has no sketch), timelines join (a minute both hold is combined).
 */
export function mergeAnalytics(base: StoredAnalytics | undefined, cur: StoredAnalytics): StoredAnalytics {
  if (!base) return cur;
  const { count: uniqueViewers, sketch: uniqueSketch } = mergeUnique(base.uniqueViewers, base.uniqueSketch, cur.uniqueViewers, cur.uniqueSketch);
  const replay = base.replayUniqueViewers !== undefined || cur.replayUniqueViewers !== undefined
    ? mergeUnique(base.replayUniqueViewers ?? 0, base.replaySketch, cur.replayUniqueViewers ?? 0, cur.replaySketch)
    : undefined;
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
    ...(replay ? { replayUniqueViewers: replay.count } : {}),
    ...(replay?.sketch ? { replaySketch: replay.sketch } : {}),
    peakViewers: Math.max(base.peakViewers, cur.peakViewers),
    timeline,
    updatedAt: cur.updatedAt,
  };
}
