import { parseFragment, parseInit, type InitInfo, type TrackInfo } from './fmp4.js';
import type { Part, Segment } from './types.js';
import { TypedEmitter } from '../../core/typed-emitter.js';

/** What a timeline tells its subscribers (the recorder, metrics), in order of production. */
export type RenditionTimelineEvents = {
  /** A transcoder run began with this init segment; what follows is a discontinuity if media came before. */
  init: [runId: number, init: Buffer, discontinuity: boolean];
  /** A part was appended to a segment. */
  part: [part: Part, segment: Segment];
  /** A segment is complete (its EXTINF is known). */
  segment: [segment: Segment];
  /** The rendition ended (ENDLIST). */
  end: [];
};

export interface RenditionTimelineOptions {
  name: string;
  segmentSeconds: number;
  partSeconds: number;
  /** Complete segments listed in the live playlist. */
  windowSegments: number;
  /** Complete segments kept (downloadable) beyond the window. */
  retainExtraSegments: number;
  /**
   * Continue a stream a previous process served (a deploy): numbering starts at nextMsn, the
   * discontinuity sequence at discontinuities, and the first segment carries EXT-X-DISCONTINUITY.
   */
  continueFrom?: { nextMsn: number; discontinuities: number };
  now?: () => number;
}

interface Run {
  id: number;
  init: Buffer;
  info: InitInfo;
  primary: TrackInfo;
  wallEpochMs: number;
  /** Media time (seconds) of this run's first fragment on the transcoder's clock. */
  firstTime?: number;
  /** Stream media time at which this run started (seconds since the stream's first part). */
  streamOffset: number;
}

/** Media facts measured from the rendition's own output, for the multivariant playlist. */
export interface RenditionStats {
  codecs: string;
  width?: number;
  height?: number;
  frameRate?: number;
  peakBitrate: number;
  averageBitrate: number;
}

/**
 * The live timeline of one rendition: fragments in, parts and segments out, with the spec's
 * bookkeeping (media sequence, discontinuity sequence, which init applies) and bounded memory.
 * Pure logic: no timers, no I/O. Listeners learn about every change through onChange.
 */
export class RenditionTimeline extends TypedEmitter<RenditionTimelineEvents> {
  readonly name: string;
  readonly segments: Segment[] = [];
  readonly runs = new Map<number, Run>();
  ended = false;
  /** Discontinuities in segments evicted from memory, for EXT-X-DISCONTINUITY-SEQUENCE. */
  evictedDiscontinuities = 0;
  onChange: () => void = () => {};
  readonly #opts: RenditionTimelineOptions;
  readonly #now: () => number;
  #run?: Run;
  #nextMsn = 0;
  #pendingDiscontinuity = false;
  #mediaClock = 0;
  #videoSamples = 0;
  #videoSeconds = 0;
  #firstSamples = 0;
  #firstSeconds = 0;
  #peakBitrate = 0;
  #bitSum = 0;
  #secondsSum = 0;
  /** Where (media seconds) and in which run the last video keyframe began, and the gap before it. */
  #lastKeyframeAt?: number;
  #lastKeyframeRun?: number;
  #keyframeGap = Infinity;

  constructor(opts: RenditionTimelineOptions) {
    super();
    this.name = opts.name;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    if (opts.continueFrom) {
      this.#nextMsn = opts.continueFrom.nextMsn;
      this.evictedDiscontinuities = opts.continueFrom.discontinuities;
      this.#pendingDiscontinuity = true;
    }
  }

  /** A new transcoder run with its init segment: what follows is a discontinuity if media came before. */
  startRun(runId: number, init: Buffer, wallEpochMs: number): void {
    const info = parseInit(init);
    const primary = info.tracks.find((t) => t.kind === 'video') ?? info.tracks[0];
    if (!primary) throw new Error(`rendition ${this.name}: init segment has no track`);
    this.#closeOpenSegment();
    if (this.segments.length > 0) this.#pendingDiscontinuity = true;
    this.#run = { id: runId, init, info, primary, wallEpochMs, streamOffset: this.#mediaClock };
    this.runs.set(runId, this.#run);
    this.safeEmit('init', runId, init, this.#pendingDiscontinuity);
  }

  /** Adds one moof+mdat fragment of the current run as a part, opening a segment on keyframes. */
  addFragment(data: Buffer): Part {
    const run = this.#run;
    if (!run) throw new Error(`rendition ${this.name}: fragment before init`);
    if (this.ended) throw new Error(`rendition ${this.name}: fragment after end`);
    const frag = parseFragment(data, run.info);
    const t = frag.tracks.find((x) => x.trackId === run.primary.trackId) ?? frag.tracks[0];
    if (!t) throw new Error(`rendition ${this.name}: fragment has no track`);
    const start = t.baseMediaDecodeTime / run.primary.timescale;
    const duration = t.duration / run.primary.timescale;
    const firstOfRun = run.firstTime === undefined;
    run.firstTime ??= start;
    // The first fragment of a run carries the encoder's start offset in its first sample's duration:
    // leave it out of the frame-rate measurement.
    if (run.primary.kind === 'video') {
      if (!firstOfRun) {
        this.#videoSamples += t.sampleCount;
        this.#videoSeconds += duration;
      } else if (this.#firstSeconds === 0) {
        this.#firstSamples = t.sampleCount;
        this.#firstSeconds = duration;
      }
    }
    const independent = run.primary.kind !== 'video' || t.keyframe;
    let seg = this.openSegment();
    const target = this.#opts.segmentSeconds;
    const ceiling = Math.ceil(target) + 0.49;
    if (independent && run.primary.kind === 'video') {
      if (this.#lastKeyframeAt !== undefined && this.#lastKeyframeRun === run.id) this.#keyframeGap = start - this.#lastKeyframeAt;
      this.#lastKeyframeAt = start;
      this.#lastKeyframeRun = run.id;
    }
    // Cut on a keyframe once the segment holds half a target (a stray early keyframe does not make
    // a tiny segment) and either reached the target or the next keyframe (one source GOP on) would
    // overflow it: a 1 s GOP source (copied by passthrough) still makes 2 s segments. Cut anyway
    // before EXTINF would round above TARGETDURATION (keyframes gone missing): the spec forbids it.
    const keyframeCut = independent && seg !== undefined && seg.duration >= target * 0.5
      && (seg.duration >= target - 0.02 || seg.duration + this.#keyframeGap >= ceiling);
    if (seg && (keyframeCut || seg.duration + duration >= ceiling)) {
      this.#completeSegment(seg);
      seg = undefined;
    }
    if (!seg) {
      const mediaStart = run.streamOffset + (start - run.firstTime);
      seg = {
        msn: this.#nextMsn++,
        parts: [],
        duration: 0,
        programDateTimeMs: Math.round(run.wallEpochMs + (start - run.firstTime) * 1000),
        discontinuity: this.#pendingDiscontinuity,
        runId: run.id,
        complete: false,
        bytes: 0,
      };
      this.#mediaClock = mediaStart;
      this.#pendingDiscontinuity = false;
      this.segments.push(seg);
    }
    this.#mediaClock += duration;
    const part: Part = { msn: seg.msn, index: seg.parts.length, data, duration, independent, availableAt: this.#now(), mediaEnd: this.#mediaClock };
    seg.parts.push(part);
    seg.duration += duration;
    seg.bytes += data.length;
    this.safeEmit('part', part, seg);
    this.onChange();
    return part;
  }

  /** Ends the rendition: the open segment completes and the playlist gets EXT-X-ENDLIST. */
  end(): void {
    if (this.ended) return;
    this.#closeOpenSegment();
    this.ended = true;
    this.safeEmit('end');
    this.onChange();
  }

  /**
   * Completes the open segment without ending the rendition (the server is stopping mid-stream: the
   * recorder journals what was produced, and the next process continues after it).
   */
  completeOpenSegment(): void {
    this.#closeOpenSegment();
    this.onChange();
  }

  /** The msn the next segment will get. */
  nextMsn(): number {
    return this.#nextMsn;
  }

  /** The segment still receiving parts, if any. */
  openSegment(): Segment | undefined {
    const last = this.segments[this.segments.length - 1];
    return last && !last.complete ? last : undefined;
  }

  /** Where the live edge is: the open segment's msn and part count (or the next msn with 0 parts). */
  edge(): { msn: number; parts: number } {
    const open = this.openSegment();
    return open ? { msn: open.msn, parts: open.parts.length } : { msn: this.#nextMsn, parts: 0 };
  }

  /**
   * Where the next part will land, for EXT-X-PRELOAD-HINT. Keyframes are forced at every segment
   * target, so a segment about to reach its target will be closed by the next part's keyframe.
   */
  nextPart(): { msn: number; index: number } {
    const open = this.openSegment();
    if (!open) return { msn: this.#nextMsn, index: 0 };
    const last = open.parts[open.parts.length - 1];
    const typical = last ? last.duration : this.#opts.partSeconds;
    if (open.duration + typical * 0.5 >= this.#opts.segmentSeconds) return { msn: open.msn + 1, index: 0 };
    return { msn: open.msn, index: open.parts.length };
  }

  /** The msn of the last segment in the playlist (open or complete), -1 when there is none. */
  lastMsn(): number {
    return this.segments.length ? this.segments[this.segments.length - 1]!.msn : -1;
  }

  /** Segments listed in the playlist: the last windowSegments complete ones plus the open one. */
  listed(): Segment[] {
    const completeCount = this.segments.filter((s) => s.complete).length;
    const skip = Math.max(0, completeCount - this.#opts.windowSegments);
    return this.segments.slice(skip);
  }

  /** Discontinuity tags that precede the first listed segment (EXT-X-DISCONTINUITY-SEQUENCE). */
  discontinuitySequence(firstListedMsn: number): number {
    let n = this.evictedDiscontinuities;
    for (const s of this.segments) {
      if (s.msn >= firstListedMsn) break;
      if (s.discontinuity) n++;
    }
    return n;
  }

  /** Finds a segment kept in memory (listed or retained). */
  segment(msn: number): Segment | undefined {
    const first = this.segments[0];
    if (!first) return undefined;
    return this.segments[msn - first.msn];
  }

  /** Finds a part kept in memory. */
  part(msn: number, index: number): Part | undefined {
    return this.segment(msn)?.parts[index];
  }

  /** The init segment of a run. */
  init(runId: number): Buffer | undefined {
    return this.runs.get(runId)?.init;
  }

  /** The newest run's id, undefined before any. */
  currentRunId(): number | undefined {
    return this.#run?.id;
  }

  /** Measured facts for the multivariant playlist; undefined until the first init. */
  stats(): RenditionStats | undefined {
    const run = this.#run;
    if (!run) return undefined;
    const video = run.info.tracks.find((t) => t.kind === 'video');
    const codecs = run.info.tracks.filter((t) => t.kind !== 'other').map((t) => t.codec).join(',');
    return {
      codecs,
      width: video?.width,
      height: video?.height,
      frameRate: this.#videoSeconds > 0 ? snapFrameRate(this.#videoSamples / this.#videoSeconds, this.#videoSeconds) : this.#firstSeconds > 0 ? snapFrameRate(this.#firstSamples / this.#firstSeconds, this.#firstSeconds) : undefined,
      peakBitrate: Math.round(this.#peakBitrate),
      averageBitrate: this.#secondsSum > 0 ? Math.round(this.#bitSum / this.#secondsSum) : 0,
    };
  }

  /** Total media bytes held in memory (for bounds and metrics). */
  bytesHeld(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes + (s.joined?.length ?? 0);
    for (const r of this.runs.values()) n += r.init.length;
    return n;
  }

  #closeOpenSegment(): void {
    const open = this.openSegment();
    if (open) this.#completeSegment(open);
  }

  #completeSegment(seg: Segment): void {
    seg.complete = true;
    this.safeEmit('segment', seg);
    if (seg.duration > 0) {
      const bits = seg.bytes * 8;
      this.#peakBitrate = Math.max(this.#peakBitrate, bits / Math.max(seg.duration, this.#opts.segmentSeconds * 0.5));
      this.#bitSum += bits;
      this.#secondsSum += seg.duration;
    }
    this.#evict();
  }

  #evict(): void {
    const keep = this.#opts.windowSegments + this.#opts.retainExtraSegments;
    let complete = this.segments.filter((s) => s.complete).length;
    while (complete > keep) {
      const dropped = this.segments.shift()!;
      if (dropped.discontinuity) this.evictedDiscontinuities++;
      complete--;
    }
    // Drop init segments no kept segment refers to (except the current run's).
    const used = new Set(this.segments.map((s) => s.runId));
    for (const id of this.runs.keys()) if (!used.has(id) && id !== this.#run?.id) this.runs.delete(id);
  }
}

const STANDARD_RATES = [23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60];

/**
 * A measured frame rate, snapped to the standard rate it is within 2 % of (timestamps jitter).
 * spanSeconds: how long the measurement ran; millisecond timestamps (FLV's, kept by the ladder)
 * cannot tell 29.97 from 30 over a part or two, so within that uncertainty the whole rate wins.
 */
export function snapFrameRate(measured: number, spanSeconds?: number): number {
  const uncertainty = spanSeconds ? 0.0015 / spanSeconds : 0;
  const whole = STANDARD_RATES.find((r) => Number.isInteger(r) && Math.abs(measured - r) / r <= uncertainty);
  if (whole !== undefined) return whole;
  let best = STANDARD_RATES[0]!;
  for (const r of STANDARD_RATES) if (Math.abs(measured - r) < Math.abs(measured - best)) best = r;
  return Math.abs(measured - best) / best < 0.02 ? best : Math.round(measured * 1000) / 1000;
}
