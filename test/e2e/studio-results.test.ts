// The studio's dashboard after a stream (issue 15), in Debian Chromium at phone size: the level
// and what this month still needs for the next one, and a past stream's results: viewers, chat,
// followers gained, clicks and purchases per product, and the recording's download link (a real
// ffmpeg RTMP publish, recorded and finalized; the link downloads the MP4), and the replay's unique
// viewers once a player fetched the replay.
import t from 'tap';
import { chromium, type Page } from 'playwright-core';
import { startServer, waitFor, logsOnFailure } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip } from '../helpers/chromium.js';
import { ensureWebBuilt } from '../helpers/web-build.js';

ensureWebBuilt();
const skip = webrtcSkip();

interface Results { peak: number; messages: number; followersGained: number; products: Array<{ title: string; clicks: number; purchases: number }>; download: string | null }
type Console = { signedIn: boolean; counts: { past: number }; level?: string | null; progress?: string | null; results?: Record<string, Results> };
const consoleHook = (page: Page): Promise<Console> => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __studio: { console: Console } }).__studio.console)) as Console);

t.test('the dashboard: level and progress, a past stream\'s results and its download link', { skip }, async (t) => {
  t.setTimeout(180_000);
  // The studio page is served only with WebRTC on (it needs the signaling socket).
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 48000, rtcMaxPort: 48499, bridgeMinPort: 35000, bridgeMaxPort: 35499 } });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const made = await srv.api('POST', '/v1/creators', { handle: 'results_rae', displayName: 'Rae' });
  const token: string = made.json.token;
  const creatorId: string = made.json.id;

  // Insider from last month: 300 minutes (in the store: a real 5-hour publish does not fit a test) and 5 sales through the shop API.
  const d = new Date();
  const lastMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 2);
  const old = await srv.api('POST', '/v1/streams', { title: 'last month' }, token);
  await srv.app.store.updateStream(old.json.id, { state: 'ended', startedAt: lastMonth, endedAt: lastMonth + 300 * 60_000 });
  for (let i = 0; i < 5; i++) t.equal((await srv.api('POST', '/v1/conversions', { orderId: `old-${i}`, streamId: old.json.id, amount: '8.00', currency: 'USD', occurredAt: new Date(lastMonth + 60_000).toISOString() })).status, 201);

  // This stream: really published, with a product clicked and bought, a follower gained and a chat message.
  const s = await srv.api('POST', '/v1/streams', { title: 'Tonight' }, token);
  const id: string = s.json.id;
  const product = await srv.api('POST', `/v1/streams/${id}/products`, { title: 'Silk scarf', url: 'https://shop.example/scarf' }, token);
  const pub = publishRtmp(`${srv.rtmp}/${s.json.streamKey}`, 8);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`, undefined, null)).json.state === 'live', 'live', 20_000);
  const fan = await srv.api('POST', '/v1/shoppers', { displayName: 'Fan' }, null);
  t.equal((await srv.api('PUT', `/v1/creators/${creatorId}/followers/me`, undefined, fan.json.token)).status, 200);
  t.equal((await fetch(`${srv.base}/go/${id}/${product.json.id}`, { redirect: 'manual' })).status, 302);
  t.equal((await srv.api('POST', '/v1/conversions', { orderId: 'scarf-1', streamId: id, productId: product.json.id, amount: '40.00', currency: 'USD' })).status, 201);
  await pub.done;
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}/recording`, undefined, token)).json.state === 'ready', 'recording ready', 60_000);

  // One replay viewer: the replay's playlists, as a player fetches them (the session rides on the URIs).
  const master = await (await fetch(`${srv.base}/hls/${id}/master.m3u8`)).text();
  const media = master.split('\n').find((l) => l && !l.startsWith('#'))!;
  t.equal((await fetch(new URL(media, `${srv.base}/hls/${id}/master.m3u8`))).status, 200, 'the replay playlist');
  const replay = await waitFor(async () => {
    const a = await srv.api('GET', `/v1/streams/${id}/analytics`, undefined, token);
    return a.json.replayViewers.unique === 1 ? a.json.replayViewers : undefined;
  }, 'the replay viewer counted', 15_000);
  t.match(replay, { unique: 1 }, 'replay viewers: one unique');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.base}/studio#token=${encodeURIComponent(token)}`);
  const c = await waitFor(async () => { const h = await consoleHook(page); return h.signedIn && h.level ? h : undefined; }, 'signed in with the level', 15_000);
  t.equal(c.level, 'insider', 'last month\'s level holds');
  t.equal(c.counts.past, 2);
  t.equal(c.progress, 'A-List: 1000 more minutes live and 24 more sales this month.', 'what this month still needs');
  t.match(await page.textContent('#level-panel'), /Level: Insider/);

  await page.click(`button.show-results[data-stream-id="${id}"]`);
  const r = await waitFor(async () => (await consoleHook(page)).results?.[id], 'results shown', 15_000);
  t.match(r, { replayUnique: 1, followersGained: 1, products: [{ title: 'Silk scarf', clicks: 1, purchases: 1 }] });
  t.match(await page.textContent(`li[data-stream-id="${id}"] .stream-results`), /1 replay viewer(?!s)[\s\S]*1 new follower(?!s)[\s\S]*Silk scarf: 1 click, 1 purchase(?!s)[\s\S]*Download the recording/);
  t.ok(r.download, 'a download link');
  const href = await page.getAttribute(`li[data-stream-id="${id}"] a.result-download`, 'href');
  t.equal(href, r.download);
  const mp4 = await fetch(href!);
  t.equal(mp4.status, 200, 'the link downloads');
  t.match(mp4.headers.get('content-type'), /video\/mp4/);
  t.ok((await mp4.arrayBuffer()).byteLength > 10_000, 'an MP4 of the stream');
  t.same(errors, [], 'no page errors');
});
