// The watch page's native-player path (Safari without MSE): highlights from the video's metadata
// cues, as pure code. Cues in the two shapes players give: Safari's DataCues (one per DATERANGE
// attribute, no cue.id, same times) and hls.js's VTTCues (cue.id the range's ID, an open range's
// end Infinity or Number.MAX_VALUE, the end set once END-DATE arrives).
import t from 'tap';
import { cueAttribute, cueHighlights, type CueLike } from '../../src/web/watch/highlight-cues.js';
import { activeHighlight } from '../../src/web/watch/shop.js';

const cue = (id: string, startTime: number, endTime: number, key: string, data: unknown): CueLike => ({ id, startTime, endTime, value: { key, data } });
/** Safari's cues for one DATERANGE: every attribute, no id. */
const safari = (id: string, productId: string, start: number, end: number, cls = 'com.showcase.highlight'): CueLike[] => [
  cue('', start, end, 'ID', id), cue('', start, end, 'CLASS', cls), cue('', start, end, 'X-PRODUCT-ID', productId),
];
/** hls.js's cues for one DATERANGE: only the client attributes, cue.id the range's ID. */
const hlsjs = (id: string, productId: string, start: number, end: number): CueLike[] => [cue(id, start, end, 'X-PRODUCT-ID', productId)];
const at = (cues: CueLike[], seconds: number): string | undefined => activeHighlight(cueHighlights(cues), seconds * 1000)?.productId;

t.test('Safari\'s DataCues: A, then B replacing it, then nothing; ranges in media time', async (t) => {
  const cues = [...safari('hl_a', 'pr_A', 10, 14.5), ...safari('hl_b', 'pr_B', 14.5, 20)];
  t.same(cueHighlights(cues), [
    { id: 'hl_a', productId: 'pr_A', startMs: 10_000, endMs: 14_500 },
    { id: 'hl_b', productId: 'pr_B', startMs: 14_500, endMs: 20_000 },
  ]);
  t.equal(at(cues, 9.99), undefined, 'nothing before A\'s start');
  t.equal(at(cues, 10), 'pr_A', 'A at its start');
  t.equal(at(cues, 14.49), 'pr_A');
  t.equal(at(cues, 14.5), 'pr_B', 'B replaces A at B\'s start (A\'s end)');
  t.equal(at(cues, 20), undefined, 'gone at B\'s end');
  t.equal(at(cues, 12.3), 'pr_A', 'a seek back into A shows A');
});

t.test('hls.js\'s VTTCues: grouped by cue.id; an open range has no end; a later end is taken', async (t) => {
  for (const open of [Number.POSITIVE_INFINITY, Number.MAX_VALUE]) {
    const cues = hlsjs('hl_a', 'pr_A', 3, open);
    t.same(cueHighlights(cues), [{ id: 'hl_a', productId: 'pr_A', startMs: 3000, endMs: null }], `open end as ${open}`);
    t.equal(at(cues, 1e6), 'pr_A', 'open: shown from its start on');
  }
  // Two ranges starting at once keep apart by id; the later-started one wins where they overlap.
  const cues = [...hlsjs('hl_a', 'pr_A', 3, 8), ...hlsjs('hl_b', 'pr_B', 5, Number.POSITIVE_INFINITY)];
  t.equal(at(cues, 4), 'pr_A');
  t.equal(at(cues, 6), 'pr_B', 'the latest started one');
  // The END-DATE arrived: hls.js raises the existing cue's end; a duplicate cue with the end also counts.
  t.same(cueHighlights([cue('hl_c', 1, Number.POSITIVE_INFINITY, 'X-PRODUCT-ID', 'pr_C'), cue('hl_c', 1, 2, 'X-PRODUCT-ID', 'pr_C')])[0]!.endMs, null,
    'an open cue of the range keeps it open');
  t.same(cueHighlights([cue('hl_c', 1, 2, 'X-PRODUCT-ID', 'pr_C')])[0], { id: 'hl_c', productId: 'pr_C', startMs: 1000, endMs: 2000 });
});

t.test('other cues are ignored: another CLASS, no product, ID3 frames, malformed values', async (t) => {
  const cues: CueLike[] = [
    ...safari('ad_1', 'pr_X', 0, 100, 'com.example.ad'),
    cue('', 0, 100, 'X-OTHER', 'x'),
    { id: '', startTime: 0, endTime: 100, value: { key: 'TXXX', info: '', data: undefined } },
    { id: '', startTime: 0, endTime: 100, value: null },
    { id: '', startTime: 0, endTime: 100, value: 'text' },
    { id: 'v', startTime: Number.NaN, endTime: 100, value: { key: 'X-PRODUCT-ID', data: 'pr_N' } },
    { id: '', startTime: 0, endTime: 100 },
  ];
  t.same(cueHighlights(cues), []);
  t.equal(at(cues, 50), undefined);
});

t.test('data as bytes (Safari may give an ArrayBuffer) is read as UTF-8 text', async (t) => {
  const bytes = new TextEncoder().encode('pr_Bytes');
  t.same(cueAttribute(cue('', 0, 1, 'X-PRODUCT-ID', bytes.buffer)), { key: 'X-PRODUCT-ID', data: 'pr_Bytes' });
  t.same(cueAttribute(cue('', 0, 1, 'X-PRODUCT-ID', bytes)), { key: 'X-PRODUCT-ID', data: 'pr_Bytes' });
  t.equal(cueAttribute(cue('', 0, 1, 'X-PRODUCT-ID', 42)), undefined);
  t.same(cueHighlights([cue('', 7, 9, 'X-PRODUCT-ID', bytes.buffer)]), [{ id: 't:7000', productId: 'pr_Bytes', startMs: 7000, endMs: 9000 }], 'no ID cue: the start names it');
});
