import type { MediaPacket } from '../core/media.js';

/** Why a source's own video cannot be the top rendition (source passthrough): stable error codes. */
export type PassthroughRefusal =
  /** No keyframe for more than twice the segment target (a 10 s GOP, or keyframes gone missing). */
  | 'SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_SPARSE'
  /** Keyframe intervals that vary (keyframes on scene cuts or on request): segments would too. */
  | 'SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_IRREGULAR';

/**
 * Watches the keyframe spacing of a source that is copied as the top rendition: its segments start
 * where the source's keyframes are, so keyframes too far apart or irregular refuse passthrough
 * (the transcoder falls back to the full ladder, which forces its own keyframes). Pure logic.
 */
export class KeyframeCadence {
  readonly #maxGapMs: number;
  readonly #toleranceMs: number;
  #lastKeyframe?: number;
  #lastInterval?: number;

  constructor(o: { segmentSeconds: number; frameRate: number }) {
    this.#maxGapMs = o.segmentSeconds * 2000;
    // Two frames of slack: encoders round keyframe placement to whole frames and timestamps to ms.
    this.#toleranceMs = Math.max(2000 / o.frameRate, 10);
  }

  /** Observes one video packet (decode order); returns a refusal as soon as the cadence disqualifies. */
  observe(p: MediaPacket): PassthroughRefusal | undefined {
    if (p.kind !== 'video' || p.sequenceHeader) return undefined;
    const last = this.#lastKeyframe;
    if (last === undefined) {
      if (p.keyframe) this.#lastKeyframe = p.timestamp;
      return undefined;
    }
    const gap = p.timestamp - last;
    if (gap > this.#maxGapMs) return 'SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_SPARSE';
    if (!p.keyframe) return undefined;
    this.#lastKeyframe = p.timestamp;
    const previous = this.#lastInterval;
    this.#lastInterval = gap;
    if (previous !== undefined && Math.abs(gap - previous) > Math.max(this.#toleranceMs, previous * 0.25)) return 'SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_IRREGULAR';
    return undefined;
  }
}
