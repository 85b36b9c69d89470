import { RenditionTimeline } from './rendition-timeline.js';
import { BlockingWaiter, type BlockingBudget } from './blocking-waiter.js';
import { renderMediaPlaylist, renderMultivariant, targetDuration, type PlaylistTiming } from './playlist-writer.js';
import type { DeliveryDirectives, HlsResponse } from './types.js';
import { laterContinuation, type HlsContinuation } from './hls-continuation.js';
import type { DateRange } from './date-range.js';

export interface HlsStreamOptions {
  streamId: string;
  renditions: Array<{ name: string; fallbackBandwidth: number }>;
  timing: PlaylistTiming;
  windowSegments: number;
  retainExtraSegments: number;
  budget: BlockingBudget;
  /** Where a previous process left this stream (a deploy): the timelines continue from there. */
  continueFrom?: HlsContinuation;
  now?: () => number;
  /** The stream's date ranges (its cue list), read at every playlist render. */
  dateRanges?: () => readonly DateRange[];
}

const PLAYLIST = 'application/vnd.apple.mpegurl';

function bad(code: string, message: string): HlsResponse {
  return { status: 400, code, message };
}

/** Parses _HLS_msn / _HLS_part / _HLS_skip; a string is an error message for a 400. */
export function parseDirectives(q: Record<string, unknown>): DeliveryDirectives | string {
  const int = (name: string): number | undefined | string => {
    const v = q[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) return `${name} must be a non-negative integer`;
    return Number(v);
  };
  const msn = int('_HLS_msn');
  if (typeof msn === 'string') return msn;
  const part = int('_HLS_part');
  if (typeof part === 'string') return part;
  if (part !== undefined && msn === undefined) return '_HLS_part requires _HLS_msn';
  const skipRaw = q._HLS_skip;
  if (skipRaw !== undefined && skipRaw !== 'YES' && skipRaw !== 'v2') return '_HLS_skip must be YES or v2';
  return { msn, part, skip: skipRaw !== undefined };
}

/**
 * One stream's LL-HLS origin: the renditions' timelines, the multivariant and media playlists,
 * blocking reloads and hinted-part requests, all answered as framework-neutral HlsResponses.
 */
export class HlsStream {
  readonly streamId: string;
  readonly timelines = new Map<string, RenditionTimeline>();
  readonly #opts: HlsStreamOptions;
  readonly #waiter: BlockingWaiter;
  readonly #holdMs: number;
  #closed = false;

  constructor(opts: HlsStreamOptions) {
    this.streamId = opts.streamId;
    this.#opts = opts;
    this.#waiter = new BlockingWaiter(opts.budget);
    // The spec's bound for a blocking request: three target durations.
    this.#holdMs = targetDuration(opts.timing) * 3 * 1000;
    for (const r of opts.renditions) {
      const tl = new RenditionTimeline({
        name: r.name,
        segmentSeconds: opts.timing.segmentSeconds,
        partSeconds: opts.timing.partSeconds,
        windowSegments: opts.windowSegments,
        retainExtraSegments: opts.retainExtraSegments,
        continueFrom: opts.continueFrom,
        now: opts.now,
      });
      tl.onChange = () => this.#waiter.notify();
      this.timelines.set(r.name, tl);
    }
  }

  /** Whether every rendition has ended (EXT-X-ENDLIST). */
  get ended(): boolean {
    return [...this.timelines.values()].every((t) => t.ended);
  }

  /** Requests held right now by blocking reloads on this stream. */
  get blockedRequests(): number {
    return this.#waiter.size;
  }

  /** Every rendition has an init segment and at least one part: the multivariant can describe it. */
  ready(): boolean {
    return [...this.timelines.values()].every((t) => t.stats() !== undefined && t.segments.length > 0);
  }

  /** Ends every rendition (the publisher stopped): playlists get EXT-X-ENDLIST. */
  end(): void {
    for (const t of this.timelines.values()) t.end();
    this.#waiter.notify();
  }

  /** Where a previous process left this stream, if it continues one (the transcoder numbers runs above lastRunId). */
  get continuedFrom(): HlsContinuation | undefined {
    return this.#opts.continueFrom;
  }

  /**
   * The server is stopping while the stream is live: open segments complete (so they are recorded)
   * without ENDLIST, and the answer says where the next process continues.
   */
  interrupt(): HlsContinuation {
    let nextMsn = 0;
    let discontinuities = 0;
    let lastRunId = 0;
    for (const t of this.timelines.values()) {
      t.completeOpenSegment();
      nextMsn = Math.max(nextMsn, t.nextMsn());
      discontinuities = Math.max(discontinuities, t.discontinuitySequence(t.nextMsn()));
      for (const id of t.runs.keys()) lastRunId = Math.max(lastRunId, id);
    }
    this.#waiter.notify();
    return laterContinuation(this.#opts.continueFrom, { nextMsn, discontinuities, lastRunId })!;
  }

  /** Releases held requests; used when the stream is dropped from memory or the server stops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiter.close();
  }

  /** Bytes of media held in memory across renditions. */
  bytesHeld(): number {
    let n = 0;
    for (const t of this.timelines.values()) n += t.bytesHeld();
    return n;
  }

  /** The multivariant playlist, once the renditions are described by real media (or 503 after the hold). */
  async multivariant(query: string): Promise<HlsResponse> {
    if (!this.ready()) {
      const r = await this.#waiter.wait(() => this.ready() || this.ended, this.#holdMs);
      if (!this.ready()) return { status: 503, code: 'SHOWCASE_ERR_UNAVAILABLE', message: `stream has no media yet (${r})` };
    }
    const variants = this.#opts.renditions.map((r) => ({
      uri: `${r.name}/index.m3u8${query}`,
      stats: this.timelines.get(r.name)!.stats()!,
      fallbackBandwidth: r.fallbackBandwidth,
    }));
    // Highest bandwidth first is conventional; hls.js and Safari sort anyway.
    return { status: 200, contentType: PLAYLIST, body: renderMultivariant(variants), cache: this.ended ? 'immutable' : 'playlist' };
  }

  /** A media playlist, honouring blocking reload and delta-update directives. */
  async mediaPlaylist(name: string, q: Record<string, unknown>, query: string): Promise<HlsResponse> {
    const tl = this.timelines.get(name);
    if (!tl) return { status: 404, code: 'SHOWCASE_ERR_NOT_FOUND', message: `no rendition ${name}` };
    const d = parseDirectives(q);
    if (typeof d === 'string') return bad('SHOWCASE_ERR_HLS_BAD_PARAMS', d);
    if (!tl.ended && d.msn !== undefined) {
      const msn = d.msn;
      const part = d.part;
      if (msn > tl.lastMsn() + 2) return bad('SHOWCASE_ERR_HLS_TOO_FAR_AHEAD', `_HLS_msn ${msn} is more than two segments past the last (${tl.lastMsn()})`);
      const edge = tl.edge();
      // The spec's Advance Part Limit: three parts per second of part target below one second.
      const advance = this.#opts.timing.partSeconds < 1 ? Math.ceil(3 / this.#opts.timing.partSeconds) : 3;
      if (part !== undefined && msn === edge.msn && part > edge.parts - 1 + advance) {
        return bad('SHOWCASE_ERR_HLS_TOO_FAR_AHEAD', `_HLS_part ${part} is more than ${advance} parts past the last`);
      }
      const satisfied = (): boolean => {
        if (tl.ended) return true;
        const e = tl.edge();
        if (part === undefined) {
          const seg = tl.segment(msn);
          return seg ? seg.complete : msn < (tl.segments[0]?.msn ?? 0);
        }
        return msn < e.msn || (msn === e.msn && part < e.parts);
      };
      const r = await this.#waiter.wait(satisfied, this.#holdMs);
      if (r === 'timeout') return { status: 503, code: 'SHOWCASE_ERR_HLS_TIMEOUT', message: `segment ${msn} part ${part ?? '-'} did not arrive within ${this.#holdMs} ms` };
      if (r === 'overloaded') return { status: 503, code: 'SHOWCASE_ERR_UNAVAILABLE', message: 'too many blocking playlist requests' };
    }
    const reports = [...this.timelines.values()].filter((t) => t !== tl).map((t) => ({ uri: `../${t.name}/index.m3u8`, timeline: t }));
    const body = renderMediaPlaylist(tl, { timing: this.#opts.timing, skip: d.skip, reports, query, dateRanges: this.#opts.dateRanges?.() });
    return { status: 200, contentType: PLAYLIST, body, cache: tl.ended ? 'immutable' : 'playlist' };
  }

  /** An init segment, part or segment by file name; hinted parts are held until they exist. */
  async media(name: string, file: string): Promise<HlsResponse> {
    const tl = this.timelines.get(name);
    const notFound: HlsResponse = { status: 404, code: 'SHOWCASE_ERR_NOT_FOUND', message: `no ${file} in ${name}` };
    if (!tl) return notFound;
    let m = /^init(\d{1,9})\.mp4$/.exec(file);
    if (m) {
      const init = tl.init(Number(m[1]));
      return init ? { status: 200, contentType: 'video/mp4', body: init, cache: 'immutable' } : notFound;
    }
    m = /^p(\d{1,12})\.(\d{1,6})\.m4s$/.exec(file);
    if (m) {
      const msn = Number(m[1]);
      const index = Number(m[2]);
      let part = tl.part(msn, index);
      if (!part && !tl.ended && this.#isHinted(tl, msn, index)) {
        await this.#waiter.wait(() => tl.ended || tl.part(msn, index) !== undefined || this.#passed(tl, msn, index), this.#holdMs);
        part = tl.part(msn, index);
      }
      return part ? { status: 200, contentType: 'video/mp4', body: part.data, cache: 'immutable' } : notFound;
    }
    m = /^s(\d{1,12})\.m4s$/.exec(file);
    if (m) {
      const msn = Number(m[1]);
      let seg = tl.segment(msn);
      if (seg && !seg.complete) {
        await this.#waiter.wait(() => seg!.complete, this.#holdMs);
        seg = tl.segment(msn);
      }
      if (!seg || !seg.complete) return notFound;
      seg.joined ??= Buffer.concat(seg.parts.map((p) => p.data), seg.bytes);
      return { status: 200, contentType: 'video/mp4', body: seg.joined, cache: 'immutable' };
    }
    return notFound;
  }

  /** The part the playlist's preload hint names (or the one right after the edge). */
  #isHinted(tl: RenditionTimeline, msn: number, index: number): boolean {
    const e = tl.edge();
    return (msn === e.msn && index === e.parts) || (msn === e.msn + 1 && index === 0);
  }

  /** The timeline moved past where this part would have been: it will never exist. */
  #passed(tl: RenditionTimeline, msn: number, index: number): boolean {
    const e = tl.edge();
    if (e.msn > msn + 1) return true;
    if (e.msn === msn + 1) return !(tl.segment(msn)?.parts[index]) && (tl.segment(msn)?.complete ?? true) && e.parts > 0;
    return false;
  }
}
