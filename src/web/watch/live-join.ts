/// <reference lib="dom" />

/**
 * Live latency on the watch page, owned by the page rather than by hls.js's latency controller.
 *
 * Where a live viewer's first frame lands and where it should be: hls.js computes its start point
 * (live edge − PART-HOLD-BACK) when the first playlist arrives, then loads the segment's parts from
 * its keyframe before showing anything, so the first frame is already PART-HOLD-BACK plus that
 * start-up time behind (0.5–2 s on a loaded box). Its own catch-up (maxLiveSyncPlaybackRate) only
 * runs while more than 1 s is buffered ahead, so it never removes the last of that start-up time
 * when the target itself is under a second. The page therefore jumps once, right after the first
 * frame, to hls.js's live sync position when that point is already buffered.
 */
export interface LiveJoinInput {
  /** hls.js latency (live edge estimate − playhead), seconds. */
  latency: number;
  /** hls.js target latency (PART-HOLD-BACK while no stall raised it), seconds. */
  targetLatency: number;
  /** hls.js liveSyncPosition: where the target latency is, media seconds. */
  syncPosition: number;
  currentTime: number;
  /** End of the buffered range holding currentTime, media seconds. */
  bufferedEnd: number;
}

/** Jump only when it saves this much: below it the jump is not worth a seek. */
export const JOIN_MIN_GAIN_S = 0.15;
/**
 * Media that must stay buffered past the jump's landing point, so it cannot land in a stall. The
 * buffered end trails hls.js's live edge estimate by about 0.3 s (a part's playlist, then its
 * request), so with 0.5 s here a jump lands at least 0.8 s behind the edge.
 */
export const JOIN_MIN_AHEAD_S = 0.5;

/** The media time to jump to, or null to stay (close enough, or the sync point is not buffered with room to spare). */
export function liveJoinPosition(i: LiveJoinInput): number | null {
  if (![i.latency, i.targetLatency, i.syncPosition, i.currentTime, i.bufferedEnd].every(Number.isFinite)) return null;
  if (i.latency - i.targetLatency < JOIN_MIN_GAIN_S) return null;
  const to = Math.min(i.syncPosition, i.bufferedEnd - JOIN_MIN_AHEAD_S);
  return to - i.currentTime >= JOIN_MIN_GAIN_S ? to : null;
}

/** The end of the buffered range that holds t (or starts within 0.1 s after it), or t when none does. */
export function bufferedEndAt(ranges: TimeRanges, t: number): number {
  for (let i = 0; i < ranges.length; i++) if (ranges.start(i) <= t + 0.1 && ranges.end(i) >= t) return ranges.end(i);
  return t;
}

/** The page's fastest catch-up rate (hls.js's maxLiveSyncPlaybackRate was 1.5 here before). */
export const CATCH_UP_MAX_RATE = 1.5;
/**
 * Catch up only while more than this is buffered ahead (hls.js asks for 1 s, more than a sub-second
 * target holds). 0.3 s raced into a stall in every run on the loaded 2-core box (and each stall
 * makes hls.js raise its target by 1 s for good); 0.6 s keeps a part's delivery jitter covered.
 */
export const CATCH_UP_MIN_AHEAD_S = 0.6;

/** Figures the catch-up reads on each progress event. */
export interface CatchUpInput {
  latency: number;
  targetLatency: number;
  /** Buffered media ahead of the playhead, seconds. */
  ahead: number;
  /** The playlist's TARGETDURATION: further behind than target + this is DVR viewing, left alone. */
  targetDuration: number;
}

/**
 * The playback rate that closes the gap to the target latency: hls.js's own curve (2 / (1 + e^(−0.75 ×
 * distance)), in steps of 0.05, at most CATCH_UP_MAX_RATE) but run down to CATCH_UP_MIN_AHEAD_S of
 * buffer instead of hls.js's 1 s, which a target under a second never has, so after a slow start or
 * a stall the page comes back to its target instead of staying behind for good.
 */
export function catchUpRate(i: CatchUpInput): number {
  if (![i.latency, i.targetLatency, i.ahead, i.targetDuration].every(Number.isFinite)) return 1;
  const distance = i.latency - i.targetLatency;
  if (distance <= 0.05 || distance >= i.targetLatency + i.targetDuration || i.ahead <= CATCH_UP_MIN_AHEAD_S) return 1;
  const rate = Math.round((2 / (1 + Math.exp(-0.75 * distance))) * 20) / 20;
  return Math.min(CATCH_UP_MAX_RATE, Math.max(1, rate));
}
