import type { RenditionTimeline, RenditionStats } from './rendition-timeline.js';
import type { Segment } from './types.js';
import { dateRangesFrom, renderDateRange, type DateRange } from './date-range.js';

/** Playlist-wide timing values; identical in every rendition of a stream. */
export interface PlaylistTiming {
  segmentSeconds: number;
  partSeconds: number;
  /** PART-HOLD-BACK in part targets (hls.partHoldBackParts); 3 when absent. The spec allows 2 at least. */
  partHoldBackParts?: number;
}

/** EXT-X-TARGETDURATION: the segment target rounded up (segments are cut before they round above it). */
export function targetDuration(t: PlaylistTiming): number {
  return Math.ceil(t.segmentSeconds);
}

/**
 * EXT-X-PART-INF PART-TARGET: the part grid's exact duration (10 frames at 30 fps = 0.3333 s)
 * rounded UP to the millisecond, so no part ever lasts longer than the target announced.
 */
export function announcedPartTarget(partSeconds: number): number {
  return Math.ceil(partSeconds * 1000 - 1e-6) / 1000;
}

/**
 * The values of EXT-X-SERVER-CONTROL: PART-HOLD-BACK is partHoldBackParts part targets (rfc8216bis: at
 * least 2; 3 when unset), HOLD-BACK 3 targets and CAN-SKIP-UNTIL 6 targets, the spec's minimums.
 */
export function serverControl(t: PlaylistTiming): { partHoldBack: number; holdBack: number; canSkipUntil: number } {
  const td = targetDuration(t);
  const parts = Math.max(2, t.partHoldBackParts ?? 3);
  return { partHoldBack: round3(announcedPartTarget(t.partSeconds) * parts), holdBack: td * 3, canSkipUntil: td * 6 };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function dur(n: number): string {
  return n.toFixed(5);
}

export interface MediaPlaylistOptions {
  timing: PlaylistTiming;
  /** Render a delta update (EXT-X-SKIP) as asked by _HLS_skip=YES. */
  skip: boolean;
  /** Sibling renditions for EXT-X-RENDITION-REPORT, URIs relative to this playlist. */
  reports: Array<{ uri: string; timeline: RenditionTimeline }>;
  /** Appended to every URI (e.g. "?_sid=..."), empty for none. */
  query: string;
  /**
   * The stream's date ranges (highlights): those overlapping the window are rendered. Delta updates
   * keep them all (CAN-SKIP-DATERANGES is not advertised), so a skipped playlist never drops one.
   */
  dateRanges?: readonly DateRange[];
}

/**
 * Renders one rendition's LL-HLS media playlist (draft-pantos-hls-rfc8216bis): EXT-X-MAP per run,
 * parts for the last three target durations, a preload hint for the next part, rendition reports,
 * and delta updates that skip segments older than CAN-SKIP-UNTIL.
 */
export function renderMediaPlaylist(tl: RenditionTimeline, o: MediaPlaylistOptions): string {
  const td = targetDuration(o.timing);
  const sc = serverControl(o.timing);
  const listed = tl.listed();
  const first = listed[0];
  const lines: string[] = ['#EXTM3U', '#EXT-X-VERSION:9', `#EXT-X-TARGETDURATION:${td}`];
  lines.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${sc.partHoldBack},HOLD-BACK=${sc.holdBack},CAN-SKIP-UNTIL=${sc.canSkipUntil}`);
  lines.push(`#EXT-X-PART-INF:PART-TARGET=${announcedPartTarget(o.timing.partSeconds)}`);
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? 0}`);
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${first ? tl.discontinuitySequence(first.msn) : 0}`);
  if (!first) {
    if (tl.ended) lines.push('#EXT-X-ENDLIST');
    return lines.join('\n') + '\n';
  }

  // Delta update: skip complete segments that start more than CAN-SKIP-UNTIL before the end.
  let skipped = 0;
  if (o.skip && !tl.ended) {
    const total = listed.reduce((a, s) => a + s.duration, 0);
    let start = 0;
    for (const s of listed) {
      if (!s.complete || total - start <= sc.canSkipUntil) break;
      start += s.duration;
      skipped++;
    }
    if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  }
  if (o.dateRanges?.length) for (const d of dateRangesFrom(o.dateRanges, first.programDateTimeMs)) lines.push(renderDateRange(d));

  // Parts are listed for segments that end within three target durations of the playlist's end.
  const totalDuration = listed.reduce((a, s) => a + s.duration, 0);
  let elapsed = 0;
  let mapRun: number | undefined;
  for (let i = 0; i < listed.length; i++) {
    const s = listed[i]!;
    elapsed += s.duration;
    if (i < skipped) continue;
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.runId !== mapRun) {
      lines.push(`#EXT-X-MAP:URI="init${s.runId}.mp4${o.query}"`);
      mapRun = s.runId;
    }
    if (i === skipped || s.discontinuity) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTimeMs).toISOString()}`);
    const withParts = !s.complete || totalDuration - elapsed < td * 3;
    if (withParts) for (const p of s.parts) lines.push(partLine(p.msn, p.index, p.duration, p.independent, o.query));
    if (s.complete) lines.push(`#EXTINF:${dur(s.duration)},`, `s${s.msn}.m4s${o.query}`);
  }

  if (tl.ended) {
    lines.push('#EXT-X-ENDLIST');
  } else {
    const next = tl.nextPart();
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p${next.msn}.${next.index}.m4s${o.query}"`);
  }
  for (const r of o.reports) lines.push(renditionReport(r.uri, r.timeline));
  return lines.join('\n') + '\n';
}

function partLine(msn: number, index: number, duration: number, independent: boolean, query: string): string {
  return `#EXT-X-PART:DURATION=${dur(duration)},URI="p${msn}.${index}.m4s${query}"${independent ? ',INDEPENDENT=YES' : ''}`;
}

/** EXT-X-RENDITION-REPORT: the sibling's last segment and last part, so players switch without a fetch. */
function renditionReport(uri: string, tl: RenditionTimeline): string {
  const last: Segment | undefined = tl.segments[tl.segments.length - 1];
  if (!last) return `#EXT-X-RENDITION-REPORT:URI="${uri}"`;
  const lastPart = last.parts.length - 1;
  return `#EXT-X-RENDITION-REPORT:URI="${uri}",LAST-MSN=${last.msn},LAST-PART=${Math.max(0, lastPart)}`;
}

/** One variant of the multivariant playlist. */
export interface VariantEntry {
  uri: string;
  stats: RenditionStats;
  /** Configured bitrate (bits/s) used until the rendition has measured a segment. */
  fallbackBandwidth: number;
}

/** Renders the multivariant playlist from what the renditions actually carry. */
export function renderMultivariant(variants: VariantEntry[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:9'];
  for (const v of variants) {
    const s = v.stats;
    const peak = s.peakBitrate > 0 ? s.peakBitrate : v.fallbackBandwidth;
    const avg = s.averageBitrate > 0 ? s.averageBitrate : Math.round(peak * 0.9);
    const attrs = [`BANDWIDTH=${Math.max(peak, avg)}`, `AVERAGE-BANDWIDTH=${avg}`, `CODECS="${s.codecs}"`];
    if (s.width && s.height) attrs.push(`RESOLUTION=${s.width}x${s.height}`);
    if (s.frameRate) attrs.push(`FRAME-RATE=${s.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  return lines.join('\n') + '\n';
}

/**
 * Appends a query (the viewer session, `?_sid=...`) to every URI of a playlist read from disk: the
 * URI lines and URI="..." attributes (EXT-X-MAP, EXT-X-MEDIA). Used for VOD replays, whose
 * playlists are files written once at finalize, so replay viewers are counted like live ones.
 */
export function withQuery(playlist: string, query: string): string {
  if (!query) return playlist;
  return playlist
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      if (!line.startsWith('#')) return line + query;
      return line.replace(/URI="([^"?]*)"/g, (_m, uri: string) => `URI="${uri}${query}"`);
    })
    .join('\n');
}
