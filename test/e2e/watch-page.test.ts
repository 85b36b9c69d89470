// The shopper's watch page in a real browser (Debian Chromium via playwright-core) while a real
// ffmpeg publishes over RTMP: waits before go-live and starts by itself, plays with hls.js in
// low-latency mode, every rendition forced through the quality menu plays, and the ended state
// (then the replay offer) shows when the publisher stops. One stream, one page, about a minute.
import t from 'tap';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { CHROMIUM, VIEWER_ARGS } from '../helpers/chromium.js';
import { ensureWebBuilt } from '../helpers/web-build.js';


/** window.__showcase as the page defines it (src/web/watch/watch.ts). */
interface Hook {
  state: string;
  view: string;
  latency: number | null;
  level: number;
  autoLevel: boolean;
  levels: Array<{ index: number; height: number; name: string }>;
  errors: string[];
  fatal: string | null;
  playing: boolean;
  muted: boolean;
  currentTime: number;
  replayAvailable: boolean;
  videoHeight: number;
}

// scripts/setup.sh installs Chromium: without it this suite cannot show the page plays, so it fails.
if (!existsSync(CHROMIUM)) {
  t.fail(`${CHROMIUM} missing: apt-get install -y chromium`);
  process.exit(1);
}

// The page is served from dist/web: build it (esbuild, about a second) so the test never runs a stale bundle.
ensureWebBuilt();

const srv = await startServer({ streams: { reconnectGraceMs: 2000 } });
const base = srv.base;
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: VIEWER_ARGS });
t.teardown(async () => {
  await browser.close().catch(() => {});
  await srv.close();
});

/** window.__showcase, plus the height of the picture on screen. */
const hook = (page: Page): Promise<Hook> => page.evaluate(() => ({
  ...(JSON.parse(JSON.stringify((window as unknown as { __showcase: Hook }).__showcase)) as Hook),
  videoHeight: (document.getElementById('video') as HTMLVideoElement).videoHeight,
}));

/**
 * Polls the page's hook until pred holds. The predicate runs here, not in the page: the page's CSP
 * (rightly) forbids the eval that page.waitForFunction would need.
 */
async function until(page: Page, pred: (h: Hook) => boolean, timeout: number, what: string): Promise<Hook> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const h = await hook(page).catch(() => undefined);
    if (h && pred(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}; page state ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
/**
 * hls.js reports gap handling (bufferSeekOverHole, bufferNudgeOnStall, bufferStalledError) as media
 * "errors" too; those are playback decisions, not decoding failures. These are.
 */
const DECODE_ERRORS = /^(mediaError\/(bufferAppendError|bufferAppendingError|bufferAddCodecError|bufferIncompatibleCodecsError|fragParsingError|fragDecryptError)|mediaError\/.*\/fatal|otherError\/internalException)/;
const decodeErrors = (h: Hook): string[] => h.errors.filter((e) => DECODE_ERRORS.test(e));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a page opened before go-live plays the live ladder, switches renditions, ends, offers the replay', async (t) => {
  t.setTimeout(150000);
  const { id, streamKey } = await srv.createStream('Friday drop <live>');
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The viewer heartbeat (for deployments behind a CDN): its session id and the server's answers.
  const beats: Array<{ sessionId: string; status: number }> = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && r.url().endsWith(`/v1/streams/${id}/heartbeat`)) beats.push({ sessionId: JSON.parse(r.request().postData() ?? '{}').sessionId, status: r.status() });
  });
  const res = await page.goto(`${base}/watch/${id}?debug=1`);
  t.equal(res?.status(), 200);

  // Before the stream starts: says so, title below the video, nothing playing.
  await until(page, (h) => h.view === 'waiting', 5000, 'the waiting view');
  t.equal(await page.textContent('.title'), 'Friday drop <live>', 'title shown (escaped by the server, rendered as text)');
  t.match(await page.textContent('#card'), /hasn't started yet/);
  t.equal(await page.textContent('#badge'), 'Upcoming');
  const stage = await page.locator('#stage').boundingBox();
  const title = await page.locator('.title').boundingBox();
  t.ok(stage && title && stage.y < title.y && stage.width >= 380, 'video on top, full width on a phone; title below');
  await page.evaluate(() => { (window as unknown as { __noReload: number }).__noReload = 1; });

  // Go live: the same page starts by itself (server-sent 'state' event), no reload.
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 90);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await until(page, (h) => h.view === 'playing', 30000, 'playback after go-live');
  t.equal(await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload), 1, 'started without a reload');
  t.equal(await page.textContent('#badge'), 'Live');

  // A second shopper whose network cannot reach the playlists at all: checked further down.
  const blocked = await browser.newPage();
  await blocked.route('**/hls/**', (route) => route.fulfill({ status: 500, body: 'down' }));
  await blocked.goto(`${base}/watch/${id}`);
  const blockedSince = Date.now();

  // It plays: currentTime follows the wall clock, hls.js reports a live latency, nothing fatal.
  const a = await hook(page);
  const wall0 = Date.now();
  await sleep(6000);
  const b = await hook(page);
  const wall = (Date.now() - wall0) / 1000;
  t.ok(b.currentTime - a.currentTime >= 5, `currentTime advanced ${(b.currentTime - a.currentTime).toFixed(2)} s in ${wall.toFixed(2)} s of wall time`);
  t.equal(b.fatal, null, 'no fatal error');
  t.ok(b.playing, 'playing');
  t.ok(typeof b.latency === 'number' && b.latency > 0 && b.latency < 10, `hls.js live latency ${b.latency?.toFixed(2)} s`);
  t.same(decodeErrors(b), [], 'no decode errors');
  t.match(await page.textContent('#debug'), /latency\s+\d+\.\d\d s/, '?debug=1 shows the latency');
  t.ok(beats.length >= 2, `the page sent heartbeats while playing (${beats.length})`);
  t.ok(beats.every((x) => x.status === 204), 'each accepted');
  t.equal(beats[0] && srv.app.sessions.lookup(beats[0].sessionId)?.streamId, id, 'for the viewer session its playlist URLs carry');

  // Muted autoplay, with a visible tap to unmute.
  t.equal(b.muted, true, 'autoplay muted');
  t.ok(await page.isVisible('#unmute'), 'tap-to-unmute visible');

  // Each rendition, forced through the quality menu, plays without a decode error.
  t.ok(b.levels.length >= 2, `renditions in the menu: ${b.levels.map((l) => l.name).join(', ')}`);
  for (const level of b.levels) {
    await page.click('#quality-button');
    t.equal(await page.locator('#quality-menu [role=menuitemradio]').count(), b.levels.length + 1, 'Auto + each rendition');
    await page.click(`#quality-menu [data-level="${level.index}"]`);
    await until(page, (h) => h.level === level.index && h.videoHeight === level.height, 12000, `${level.name} on screen`);
    const c = await hook(page);
    const d = await until(page, (h) => h.currentTime - c.currentTime >= 1.5, 8000, `${level.name} to play 1.5 s`);
    t.ok(d.currentTime - c.currentTime >= 1.5, `${level.name}: played ${(d.currentTime - c.currentTime).toFixed(2)} s`);
    t.equal(d.autoLevel, false, `${level.name}: forced, not auto`);
    t.equal(await page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).error), null, `${level.name}: no video element error`);
    t.same(decodeErrors(d), [], `${level.name}: no decode errors`);
    t.match(await page.textContent('#quality-button'), level.name);
  }
  await page.click('#quality-button');
  await page.click('#quality-menu [data-level="-1"]');
  await until(page, (h) => h.autoLevel, 5000, 'Auto');
  t.pass('back to Auto');

  // A network blip: every media request fails for 4 s; hls.js's retries and startLoad carry it over.
  await page.route('**/hls/**', (route) => route.abort('connectionreset'));
  await sleep(4000);
  await page.unroute('**/hls/**');
  const e = await until(page, (h) => h.view === 'playing' && h.playing, 20000, 'playback after the network came back');
  await sleep(2000);
  const f = await hook(page);
  t.ok(f.currentTime - e.currentTime >= 1.5, `plays again after the blip (${(f.currentTime - e.currentTime).toFixed(2)} s in 2 s)`);
  t.equal(f.fatal, null, 'the blip was recovered, not reported');

  // The shopper who never reached the playlists gets a clear message and a working retry.
  const g = await until(blocked, (h) => h.view === 'error', Math.max(1000, 40000 - (Date.now() - blockedSince)), 'the error view');
  t.match(g.fatal, /not available/);
  t.match(await blocked.textContent('#card'), /Can't play right now/);
  t.equal(await blocked.textContent('#card-action'), 'Try again');
  await blocked.unroute('**/hls/**');
  await blocked.click('#card-action');
  await until(blocked, (h) => h.view === 'playing' && h.playing, 20000, 'playback after Try again');
  t.pass('Try again plays once the network is back');
  await blocked.close();

  await page.tap('#unmute');
  t.equal((await hook(page)).muted, false, 'unmuted by a tap');
  t.notOk(await page.isVisible('#unmute'), 'unmute button gone');

  // The publisher stops: the page says the stream ended, then offers the replay the origin keeps.
  pub.kill('SIGINT');
  await until(page, (h) => h.view === 'ended' && h.state === 'ended', 20000, 'the ended view');
  t.match(await page.textContent('#card'), /has ended/);
  t.equal(await page.textContent('#badge'), 'Ended');
  t.equal((await hook(page)).fatal, null, 'an end is not an error');
  await until(page, (h) => h.replayAvailable, 10000, 'the replay offer');
  await page.click('#card-action');
  await until(page, (h) => h.view === 'replay' && h.playing, 10000, 'replay playback');
  const r0 = await hook(page);
  const r1 = await until(page, (h) => h.currentTime >= r0.currentTime + 1, 10000, 'the replay to advance');
  t.ok(r1.currentTime > r0.currentTime, `the replay plays (${r0.currentTime.toFixed(2)} -> ${r1.currentTime.toFixed(2)} s)`);
  t.same(pageErrors, [], 'no uncaught errors in the page');
  t.comment(`hls.js events seen: ${(await hook(page)).errors.join(', ') || 'none'}`);
  await page.close();
});

t.test('an unknown stream is a 404 page', async (t) => {
  const page = await browser.newPage();
  const res = await page.goto(`${base}/watch/doesNotExist`);
  t.equal(res?.status(), 404);
  t.match(await page.textContent('body'), /does not exist/);
  await page.close();
});
