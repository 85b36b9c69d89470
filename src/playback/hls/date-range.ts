/**
 * EXT-X-DATERANGE (draft-pantos-hls-rfc8216bis, 4.4.5.1): a range of the program's date-time line
 * that a media playlist carries, e.g. a product highlight. The same range renders to the same tag
 * in every rendition and on every reload: an attribute once sent never changes value (an END-DATE
 * is added when the range ends, which the spec allows, as a tag with the same ID may add attributes).
 */
export interface DateRange {
  /** Unique within the playlist; quoted-string-safe (no '"', CR or LF): the writer's own ids. */
  readonly id: string;
  /** Reverse-DNS class, e.g. com.showcase.highlight. */
  readonly class: string;
  /** ms since the epoch, on the EXT-X-PROGRAM-DATE-TIME clock. */
  readonly startDate: number;
  /** ms since the epoch, at or after startDate; undefined while the range is open. */
  readonly endDate?: number;
  /** Client attributes: names X-[A-Z0-9-]+, quoted-string values. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Where a stream's playlists read their date ranges from (a cue list kept by another part). */
export type DateRangeSource = (streamId: string) => readonly DateRange[];

const SAFE = /^[^"\r\n]*$/;
const CLIENT_ATTR = /^X-[A-Z0-9-]+$/;

// Ranges are immutable (an end makes a new object), so each one's line is rendered once, not per request.
const rendered = new WeakMap<DateRange, string>();

/** One EXT-X-DATERANGE line. Throws on a value the spec's quoted-string cannot hold (a bug, not input). */
export function renderDateRange(d: DateRange): string {
  let line = rendered.get(d);
  if (line === undefined) rendered.set(d, (line = formatDateRange(d)));
  return line;
}

function formatDateRange(d: DateRange): string {
  const q = (name: string, v: string): string => {
    if (!SAFE.test(v)) throw new Error(`EXT-X-DATERANGE ${name} holds a character a quoted-string cannot`);
    return `${name}="${v}"`;
  };
  const attrs = [q('ID', d.id), q('CLASS', d.class), q('START-DATE', new Date(d.startDate).toISOString())];
  if (d.endDate !== undefined) attrs.push(q('END-DATE', new Date(Math.max(d.endDate, d.startDate)).toISOString()));
  for (const [k, v] of Object.entries(d.attributes)) {
    if (!CLIENT_ATTR.test(k)) throw new Error(`EXT-X-DATERANGE client attribute ${k} is not X-<A-Z0-9->`);
    attrs.push(q(k, v));
  }
  return `#EXT-X-DATERANGE:${attrs.join(',')}`;
}

/**
 * The date ranges a playlist spanning [fromMs, ...) carries: every one still open or ending at or
 * after the playlist's first program date. Ranges starting after the playlist's last media are kept
 * too (a highlight is stamped at the ingest edge, ahead of the transcoder's output): players
 * schedule them by START-DATE. Sorted by start, then id, so every rendition lists them alike.
 */
export function dateRangesFrom(all: readonly DateRange[], fromMs: number): DateRange[] {
  const kept = ORDERED.has(all) ? all.slice(firstEndingFrom(all, fromMs)) : all.filter((d) => d.endDate === undefined || d.endDate >= fromMs);
  return kept.sort((a, b) => a.startDate - b.startDate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// Lists whose owner keeps them in start order without overlaps (so their ends never decrease and
// only the last may be open): the ranges a window carries are a suffix, found by binary search
// instead of a scan of the whole list on every playlist render (a 2-hour stream: 500 highlights).
const ORDERED = new WeakSet<readonly DateRange[]>();

/** Declares that `list` is, and stays, in start order with no two ranges overlapping. */
export function markOrderedRanges<T extends readonly DateRange[]>(list: T): T {
  ORDERED.add(list);
  return list;
}

function firstEndingFrom(all: readonly DateRange[], fromMs: number): number {
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const end = all[mid]!.endDate;
    if (end === undefined || end >= fromMs) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
