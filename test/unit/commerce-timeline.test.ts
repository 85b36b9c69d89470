// Pure logic of the highlight timeline: DATERANGE rendering per rfc8216bis (quoted attributes,
// END-DATE added once ended and nothing else changing), the window filter, the cue list's bounds,
// the per-stream token buckets and the VOD ranges.
import t from 'tap';
import { dateRangesFrom, renderDateRange, type DateRange } from '../../src/playback/hls/date-range.js';
import { HighlightTimeline, toRange } from '../../src/commerce/highlight-timeline.js';
import { TokenBuckets } from '../../src/commerce/token-buckets.js';
import { vodDateRanges } from '../../src/recorder/vod-playlists.js';
import type { HighlightRecord } from '../../src/store/commerce-types.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const h = (id: string, startDate: number, productId = 'p1'): HighlightRecord => ({ id, streamId: 's', productId, startDate, endDate: null, mediaTime: (startDate - T0) / 1000, createdAt: startDate });

t.test('a range renders with quoted ID, CLASS, dates and client attributes; an end only adds END-DATE', async (t) => {
  const open = toRange(h('hl_a', T0 + 1500));
  const line = renderDateRange(open);
  t.equal(line, '#EXT-X-DATERANGE:ID="hl_a",CLASS="com.showcase.highlight",START-DATE="2026-01-01T00:00:01.500Z",X-PRODUCT-ID="p1"');
  const ended = renderDateRange(toRange({ ...h('hl_a', T0 + 1500), endDate: T0 + 4000 }));
  t.equal(ended, '#EXT-X-DATERANGE:ID="hl_a",CLASS="com.showcase.highlight",START-DATE="2026-01-01T00:00:01.500Z",END-DATE="2026-01-01T00:00:04.000Z",X-PRODUCT-ID="p1"');
  // Every attribute of the open tag appears unchanged in the ended one (same ID: same values).
  for (const attr of line.slice(17).split(',')) t.ok(ended.includes(attr), `${attr} unchanged`);
  t.throws(() => renderDateRange({ ...open, id: 'a"b' }), /quoted-string/);
  t.throws(() => renderDateRange({ ...open, attributes: { 'PRODUCT': 'x' } }), /client attribute/);
});

t.test('the window keeps open ranges, those ending inside it and future ones, sorted', async (t) => {
  const ranges: DateRange[] = [
    { id: 'c', class: 'x', startDate: 300, attributes: {} },
    { id: 'a', class: 'x', startDate: 100, endDate: 150, attributes: {} },
    { id: 'b', class: 'x', startDate: 200, endDate: 260, attributes: {} },
  ];
  t.same(dateRangesFrom(ranges, 250).map((d) => d.id), ['b', 'c']);
  t.same(dateRangesFrom(ranges, 0).map((d) => d.id), ['a', 'b', 'c']);
  t.same(dateRangesFrom(ranges, 10_000).map((d) => d.id), ['c'], 'an open range stays');
});

t.test('the cue list: one current highlight, a new one ends the previous at its start, bounded', async (t) => {
  const tl = new HighlightTimeline(10, 2);
  t.equal(tl.start(h('a', T0 + 1000)), undefined);
  const endedA = tl.start(h('b', T0 + 3000, 'p2'));
  t.equal(endedA?.id, 'a');
  t.equal(endedA?.endDate, T0 + 3000);
  t.equal(tl.current('s')?.id, 'b');
  t.same(tl.dateRanges('s').map((d) => [d.id, d.endDate]), [['a', T0 + 3000], ['b', undefined]]);
  t.equal(tl.end('s', T0 + 2000)?.endDate, T0 + 3000, 'an end before the start is clamped to it');
  t.equal(tl.end('s', T0 + 9000), undefined, 'nothing current');
  for (let i = 0; i < 100; i++) tl.start(h(`x${i}`, T0 + 10_000 + i));
  t.equal(tl.dateRanges('s').length, 10, 'at most maxPerStream ranges per stream');
  t.equal(tl.dateRanges('s').at(-1)?.id, 'x99', 'the newest kept');
  for (const s of ['s2', 's3', 's4']) tl.start({ ...h('y', T0), streamId: s });
  t.equal(tl.size, 2, 'at most maxStreams streams');
});

t.test('restore refills an empty cue list from the store, and only an empty one', async (t) => {
  const tl = new HighlightTimeline(10);
  tl.restore('s', [{ ...h('a', T0), endDate: T0 + 1000 }, h('b', T0 + 1000)]);
  t.same(tl.dateRanges('s').map((d) => [d.id, d.endDate]), [['a', T0 + 1000], ['b', undefined]]);
  t.equal(tl.current('s')?.id, 'b', 'the open one is current again');
  tl.restore('s', [h('z', T0)]);
  t.same(tl.dateRanges('s').map((d) => d.id), ['a', 'b'], 'a list with cues is left alone');
});

t.test('token buckets: a burst of rate, refilled at rate per second, bounded keys', async (t) => {
  let now = 0;
  const b = new TokenBuckets(5, 3, () => now);
  let ok = 0;
  for (let i = 0; i < 100; i++) if (b.take('s')) ok++;
  t.equal(ok, 5);
  t.equal(b.refused, 95);
  now += 1000;
  ok = 0;
  for (let i = 0; i < 100; i++) if (b.take('s')) ok++;
  t.equal(ok, 5, 'refilled at 5/s');
  for (const k of ['a', 'b', 'c', 'd']) b.take(k);
  t.equal(b.size, 3);
});

t.test('VOD ranges: those overlapping the recording; one still open ends where the recording does', async (t) => {
  const rendition = { name: '180p', segments: [
    { t: 'seg' as const, r: '180p', msn: 0, run: 1, dur: 2, disc: false, pdt: T0, bytes: 1 },
    { t: 'seg' as const, r: '180p', msn: 1, run: 1, dur: 2, disc: false, pdt: T0 + 2000, bytes: 1 },
  ] };
  const ranges: DateRange[] = [
    { id: 'before', class: 'x', startDate: T0 - 5000, endDate: T0 - 1000, attributes: {} },
    { id: 'a', class: 'x', startDate: T0 + 500, endDate: T0 + 1500, attributes: {} },
    { id: 'open', class: 'x', startDate: T0 + 3000, attributes: {} },
  ];
  const out = vodDateRanges(rendition, ranges);
  t.same(out.map((d) => [d.id, d.endDate]), [['a', T0 + 1500], ['open', T0 + 4000]]);
});

t.test('a timeline\'s ordered cue list gives the same window by binary search as the full scan', async (t) => {
  // Seeded pseudo-random timelines: highlights back to back (some ended early), the last maybe open.
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let run = 0; run < 50; run++) {
    const tl = new HighlightTimeline(1000);
    let at = T0;
    const count = 1 + rnd(60);
    for (let i = 0; i < count; i++) {
      at += rnd(3) === 0 ? 0 : 1 + rnd(5000);
      tl.start(h(`hl_${run}_${i}`, at));
      if (rnd(4) === 0) { at += rnd(2000); tl.end('s', at); }
    }
    const list = tl.dateRanges('s');
    const scan = (from: number): string[] => [...list].filter((d) => d.endDate === undefined || d.endDate >= from)
      .sort((a, b) => a.startDate - b.startDate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((d) => d.id);
    for (const from of [T0 - 1, T0, at - 3000, at, at + 1, T0 + rnd(Math.max(1, at - T0))]) {
      t.same(dateRangesFrom(list, from).map((d) => d.id), scan(from), `run ${run} from ${from - T0}`);
    }
  }
  // A restored list that is not in order (an open range mid-list) is scanned, not searched.
  const tl = new HighlightTimeline(1000);
  tl.restore('s', [h('open-old', T0), { ...h('b', T0 + 1000), endDate: T0 + 2000 }, h('c', T0 + 3000)]);
  t.same(dateRangesFrom(tl.dateRanges('s'), T0 + 2500).map((d) => d.id), ['open-old', 'c']);
});

t.test('a highlight stamped before the previous one (a clock step back) keeps the window right', async (t) => {
  const tl = new HighlightTimeline(1000);
  tl.start(h('a', T0 + 5000));
  tl.start(h('b', T0 + 1000)); // a ends at its own start (5000), b starts before it
  tl.start(h('c', T0 + 2000));
  // b ended at 2000: from 3000 only a (ended 5000) and c (open) remain.
  t.same(dateRangesFrom(tl.dateRanges('s'), T0 + 3000).map((d) => d.id), ['c', 'a']);
});
