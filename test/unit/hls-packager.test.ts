import t from 'tap';
import { Fmp4Splitter } from '../../src/playback/hls/fmp4-splitter.js';
import { HlsStream, parseDirectives } from '../../src/playback/hls/hls-stream.js';
import { BlockingBudget } from '../../src/playback/hls/blocking-waiter.js';
import { makeFragmentedMp4 } from '../helpers/ffmpeg.js';

// Real CMAF from ffmpeg (6 s, keyframes every 2 s, ~0.3 s fragments), cut as the transcoder cuts it.
const mp4 = await makeFragmentedMp4(6);
const chunks = new Fmp4Splitter().push(mp4);
const init = chunks.find((c) => c.type === 'init')!.data;
const frags = chunks.filter((c) => c.type === 'fragment').map((c) => c.data);

function newStream(budget = new BlockingBudget(100)) {
  return new HlsStream({
    streamId: 'abc',
    renditions: [{ name: 'hi', fallbackBandwidth: 1_000_000 }, { name: 'lo', fallbackBandwidth: 500_000 }],
    timing: { segmentSeconds: 2, partSeconds: 0.334 },
    windowSegments: 3,
    retainExtraSegments: 1,
    budget,
  });
}

function feed(s: HlsStream, runId: number, n: number, from = 0) {
  for (const name of ['hi', 'lo']) {
    const tl = s.timelines.get(name)!;
    if (from === 0) tl.startRun(runId, init, Date.UTC(2026, 10, 22, 12, 0, 0));
    for (const f of frags.slice(from, from + n)) tl.addFragment(f);
  }
}

function body(r: { status: number } & Record<string, unknown>): string {
  if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r)}`);
  return String(r.body);
}

t.test('splitter finds the init and whole fragments in any slicing', async (t) => {
  t.ok(init.includes(Buffer.from('moov')), 'init holds moov');
  t.ok(frags.length >= 18, `at least 18 fragments (${frags.length})`);
  const s = new Fmp4Splitter();
  const again = [];
  for (let i = 0; i < mp4.length; i += 777) again.push(...s.push(mp4.subarray(i, i + 777)));
  t.equal(again.length, chunks.length, 'same chunk count byte-sliced');
  t.ok(again.every((c, i) => c.data.equals(chunks[i]!.data)), 'same bytes');
  t.throws(() => new Fmp4Splitter({ maxBoxBytes: 1000 }).push(mp4), /exceeds the limit/);
});

t.test('media playlist carries the LL-HLS tags the spec requires', async (t) => {
  const s = newStream();
  feed(s, 1, frags.length - 1);
  const pl = body(await s.mediaPlaylist('hi', {}, ''));
  t.match(pl, /^#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n/);
  t.match(pl, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002,HOLD-BACK=6,CAN-SKIP-UNTIL=12/);
  t.match(pl, /#EXT-X-PART-INF:PART-TARGET=0.334/);
  t.match(pl, /#EXT-X-MAP:URI="init1.mp4"/);
  t.match(pl, /#EXT-X-PROGRAM-DATE-TIME:2026-11-22T12:00:00.000Z/);
  t.match(pl, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p\d+\.\d+\.m4s"/);
  t.match(pl, /#EXT-X-RENDITION-REPORT:URI="..\/lo\/index.m3u8",LAST-MSN=\d+,LAST-PART=\d+/);
  const parts = [...pl.matchAll(/#EXT-X-PART:DURATION=([\d.]+),URI="p(\d+)\.(\d+)\.m4s"(,INDEPENDENT=YES)?/g)];
  t.ok(parts.length > 5, 'parts listed');
  for (const p of parts) t.ok(Number(p[1]) <= 0.334, `part ${p[2]}.${p[3]} duration ${p[1]} <= PART-TARGET`);
  t.ok(parts.filter((p) => p[3] === '0').every((p) => p[4]), 'every first part of a segment is INDEPENDENT');
  const extinf = [...pl.matchAll(/#EXTINF:([\d.]+),\ns(\d+)\.m4s/g)];
  t.ok(extinf.length >= 2, 'complete segments listed');
  for (const e of extinf) t.ok(Math.round(Number(e[1])) <= 2, `segment ${e[2]} EXTINF ${e[1]} rounds within TARGETDURATION`);
  t.notMatch(pl, /#EXT-X-ENDLIST/);
  s.end();
  const ended = body(await s.mediaPlaylist('hi', {}, ''));
  t.match(ended, /#EXT-X-ENDLIST\n/);
  t.notMatch(ended, /PRELOAD-HINT/);
});

t.test('multivariant describes the media actually produced', async (t) => {
  const s = newStream();
  feed(s, 1, 10);
  const mv = body(await s.multivariant('?_sid=x'));
  t.match(mv, /#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",RESOLUTION=320x180,FRAME-RATE=30\.\d{3}\nhi\/index\.m3u8\?_sid=x/);
  t.match(mv, /\nlo\/index\.m3u8\?_sid=x\n/);
});

t.test('blocking reload holds until the part exists and validates directives', async (t) => {
  const s = newStream();
  feed(s, 1, 4);
  const tl = s.timelines.get('hi')!;
  const edge = tl.edge();
  let settled = false;
  const pending = s.mediaPlaylist('hi', { _HLS_msn: String(edge.msn), _HLS_part: String(edge.parts) }, '').then((r) => { settled = true; return r; });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(settled, false, 'held while the part does not exist');
  t.equal(s.blockedRequests, 1);
  tl.addFragment(frags[4]!);
  const r = await pending;
  t.match(body(r), new RegExp(`URI="p${edge.msn}\\.${edge.parts}\\.m4s"`), 'answered with the awaited part listed');
  t.same(parseDirectives({ _HLS_part: '1' }), '_HLS_part requires _HLS_msn');
  t.equal((await s.mediaPlaylist('hi', { _HLS_part: '1' }, '')).status, 400);
  t.equal((await s.mediaPlaylist('hi', { _HLS_msn: 'abc' }, '')).status, 400);
  t.equal((await s.mediaPlaylist('hi', { _HLS_msn: String(edge.msn + 3) }, '')).status, 400, 'too far ahead');
  t.equal((await s.mediaPlaylist('hi', { _HLS_msn: String(edge.msn), _HLS_part: '40' }, '')).status, 400, 'past the advance part limit');
  t.equal((await s.mediaPlaylist('hi', { _HLS_skip: 'MAYBE' }, '')).status, 400);
  t.equal((await s.mediaPlaylist('nope', {}, '')).status, 404);
  s.end();
  const after = await s.mediaPlaylist('hi', { _HLS_msn: '99999999' }, '');
  t.equal(after.status, 200, 'parameters ignored after ENDLIST');
});

t.test('blocking reload answers 503 after three target durations', { timeout: 20000 }, async (t) => {
  const s = newStream();
  feed(s, 1, 2);
  const edge = s.timelines.get('hi')!.edge();
  const started = Date.now();
  const r = await s.mediaPlaylist('hi', { _HLS_msn: String(edge.msn + 1) }, '');
  t.equal(r.status, 503);
  t.ok(Date.now() - started >= 5900, 'held for 3 x TARGETDURATION');
});

t.test('the blocking budget bounds held requests', async (t) => {
  const budget = new BlockingBudget(2);
  const s = newStream(budget);
  feed(s, 1, 2);
  const e = s.timelines.get('hi')!.edge();
  const q = { _HLS_msn: String(e.msn), _HLS_part: String(e.parts) };
  const a = s.mediaPlaylist('hi', q, '');
  const b = s.mediaPlaylist('hi', q, '');
  const c = await s.mediaPlaylist('hi', q, '');
  t.equal(c.status, 503, 'third held request refused');
  s.close();
  t.equal((await a).status, 200);
  t.equal((await b).status, 200);
  t.equal(budget.inFlight, 0, 'budget released');
});

t.test('delta updates skip old segments with EXT-X-SKIP', async (t) => {
  const s = new HlsStream({ streamId: 'x', renditions: [{ name: 'hi', fallbackBandwidth: 1 }], timing: { segmentSeconds: 1, partSeconds: 0.334 }, windowSegments: 20, retainExtraSegments: 1, budget: new BlockingBudget(10) });
  // 1 s target: 6 s of media make 6 segments; CAN-SKIP-UNTIL is 6 s, so older ones are skippable.
  const mp4b = await makeFragmentedMp4(9, { segmentSeconds: 1 });
  const cs = new Fmp4Splitter().push(mp4b);
  const tl = s.timelines.get('hi')!;
  tl.startRun(1, cs[0]!.data, Date.now());
  for (const c of cs.slice(1)) tl.addFragment(c.data);
  const full = body(await s.mediaPlaylist('hi', {}, ''));
  const delta = body(await s.mediaPlaylist('hi', { _HLS_skip: 'YES' }, ''));
  const m = /#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)/.exec(delta);
  t.ok(m && Number(m[1]) > 0, 'segments skipped');
  const fullSegs = (full.match(/#EXTINF/g) ?? []).length;
  const deltaSegs = (delta.match(/#EXTINF/g) ?? []).length;
  t.equal(deltaSegs + Number(m![1]), fullSegs, 'skipped + listed = all');
  t.equal(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(delta)![1], /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(full)![1], 'same media sequence');
});

t.test('a new run is a discontinuity with its own init; media stays downloadable', async (t) => {
  const s = newStream();
  feed(s, 1, 8);
  feed(s, 2, 8);
  const pl = body(await s.mediaPlaylist('hi', {}, ''));
  t.match(pl, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2.mp4"\n#EXT-X-PROGRAM-DATE-TIME:/);
  t.equal((await s.media('hi', 'init2.mp4')).status, 200);
  const seg = /\ns(\d+)\.m4s/.exec(pl)![1];
  const r = await s.media('hi', `s${seg}.m4s`);
  t.equal(r.status, 200);
  t.equal((await s.media('hi', 'p0.0.m4s')).status, 200, 'a part is downloadable');
  t.equal((await s.media('hi', 'p999.0.m4s')).status, 404, 'unknown part is 404 at once');
  t.equal((await s.media('hi', 'nonsense.mp4')).status, 404);
});

t.test('a hinted part request completes as soon as the part arrives', async (t) => {
  const s = newStream();
  feed(s, 1, 3);
  const tl = s.timelines.get('hi')!;
  const next = tl.nextPart();
  const pending = s.media('hi', `p${next.msn}.${next.index}.m4s`);
  await new Promise((r) => setTimeout(r, 30));
  tl.addFragment(frags[3]!);
  const r = await pending;
  t.equal(r.status, 200);
  t.ok(Buffer.isBuffer((r as { body: Buffer }).body) && (r as { body: Buffer }).body.equals(frags[3]!), 'the hinted part bytes');
});

t.test('memory is bounded by the window', async (t) => {
  const s = newStream();
  feed(s, 1, frags.length);
  for (let run = 2; run < 6; run++) feed(s, run, frags.length);
  const tl = s.timelines.get('hi')!;
  t.ok(tl.segments.filter((x) => x.complete).length <= 4, 'window + retained complete segments only');
  t.ok(tl.runs.size <= 3, 'old init segments dropped');
  const pl = body(await s.mediaPlaylist('hi', {}, ''));
  t.match(pl, /#EXT-X-DISCONTINUITY-SEQUENCE:[1-9]/, 'discontinuity sequence counts dropped discontinuities');
});
