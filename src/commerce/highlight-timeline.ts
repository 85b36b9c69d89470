import { markOrderedRanges, type DateRange } from '../playback/hls/date-range.js';
import type { HighlightRecord } from '../store/commerce-types.js';

/** The DATERANGE class of a product highlight. */
export const HIGHLIGHT_CLASS = 'com.showcase.highlight';

interface StreamCues {
  /** Oldest first; each range immutable (an end replaces the object). */
  ranges: DateRange[];
  current?: HighlightRecord;
}

/**
 * The per-stream cue list of product highlights: what every rendition's media playlist renders as
 * EXT-X-DATERANGE (read synchronously at each playlist render: the media path never waits on the
 * store, which gets the same facts written behind it). At most one highlight is current per
 * stream; a new one ends the previous at its own start, so highlights never overlap. Bounded:
 * maxPerStream ranges per stream (the oldest ended ones go first, long out of any live window) and
 * maxStreams streams (the least recently changed goes).
 */
export class HighlightTimeline {
  readonly #streams = new Map<string, StreamCues>();

  constructor(private readonly maxPerStream: number, private readonly maxStreams = 4096) {}

  /** Starts a highlight; returns the one it ended (with its end set), if any. */
  start(h: HighlightRecord): HighlightRecord | undefined {
    const s = this.#touch(h.streamId);
    const ended = s.current ? this.#endCurrent(s, h.startDate) : undefined;
    s.current = h;
    const last = s.ranges[s.ranges.length - 1];
    // A start before the last one's (a clock step back) leaves the list unordered: a plain copy is scanned.
    if (last && h.startDate < last.startDate) s.ranges = [...s.ranges];
    s.ranges.push(toRange(h));
    while (s.ranges.length > this.maxPerStream) s.ranges.shift();
    return ended;
  }

  /** Ends the stream's current highlight at endDate (never before its start); returns it, if there was one. */
  end(streamId: string, endDate: number): HighlightRecord | undefined {
    const s = this.#streams.get(streamId);
    if (!s?.current) return undefined;
    return this.#endCurrent(s, endDate);
  }

  /** The stream's current highlight. */
  current(streamId: string): HighlightRecord | undefined {
    return this.#streams.get(streamId)?.current;
  }

  /** The ranges the stream's playlists carry (the cue list itself: callers must not change it). */
  dateRanges(streamId: string): readonly DateRange[] {
    return this.#streams.get(streamId)?.ranges ?? [];
  }

  /**
   * Refills a stream's cue list from the store (a process continuing an interrupted stream); does
   * nothing when the list already holds something (what this process made is newer).
   */
  restore(streamId: string, records: readonly HighlightRecord[]): void {
    if (this.#streams.get(streamId)?.ranges.length || records.length === 0) return;
    const s = this.#touch(streamId);
    const kept = records.slice(-this.maxPerStream);
    const ranges = kept.map(toRange);
    // Marked ordered only when it is (a store left by a crash may hold an open range mid-list).
    s.ranges = isOrdered(ranges) ? markOrderedRanges(ranges) : ranges;
    s.current = kept.find((h) => h.endDate === null);
  }

  /** Forgets a stream (its origin was dropped from memory). */
  drop(streamId: string): void {
    this.#streams.delete(streamId);
  }

  /** Streams held. */
  get size(): number {
    return this.#streams.size;
  }

  #endCurrent(s: StreamCues, endDate: number): HighlightRecord {
    const cur = s.current!;
    const ended: HighlightRecord = { ...cur, endDate: Math.max(cur.startDate, Math.round(endDate)) };
    s.current = undefined;
    const i = s.ranges.findIndex((r) => r.id === cur.id);
    if (i >= 0) s.ranges[i] = toRange(ended);
    return ended;
  }

  #touch(streamId: string): StreamCues {
    let s = this.#streams.get(streamId);
    if (s) this.#streams.delete(streamId);
    else s = { ranges: markOrderedRanges([]) };
    this.#streams.set(streamId, s);
    if (this.#streams.size > this.maxStreams) this.#streams.delete(this.#streams.keys().next().value!);
    return s;
  }
}

function isOrdered(ranges: readonly DateRange[]): boolean {
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    if (prev.endDate === undefined || prev.endDate > ranges[i]!.startDate || prev.startDate > ranges[i]!.startDate) return false;
  }
  return true;
}

/** A highlight as a date range: same ID, CLASS, START-DATE and X-PRODUCT-ID on every render. */
export function toRange(h: HighlightRecord): DateRange {
  return {
    id: h.id,
    class: HIGHLIGHT_CLASS,
    startDate: h.startDate,
    ...(h.endDate !== null ? { endDate: h.endDate } : {}),
    attributes: { 'X-PRODUCT-ID': h.productId },
  };
}
