/** One minute of a stream's audience, for the analytics API. */
export interface MinuteBucket {
  /** Start of the minute (epoch ms, a multiple of 60,000). */
  startMs: number;
  /** Mean concurrent viewers over the ticks seen in the minute. */
  viewersAvg: number;
  /** Most concurrent viewers at any tick of the minute. */
  viewersPeak: number;
  /** Watch seconds accrued in the minute (each active viewer adds one per tick). */
  watchSeconds: number;
  /** Ticks seen in the minute (60 normally; fewer for the current or a partial minute). */
  ticks: number;
  /** Mean ingest bitrate over the ticks of the minute that had one (omitted when none had). */
  ingestBitsPerSecond?: number;
}

const MINUTE_MS = 60_000;
const INITIAL_LENGTH = 16;

/**
 * A bounded ring of per-minute buckets (default 1,440: the last 24 h). Columns start small and
 * double up to the bound, since most streams are short and 24 h of buckets for every tracked
 * stream up front would cost ~35 KB each.
 */
export class MinuteTimeline {
  /** Most minutes kept; older ones are overwritten. */
  readonly maxMinutes: number;
  #minute: Float64Array;
  #sum: Float64Array;
  #peak: Uint32Array;
  #ticks: Uint32Array;
  #ingestSum: Float64Array;
  #ingestTicks: Uint32Array;
  /** Index of the oldest bucket and number of buckets held. */
  #start = 0;
  #length = 0;

  constructor(maxMinutes = 1440) {
    if (!Number.isInteger(maxMinutes) || maxMinutes < 1) throw new RangeError('maxMinutes must be a positive integer');
    this.maxMinutes = maxMinutes;
    const n = Math.min(INITIAL_LENGTH, maxMinutes);
    this.#minute = new Float64Array(n);
    this.#sum = new Float64Array(n);
    this.#peak = new Uint32Array(n);
    this.#ticks = new Uint32Array(n);
    this.#ingestSum = new Float64Array(n);
    this.#ingestTicks = new Uint32Array(n);
  }

  /** Buckets held. */
  get length(): number {
    return this.#length;
  }

  /** Records one tick's concurrent viewers (and the ingest bitrate, when there is one) into the bucket of nowMs's minute. */
  record(nowMs: number, viewers: number, ingestBitsPerSecond?: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    let i: number;
    if (this.#length > 0 && minute <= this.#minute[this.#index(this.#length - 1)]!) {
      // Same minute, or a clock that stepped back: keep adding to the newest bucket.
      i = this.#index(this.#length - 1);
    } else {
      i = this.#push(minute);
    }
    this.#sum[i]! += viewers;
    this.#ticks[i]!++;
    if (viewers > this.#peak[i]!) this.#peak[i] = viewers;
    if (ingestBitsPerSecond !== undefined) {
      this.#ingestSum[i]! += ingestBitsPerSecond;
      this.#ingestTicks[i]!++;
    }
  }

  /** Buckets from oldest to newest, optionally only those starting at or after sinceMs. */
  buckets(sinceMs = -Infinity): MinuteBucket[] {
    const out: MinuteBucket[] = [];
    for (let k = 0; k < this.#length; k++) {
      const i = this.#index(k);
      const startMs = this.#minute[i]! * MINUTE_MS;
      if (startMs < sinceMs) continue;
      const ticks = this.#ticks[i]!;
      const ingestTicks = this.#ingestTicks[i]!;
      out.push({
        startMs,
        viewersAvg: ticks > 0 ? this.#sum[i]! / ticks : 0,
        viewersPeak: this.#peak[i]!,
        watchSeconds: this.#sum[i]!,
        ticks,
        ...(ingestTicks > 0 ? { ingestBitsPerSecond: Math.round(this.#ingestSum[i]! / ingestTicks) } : {}),
      });
    }
    return out;
  }

  #index(k: number): number {
    return (this.#start + k) % this.#minute.length;
  }

  #push(minute: number): number {
    if (this.#length === this.#minute.length && this.#minute.length < this.maxMinutes) this.#grow();
    let i: number;
    if (this.#length < this.#minute.length) {
      i = this.#index(this.#length);
      this.#length++;
    } else {
      // Full at maxMinutes: overwrite the oldest.
      i = this.#start;
      this.#start = (this.#start + 1) % this.#minute.length;
    }
    this.#minute[i] = minute;
    this.#sum[i] = 0;
    this.#peak[i] = 0;
    this.#ticks[i] = 0;
    this.#ingestSum[i] = 0;
    this.#ingestTicks[i] = 0;
    return i;
  }

  #grow(): void {
    const n = Math.min(this.maxMinutes, this.#minute.length * 2);
    const minute = new Float64Array(n);
    const sum = new Float64Array(n);
    const peak = new Uint32Array(n);
    const ticks = new Uint32Array(n);
    const ingestSum = new Float64Array(n);
    const ingestTicks = new Uint32Array(n);
    // Unroll the ring so the oldest bucket lands at 0.
    for (let k = 0; k < this.#length; k++) {
      const i = this.#index(k);
      minute[k] = this.#minute[i]!;
      sum[k] = this.#sum[i]!;
      peak[k] = this.#peak[i]!;
      ticks[k] = this.#ticks[i]!;
      ingestSum[k] = this.#ingestSum[i]!;
      ingestTicks[k] = this.#ingestTicks[i]!;
    }
    this.#minute = minute;
    this.#sum = sum;
    this.#peak = peak;
    this.#ticks = ticks;
    this.#ingestSum = ingestSum;
    this.#ingestTicks = ingestTicks;
    this.#start = 0;
  }
}
