/**
 * Playlist cost of highlights (issue 13): rendering a media playlist of a 2-hour stream with 500
 * highlights, µs per render, beside the same playlist with none (target: under 2x). Two cases: the
 * live LL-HLS playlist at the stream's end (a 12-segment window; the highlight list is filtered on
 * every render) and the recording's VOD playlist (3,600 segments, all 500 highlights in it).
 * Pure CPU, no I/O. Run: npx tsc -p tsconfig.json && node dist/bench/commerce-playlist.js
 */
import { renderMediaPlaylist } from '../src/playback/hls/playlist-writer.js';
import type { RenditionTimeline } from '../src/playback/hls/rendition-timeline.js';
import type { Segment } from '../src/playback/hls/types.js';
import { renderVodMediaPlaylist } from '../src/recorder/vod-playlists.js';
import { toRange } from '../src/commerce/highlight-timeline.js';
import type { DateRange } from '../src/playback/hls/date-range.js';

const T0 = Date.UTC(2026, 0, 1, 20, 0, 0);
const SEGMENT = 2;
const PARTS = 6;
const STREAM_SECONDS = 2 * 3600;
const HIGHLIGHTS = 500;

/** Figures of one run. */
export interface CommercePlaylistBenchResult {
  liveNoneUs: number;
  liveWithUs: number;
  liveRatio: number;
  vodNoneUs: number;
  vodWithUs: number;
  vodRatio: number;
}

function segment(msn: number, complete: boolean): Segment {
  const parts = Array.from({ length: PARTS }, (_, i) => ({ msn, index: i, data: Buffer.alloc(0), duration: SEGMENT / PARTS, independent: i === 0, availableAt: 0, mediaEnd: 0 }));
  return { msn, parts, duration: SEGMENT, programDateTimeMs: T0 + msn * SEGMENT * 1000, discontinuity: false, runId: 1, complete, bytes: 0 };
}

/** The live timeline at the 2-hour mark, as the playlist writer reads it. */
function liveTimeline(): RenditionTimeline {
  const last = STREAM_SECONDS / SEGMENT;
  const segs = Array.from({ length: 13 }, (_, i) => segment(last - 12 + i, i < 12));
  return { listed: () => segs, segments: segs, ended: false, discontinuitySequence: () => 0, nextPart: () => ({ msn: last, index: PARTS }) } as unknown as RenditionTimeline;
}

/** 500 highlights spread over the 2 hours, each ended by the next; the last still open. */
function highlights(): DateRange[] {
  const every = (STREAM_SECONDS * 1000) / HIGHLIGHTS;
  return Array.from({ length: HIGHLIGHTS }, (_, i) => toRange({
    id: `hl_${String(i).padStart(12, '0')}`, streamId: 's', productId: `pr_${i % 50}`, startDate: T0 + Math.round(i * every),
    endDate: i === HIGHLIGHTS - 1 ? null : T0 + Math.round((i + 1) * every), mediaTime: i * every / 1000, createdAt: 0,
  }));
}

function timeUs(fn: () => string, iterations: number): number {
  for (let i = 0; i < Math.min(200, iterations); i++) fn();
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < iterations; i++) n += fn().length;
  const us = Number(process.hrtime.bigint() - t0) / 1000 / iterations;
  if (n === 0) throw new Error('nothing rendered');
  return Math.round(us * 100) / 100;
}

/** Runs the benchmark (quick: fewer iterations). */
export async function runCommercePlaylistBench(opts: { quick?: boolean } = {}): Promise<CommercePlaylistBenchResult> {
  const tl = liveTimeline();
  const ranges = highlights();
  const timing = { segmentSeconds: SEGMENT, partSeconds: SEGMENT / PARTS };
  const n = opts.quick ? 2000 : 20000;
  const live = (dateRanges: DateRange[]): string => renderMediaPlaylist(tl, { timing, skip: false, reports: [], query: '?_sid=abcdefgh', dateRanges });
  const liveNoneUs = timeUs(() => live([]), n);
  const liveWithUs = timeUs(() => live(ranges), n);
  const rendition = { name: '720p', segments: Array.from({ length: STREAM_SECONDS / SEGMENT }, (_, i) => ({ t: 'seg' as const, r: '720p', msn: i, run: 1, dur: SEGMENT, disc: false, pdt: T0 + i * SEGMENT * 1000, bytes: 1 })) };
  const vn = opts.quick ? 50 : 300;
  const vodNoneUs = timeUs(() => renderVodMediaPlaylist(rendition, []), vn);
  const vodWithUs = timeUs(() => renderVodMediaPlaylist(rendition, ranges), vn);
  return {
    liveNoneUs, liveWithUs, liveRatio: Math.round((liveWithUs / liveNoneUs) * 100) / 100,
    vodNoneUs, vodWithUs, vodRatio: Math.round((vodWithUs / vodNoneUs) * 100) / 100,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runCommercePlaylistBench({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(r, null, 2));
}
