import type { JournalEntry, JournalSegment } from './journal.js';
import type { InitInfo } from '../playback/hls/fmp4.js';
import { renderDateRange, type DateRange } from '../playback/hls/date-range.js';

/** One rendition of a recording as the journal describes it. */
export interface RecordedRendition {
  name: string;
  /** Journaled segments in msn order, duplicates removed. */
  segments: JournalSegment[];
}

/** What a recording's journal says, folded. */
export interface RecordingPlan {
  streamId: string;
  startedAt: number;
  /** Kept renditions in the journal's order (highest first); only those with segments. */
  renditions: RecordedRendition[];
  /** Why writing stopped early, if it did. */
  stop?: { code: string; reason: string };
  /** Whether the stream's end was journaled (false after a crash). */
  endedCleanly: boolean;
}

/** Folds journal entries into a plan of what can be replayed; segments a later line repeats are kept once. */
export function planFromJournal(entries: JournalEntry[]): RecordingPlan | undefined {
  const start = entries.find((e) => e.t === 'start');
  if (!start || start.t !== 'start') return undefined;
  const byName = new Map<string, Map<number, JournalSegment>>();
  for (const name of start.renditions) byName.set(name, new Map());
  let stop: RecordingPlan['stop'];
  let endedCleanly = false;
  for (const e of entries) {
    if (e.t === 'seg') byName.get(e.r)?.set(e.msn, e);
    else if (e.t === 'stop') stop ??= { code: e.code, reason: e.reason };
    else if (e.t === 'end') endedCleanly = true;
  }
  const renditions: RecordedRendition[] = [];
  for (const [name, segs] of byName) {
    const segments = [...segs.values()].sort((a, b) => a.msn - b.msn);
    if (segments.length) renditions.push({ name, segments });
  }
  return { streamId: start.streamId, startedAt: start.at, renditions, stop, endedCleanly };
}

/** Total seconds of a rendition's segments. */
export function renditionDuration(r: RecordedRendition): number {
  return r.segments.reduce((a, s) => a + s.dur, 0);
}

/**
 * Contiguous pieces of a rendition: a new piece starts where the run changes or an msn is missing
 * (a segment lost in a crash). Each piece is one init plus consecutive segments: valid fMP4.
 */
export function contiguousPieces(r: RecordedRendition): Array<{ run: number; segments: JournalSegment[] }> {
  const out: Array<{ run: number; segments: JournalSegment[] }> = [];
  let prev: JournalSegment | undefined;
  for (const s of r.segments) {
    const cur = out[out.length - 1];
    if (!cur || !prev || s.run !== prev.run || s.msn !== prev.msn + 1) out.push({ run: s.run, segments: [s] });
    else cur.segments.push(s);
    prev = s;
  }
  return out;
}

function dur(n: number): string {
  return n.toFixed(5);
}

/**
 * The VOD media playlist of one rendition (EXT-X-PLAYLIST-TYPE:VOD, EXT-X-ENDLIST), with
 * EXT-X-DISCONTINUITY and a new EXT-X-MAP where the transcoder run changes or segments are missing.
 * URIs are the live ones (init<run>.mp4, s<msn>.m4s), relative to the playlist.
 */
export function renderVodMediaPlaylist(r: RecordedRendition, dateRanges: readonly DateRange[] = []): string {
  // The spec's rule: every EXTINF rounded to the nearest integer is at most the target duration.
  const td = Math.max(1, ...r.segments.map((s) => Math.round(s.dur)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${td}`, '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MEDIA-SEQUENCE:${r.segments[0]?.msn ?? 0}`];
  for (const d of vodDateRanges(r, dateRanges)) lines.push(renderDateRange(d));
  contiguousPieces(r).forEach((piece, i) => {
    if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-MAP:URI="init${piece.run}.mp4"`);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(piece.segments[0]!.pdt).toISOString()}`);
    for (const s of piece.segments) lines.push(`#EXTINF:${dur(s.dur)},`, `s${s.msn}.m4s`);
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/**
 * The date ranges a recording carries: those overlapping its program dates. One still open when
 * the recording ends (the stream ended mid-highlight) ends where the recording does. Every
 * rendition of one recording gets the same list (the span is taken from the first rendition's
 * clock, identical across an aligned ladder up to rounding, and ranges are not clipped).
 */
export function vodDateRanges(r: RecordedRendition, all: readonly DateRange[]): DateRange[] {
  const first = r.segments[0];
  const last = r.segments[r.segments.length - 1];
  if (!first || !last) return [];
  const endMs = last.pdt + last.dur * 1000;
  return all
    .filter((d) => d.startDate <= endMs && (d.endDate ?? Infinity) >= first.pdt)
    .map((d) => (d.endDate === undefined ? { ...d, endDate: Math.max(d.startDate, Math.round(endMs)) } : d))
    .sort((a, b) => a.startDate - b.startDate || (a.id < b.id ? -1 : 1));
}

/** Measured bit rates of a rendition's segments (bits/s): the peak segment and the average. */
export function renditionBitrates(r: RecordedRendition): { peak: number; average: number } {
  let peak = 0;
  let bits = 0;
  let secs = 0;
  for (const s of r.segments) {
    if (s.dur <= 0) continue;
    // A short last segment would overstate the peak: measure it over at least a second.
    peak = Math.max(peak, (s.bytes * 8) / Math.max(s.dur, 1));
    bits += s.bytes * 8;
    secs += s.dur;
  }
  return { peak: Math.round(peak), average: secs > 0 ? Math.round(bits / secs) : 0 };
}

/** The VOD multivariant playlist: one variant per recorded rendition, described from its init and journal. */
export function renderVodMultivariant(variants: Array<{ rendition: RecordedRendition; init: InitInfo }>): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const { rendition, init } of variants) {
    const { peak, average } = renditionBitrates(rendition);
    const codecs = init.tracks.filter((t) => t.kind !== 'other').map((t) => t.codec).join(',');
    const video = init.tracks.find((t) => t.kind === 'video');
    const attrs = [`BANDWIDTH=${Math.max(peak, average, 1)}`, `AVERAGE-BANDWIDTH=${Math.max(average, 1)}`, `CODECS="${codecs}"`];
    if (video?.width && video.height) attrs.push(`RESOLUTION=${video.width}x${video.height}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `${rendition.name}/index.m3u8`);
  }
  return lines.join('\n') + '\n';
}

/** Appends a query (e.g. "?_sid=…") to every URI of a playlist: URI lines and URI="…" attributes. */
export function withQuery(playlist: string, query: string): string {
  if (!query) return playlist;
  return playlist
    .split('\n')
    .map((l) => (l && !l.startsWith('#') ? l + query : l.replace(/URI="([^"]*)"/g, (_m, u: string) => `URI="${u}${query}"`)))
    .join('\n');
}
