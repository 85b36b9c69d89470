// The creator's journey, scheduling and practice mode (issue 15): scheduledAt on the API and
// GET /v1/live; a practice stream runs the whole pipeline but every public surface is 404 for
// anonymous callers and other creators, and its owner's signed preview link plays.
import t from 'tap';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, waitFor, getText, getBytes, logsOnFailure } from '../helpers/server.js';
import { publishRtmp, ffprobe } from '../helpers/ffmpeg.js';
import { upgradeStatus } from '../helpers/room-client.js';
import { LinkSigner } from '../../src/recorder/signed-links.js';

const srv = await startServer();
t.teardown(() => srv.close());

async function newCreator(handle: string): Promise<{ id: string; token: string }> {
  const r = await srv.api('POST', '/v1/creators', { handle, displayName: handle });
  if (r.status !== 201) throw new Error(`creator: ${r.status}`);
  return { id: r.json.id, token: r.json.token };
}

t.test('scheduledAt: stored, validated, patched, and GET /v1/live lists upcoming streams soonest first', async (t) => {
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  const later = new Date(Date.now() + 7_200_000).toISOString();
  const a = await srv.api('POST', '/v1/streams', { title: 'Later show', scheduledAt: later });
  t.equal(a.status, 201);
  t.equal(a.json.scheduledAt, later);
  t.equal(a.json.practice, false);
  const b = await srv.api('POST', '/v1/streams', { title: 'Soon show', scheduledAt: soon });
  const hidden = await srv.api('POST', '/v1/streams', { title: 'Rehearsal', scheduledAt: soon, practice: true });
  t.equal(hidden.json.practice, true);
  for (const bad of ['tomorrow', '2030-01-01', '2030-01-01T10:00:00', new Date(Date.now() + 400 * 86_400_000).toISOString()]) {
    const r = await srv.api('POST', '/v1/streams', { title: 'x', scheduledAt: bad });
    t.equal(r.status, 400, `refused: ${bad}`);
    t.equal(r.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  }
  const live = await srv.api('GET', '/v1/live', undefined, null);
  t.equal(live.status, 200);
  t.same(live.json.upcoming.map((s: { id: string }) => s.id), [b.json.id, a.json.id], 'soonest first, the practice one left out');
  t.equal(live.json.upcoming[0].scheduledAt, soon);
  const moved = new Date(Date.now() + 60_000).toISOString();
  t.equal((await srv.api('PATCH', `/v1/streams/${a.json.id}`, { scheduledAt: moved })).json.scheduledAt, moved);
  t.same((await srv.api('GET', '/v1/live', undefined, null)).json.upcoming.map((s: { id: string }) => s.id), [a.json.id, b.json.id], 'reordered by the new time');
  t.equal((await srv.api('PATCH', `/v1/streams/${a.json.id}`, { scheduledAt: null })).json.scheduledAt, null);
  t.same((await srv.api('GET', '/v1/live', undefined, null)).json.upcoming.map((s: { id: string }) => s.id), [b.json.id], 'unscheduled: no longer upcoming');
  t.equal((await srv.api('PATCH', `/v1/streams/${a.json.id}`, { scheduledAt: 'soon' })).status, 400);
});

t.test('practice mode: hidden on every public surface, the owner previews through a signed link', async (t) => {
  logsOnFailure(t, srv);
  const owner = await newCreator('practice_owner');
  const other = await newCreator('practice_other');
  const created = await srv.api('POST', '/v1/streams', { title: 'Rehearsal', practice: true }, owner.token);
  t.equal(created.status, 201);
  const { id, streamKey } = created.json as { id: string; streamKey: string };
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 30);
  t.teardown(() => void pub.kill('SIGKILL'));
  await waitFor(async () => ((await srv.api('GET', `/v1/streams/${id}`, undefined, owner.token)).json.state === 'live' ? true : undefined), 'practice stream live', 20000);

  // The owner and the operator see it; the whole pipeline runs (transcoder, renditions).
  const mine = await srv.api('GET', `/v1/streams/${id}`, undefined, owner.token);
  t.equal(mine.status, 200);
  t.equal(mine.json.practice, true);
  t.equal((await srv.api('GET', `/v1/streams/${id}`)).status, 200, 'the operator sees it');
  const preview = await srv.api('GET', `/v1/streams/${id}/preview`, undefined, owner.token);
  t.equal(preview.status, 200);
  t.match(preview.json, { url: `${srv.base}/watch/${id}?pexp=`, hls: `${srv.base}/hls/${id}/master.m3u8?pexp=`, expiresAt: String });
  t.equal((await srv.api('GET', `/v1/streams/${id}/preview`, undefined, other.token)).status, 404, 'another creator gets no preview');
  t.equal((await srv.api('GET', `/v1/streams/${id}/preview`, undefined, null)).status, 401);

  // The signed multivariant plays: wait for the first media, then follow its URIs to a segment.
  const master = await waitFor(async () => {
    const r = await getText(preview.json.hls);
    return r.status === 200 ? r : undefined;
  }, 'preview multivariant', 20000);
  const uri = /^(.*index\.m3u8.*)$/m.exec(master.text)?.[1];
  t.match(uri, /_sid=.*&pexp=\d+&psig=/, 'the preview signature rides on the media playlist URIs');
  const rendition = new URL(uri!, preview.json.hls).toString();
  const media = await waitFor(async () => {
    const r = await getText(rendition);
    return r.status === 200 && /^s\d+\.m4s/m.test(r.text) ? r : undefined;
  }, 'a complete segment in the preview playlist', 20000);
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(media.text)![1]!;
  const seg = /^(s\d+\.m4s.*)$/m.exec(media.text)![1]!;
  t.match(seg, /pexp=\d+&psig=/, 'segment URIs carry the signature');
  const initBytes = await getBytes(new URL(init, rendition).toString());
  const segBytes = await getBytes(new URL(seg, rendition).toString());
  t.equal(initBytes.status, 200);
  t.equal(segBytes.status, 200);
  const file = join(srv.dataDir, 'preview-probe.mp4');
  writeFileSync(file, Buffer.concat([initBytes.body, segBytes.body]));
  const probe = await ffprobe(file);
  t.ok(probe.streams.some((s) => s.codec_name === 'h264'), 'ffprobe reads H.264 video from a segment fetched through the preview link');

  // Every public surface: 404 for anonymous callers and for another creator.
  const segPath = new URL(seg, rendition).pathname;
  const product = await srv.api('POST', `/v1/streams/${id}/products`, { title: 'Rehearsal lamp', url: 'https://shop.example/lamp' }, owner.token);
  t.equal(product.status, 201, 'the owner fills the carousel of a practice stream');
  t.equal((await srv.api('POST', `/v1/streams/${id}/promos`, { code: 'REHEARSAL', description: 'x' }, owner.token)).status, 201, 'and adds a promo code');
  const surfaces: Array<[string, string]> = [
    ['GET', `/v1/streams/${id}`],
    ['GET', `/hls/${id}/master.m3u8`],
    ['GET', new URL(rendition).pathname],
    ['GET', segPath],
    ['GET', `/watch/${id}`],
    ['GET', `/v1/streams/${id}/events`],
    ['GET', `/v1/streams/${id}/room/messages`],
    ['GET', `/v1/streams/${id}/products`],
    ['GET', `/v1/streams/${id}/highlights`],
    ['GET', `/v1/streams/${id}/promos`],
    ['GET', `/go/${id}/${(product.json as { id: string }).id}`],
    ['POST', `/v1/streams/${id}/promos/REHEARSAL/reveals`],
    ['POST', `/whep/${id}`],
  ];
  for (const [method, path] of surfaces) {
    t.equal((await srv.api(method, path, undefined, null)).status, 404, `anonymous ${method} ${path}`);
    t.equal((await srv.api(method, path, undefined, other.token)).status, 404, `another creator ${method} ${path}`);
  }
  t.equal(await upgradeStatus(srv.base, `/v1/streams/${id}/room`), 404, 'the room socket');
  t.equal(await upgradeStatus(srv.base, `/v1/streams/${id}/room?${new URL(preview.json.url).search.slice(1)}`), 101, 'the room socket with the preview signature');
  const listed = await srv.api('GET', '/v1/live', undefined, null);
  t.notOk(listed.json.live.some((s: { id: string }) => s.id === id), 'never listed as live');
  t.notOk((await srv.api('GET', '/v1/streams', undefined, other.token)).json.items.some((s: { id: string }) => s.id === id), 'not in another creator\'s list');

  // Tampered and expired preview links: 403.
  const u = new URL(preview.json.hls);
  const sig = u.searchParams.get('psig')!;
  u.searchParams.set('psig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
  t.equal((await getText(u.toString())).status, 403, 'tampered signature');
  const other2 = new URL(preview.json.hls);
  other2.searchParams.set('pexp', String(Number(other2.searchParams.get('pexp')) + 3600));
  t.equal((await getText(other2.toString())).status, 403, 'extended expiry');
  const secret = Buffer.from(readFileSync(join(srv.dataDir, 'recording-secret'), 'utf8').trim(), 'hex');
  const old = new LinkSigner(secret, 60, () => Date.now() - 3_600_000, 'preview').sign(id);
  t.equal((await getText(`${srv.base}/hls/${id}/master.m3u8?pexp=${old.exp}&psig=${old.sig}`)).status, 403, 'expired signature');
  const download = new LinkSigner(secret, 3600).sign(id);
  t.equal((await getText(`${srv.base}/hls/${id}/master.m3u8?pexp=${download.exp}&psig=${download.sig}`)).status, 403, 'a download link\'s signature is no preview');
  const page = await getText(preview.json.url);
  t.not(page.status, 404, 'the watch page opens with the preview link');
  if (page.status === 200) t.match(page.text, /master\.m3u8\?pexp=\d+&amp;psig=|master\.m3u8\?pexp=\d+\\u0026psig=/, 'and plays through it');
  pub.kill('SIGKILL');
});
