/// <reference lib="dom" />
/**
 * Highlights from a video's metadata TextTrack cues: the path for browsers that play HLS with their
 * own player (Safari on iPhone has no MSE, so no hls.js and no LevelDetails.dateRanges). Safari
 * turns each EXT-X-DATERANGE into DataCues on a metadata track, one cue per attribute, each with
 * `value: {key, data}` (key the attribute name, e.g. X-PRODUCT-ID) and the range's start and end in
 * media time; hls.js makes the same cues (VTTCues with the same `value`, cue.id the range's ID), so
 * the logic is one. Pure code apart from the track walk at the bottom, unit-tested in
 * test/unit/web-highlight-cues.test.ts.
 */
import { HIGHLIGHT_CLASS, type HighlightRange } from './shop.js';

/** What the logic reads of a cue (a DataCue or hls.js's VTTCue). */
export interface CueLike {
  id: string;
  startTime: number;
  endTime: number;
  value?: unknown;
}

const PRODUCT_KEY = 'X-PRODUCT-ID';
const decoder = typeof TextDecoder === 'undefined' ? undefined : new TextDecoder();

/** A cue's `{key, data}` with data as text (Safari may give an ArrayBuffer), or undefined for other cues. */
export function cueAttribute(cue: CueLike): { key: string; data: string } | undefined {
  const v = cue.value as { key?: unknown; data?: unknown } | null | undefined;
  if (!v || typeof v !== 'object' || typeof v.key !== 'string') return undefined;
  let data: string | undefined;
  if (typeof v.data === 'string') data = v.data;
  else if (v.data instanceof ArrayBuffer && decoder) data = decoder.decode(v.data);
  else if (ArrayBuffer.isView(v.data) && decoder) data = decoder.decode(v.data);
  return data === undefined ? undefined : { key: v.key, data };
}

/**
 * The highlight ranges the cues describe, in media time (startMs/endMs are milliseconds of the
 * video's timeline, to compare with currentTime * 1000). The cues of one range are grouped by
 * cue.id when the player sets it (hls.js: the range's ID), else by their start time (Safari gives
 * a range's attribute cues the same times). A group is a highlight when it carries X-PRODUCT-ID and
 * no other CLASS than ours; its id is its ID attribute, or cue.id, or its start. An end that is not
 * a finite time (hls.js's open-ended cues: Infinity or Number.MAX_VALUE) is no end yet; a range
 * whose end grows later (the END-DATE arrived) takes the largest end its cues say.
 */
export function cueHighlights(cues: Iterable<CueLike>): HighlightRange[] {
  const groups = new Map<string, { start: number; end: number; attrs: Map<string, string>; cueId: string }>();
  for (const cue of cues) {
    const attr = cueAttribute(cue);
    if (!attr || !Number.isFinite(cue.startTime)) continue;
    const key = cue.id ? `id:${cue.id}` : `t:${Math.round(cue.startTime * 1000)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { start: cue.startTime, end: cue.endTime, attrs: new Map(), cueId: cue.id }));
    g.start = Math.min(g.start, cue.startTime);
    g.end = Math.max(g.end, cue.endTime);
    g.attrs.set(attr.key, attr.data);
  }
  const out: HighlightRange[] = [];
  for (const [key, g] of groups) {
    const productId = g.attrs.get(PRODUCT_KEY);
    const cls = g.attrs.get('CLASS');
    if (!productId || (cls !== undefined && cls !== HIGHLIGHT_CLASS)) continue;
    // A huge end is an open one (hls.js uses Number.MAX_VALUE where Infinity is refused).
    const open = !Number.isFinite(g.end) || g.end >= Number.MAX_VALUE / 2;
    out.push({
      id: g.attrs.get('ID') ?? (g.cueId || key),
      productId,
      startMs: g.start * 1000,
      endMs: open ? null : g.end * 1000,
    });
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/**
 * The cues of every metadata track of the video. A track left 'disabled' has no cues, so each is
 * set to 'hidden' (cues load, nothing is drawn); the caller runs this at each check, so a track the
 * player adds later is picked up.
 */
export function metadataCues(video: HTMLVideoElement): CueLike[] {
  const out: CueLike[] = [];
  const tracks = video.textTracks;
  for (let i = 0; i < tracks.length; i++) {
    const track = tracks[i]!;
    if (track.kind !== 'metadata') continue;
    if (track.mode === 'disabled') track.mode = 'hidden';
    const cues = track.cues;
    if (!cues) continue;
    for (let j = 0; j < cues.length; j++) out.push(cues[j] as unknown as CueLike);
  }
  return out;
}
