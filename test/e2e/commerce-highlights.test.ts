// Issue 13, step 2, with a real ffmpeg publish: three products, highlight A, then B, then end.
// Every rendition's media playlist carries both as EXT-X-DATERANGE, identical across renditions
// and in delta updates; START-DATE lies inside the PDT span of the segment holding mediaTime
// (checked against the segments' own PDTs in the recording); after the end the VOD holds both.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, waitFor, getText, logsOnFailure } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';

/** The EXT-X-DATERANGE lines of a playlist, and each one's attributes. */
function dateRanges(playlist: string): Array<{ line: string; attrs: Record<string, string> }> {
  return playlist.split('\n').filter((l) => l.startsWith('#EXT-X-DATERANGE:')).map((line) => {
    const attrs: Record<string, string> = {};
    for (const m of line.slice('#EXT-X-DATERANGE:'.length).matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) attrs[m[1]!] = m[2]!.replace(/^"|"$/g, '');
    return { line, attrs };
  });
}

/** Segments of a playlist with their program dates (from each EXT-X-PROGRAM-DATE-TIME on, plus EXTINFs) and media starts. */
function segments(playlist: string): Array<{ pdt: number; dur: number; mediaStart: number }> {
  const out: Array<{ pdt: number; dur: number; mediaStart: number }> = [];
  let pdt = NaN;
  let media = 0;
  for (const l of playlist.split('\n')) {
    if (l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(l.slice(25));
    else if (l.startsWith('#EXTINF:')) {
      const dur = Number(l.slice(8).split(',')[0]);
      out.push({ pdt, dur, mediaStart: media });
      pdt += dur * 1000;
      media += dur;
    }
  }
  return out;
}

t.test('highlights ride in every rendition\'s timeline, live and in the replay', async (t) => {
  const srv = await startServer({ hls: { segmentSeconds: 1 }, recording: { minFreeBytes: 0 } });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const { id, streamKey } = await srv.createStream('Highlights');
  const product = async (title: string): Promise<string> => (await srv.api('POST', `/v1/streams/${id}/products`, { title, url: `https://shop.example/${title}` })).json.id;
  const [A, B, C] = [await product('A'), await product('B'), await product('C')];

  const early = await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: A });
  t.equal(early.status, 409, 'not live yet');
  t.equal(early.json.error.code, 'SHOWCASE_ERR_COMMERCE_NOT_LIVE');

  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 12);
  t.teardown(() => pub.kill('SIGKILL'));
  const media = (r: string, q = ''): Promise<{ status: number; text: string }> => getText(`${srv.base}/hls/${id}/${r}/index.m3u8${q}`);
  await waitFor(async () => (await media('180p')).text.includes('#EXTINF'), 'a first segment', 20000);

  t.equal((await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: 'pr_nope' })).status, 404, 'unknown product');
  t.equal((await srv.api('POST', `/v1/streams/${id}/promos`, { code: 'LIVE20', description: 'while we are live', liveOnly: true })).status, 201);
  const promos = async (): Promise<string[]> => (await srv.api('GET', `/v1/streams/${id}/promos`, undefined, null)).json.items.map((p: any) => p.code);
  t.same(await promos(), ['LIVE20'], 'a liveOnly code shows while live');
  const shown = await srv.api('PUT', `/v1/streams/${id}/promos/on-screen`, { code: 'LIVE20' });
  t.equal(shown.status, 200, 'a promo goes on screen while live');
  t.equal(shown.json.code, 'LIVE20');
  t.equal((await srv.api('PUT', `/v1/streams/${id}/promos/on-screen`, { code: 'NOPE' })).status, 404, 'unknown code');
  t.equal((await srv.api('GET', `/v1/streams/${id}/promos`, undefined, null)).json.onScreen, 'LIVE20', 'GET tells which is on screen');
  const before = Date.now();
  const hA = await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: A });
  t.equal(hA.status, 201);
  t.match(hA.json, { id: /^hl_/, productId: A, startDate: String, mediaTime: Number });
  const startA = Date.parse(hA.json.startDate);
  // The ingest edge on the playlists' clock: the newest frame's timestamp mapped through the
  // stream's ingest clock (wall clock at its first frame). ffmpeg's -re start bursts a little, so
  // that clock may run some tens of ms ahead of the wall clock; it never lags by the encoder delay.
  const lag = Date.now() - startA;
  t.ok(startA > before - 3000 && startA < Date.now() + 500, `START-DATE is the ingest edge (${lag} ms from the wall clock)`);
  await new Promise((r) => setTimeout(r, 2500));
  const hB = await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: B });
  t.equal(hB.status, 201);
  await new Promise((r) => setTimeout(r, 2500));
  const ended = await srv.api('DELETE', `/v1/streams/${id}/highlights/current`);
  t.equal(ended.status, 200);
  t.equal(ended.json.id, hB.json.id);
  t.equal((await srv.api('DELETE', `/v1/streams/${id}/highlights/current`)).status, 404, 'nothing current any more');
  // A product deleted while highlighted: its highlight ends then; the timeline keeps it.
  await new Promise((r) => setTimeout(r, 500));
  const hC = await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: C });
  t.equal(hC.status, 201);
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await srv.api('DELETE', `/v1/streams/${id}/products/${C}`)).status, 204);
  t.equal((await srv.api('DELETE', `/v1/streams/${id}/highlights/current`)).status, 404, 'deleting the product ended its highlight');

  const list = await srv.api('GET', `/v1/streams/${id}/highlights`, undefined, null);
  t.same(list.json.items.map((h: any) => [h.id, h.productId]), [[hA.json.id, A], [hB.json.id, B], [hC.json.id, C]]);
  t.type(list.json.items[2].endDate, 'string', 'C ended with its product');
  t.equal(list.json.items[0].endDate, hB.json.startDate, 'B ended A at its own start');
  t.equal(list.json.items[1].endDate, ended.json.endDate);

  // Live: both ranges in every rendition, identical, ended; and in delta updates too.
  await waitFor(async () => (await media('180p', '?_HLS_skip=YES')).text.includes('#EXT-X-SKIP'), 'a delta update that skips', 10000);
  const live180 = dateRanges((await media('180p')).text);
  const live144 = dateRanges((await media('144p')).text);
  const delta180 = dateRanges((await media('180p', '?_HLS_skip=YES')).text);
  t.equal(live180.length, 3, 'every highlight in the 180p playlist');
  t.same(live144.map((d) => d.line), live180.map((d) => d.line), 'identical in every rendition');
  t.same(delta180.map((d) => d.line), live180.map((d) => d.line), 'delta updates keep them (CAN-SKIP-DATERANGES not advertised)');
  t.notMatch((await media('180p')).text, /CAN-SKIP-DATERANGES/);
  t.same(live180.map((d) => d.attrs), [
    { ID: hA.json.id, CLASS: 'com.showcase.highlight', 'START-DATE': hA.json.startDate, 'END-DATE': hB.json.startDate, 'X-PRODUCT-ID': A },
    { ID: hB.json.id, CLASS: 'com.showcase.highlight', 'START-DATE': hB.json.startDate, 'END-DATE': ended.json.endDate, 'X-PRODUCT-ID': B },
    { ID: hC.json.id, CLASS: 'com.showcase.highlight', 'START-DATE': hC.json.startDate, 'END-DATE': list.json.items[2].endDate, 'X-PRODUCT-ID': C },
  ], 'ID, CLASS, START-DATE, END-DATE and X-PRODUCT-ID as the API said');

  // After the end: the recording's VOD playlists hold the same tags.
  t.equal(await pub.done, 0);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`, undefined, null)).json.state === 'ended', 'the stream ended', 10000);
  t.same(await promos(), [], 'the liveOnly code is gone once the stream ends (replays included)');
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}/recording`)).json?.state === 'ready', 'recording ready', 40000, 200);
  const root = srv.app.recordings!.root;
  const vod180 = readFileSync(join(root, id, '180p', 'index.m3u8'), 'utf8');
  const vod144 = readFileSync(join(root, id, '144p', 'index.m3u8'), 'utf8');
  t.same(dateRanges(vod180).map((d) => d.line), live180.map((d) => d.line), 'the 180p replay carries them all, as live');
  t.same(dateRanges(vod144).map((d) => d.line), live180.map((d) => d.line), 'the 144p replay too');
  // START-DATE inside the PDT span of the segment that holds mediaTime, by the segments' own PDTs.
  const segs = segments(vod180);
  for (const h of [hA.json, hB.json]) {
    const seg = segs.find((s) => s.mediaStart <= h.mediaTime && h.mediaTime < s.mediaStart + s.dur);
    t.ok(seg, `a segment holds mediaTime ${h.mediaTime}`);
    const start = Date.parse(h.startDate);
    t.ok(start >= seg!.pdt - 2 && start < seg!.pdt + seg!.dur * 1000 + 2, `START-DATE ${h.startDate} inside [${new Date(seg!.pdt).toISOString()}, +${seg!.dur}s)`);
  }
});
