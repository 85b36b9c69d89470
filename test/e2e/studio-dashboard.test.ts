// The studio's creator console in Debian Chromium at phone size (390x844): a refused creator token
// shows a clear message; a #token= fragment signs in and is stripped from the address bar at once;
// a stream created and scheduled from the page is listed as upcoming, and the server holds it for
// that creator; the token stays on the device (localStorage) across a reload.
import t from 'tap';
import { chromium, type Page } from 'playwright-core';
import { startServer, waitFor, logsOnFailure } from '../helpers/server.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip } from '../helpers/chromium.js';
import { ensureWebBuilt } from '../helpers/web-build.js';

ensureWebBuilt();
const skip = webrtcSkip();

type Console = { signedIn: boolean; counts: { upcoming: number; live: number; past: number }; error: string | null };
const consoleHook = (page: Page): Promise<Console> => page.evaluate(() => (window as unknown as { __studio: { console: Console } }).__studio.console);

t.test('the studio console: sign in, refused token, create a scheduled stream', { skip }, async (t) => {
  // The studio page is served only with WebRTC on (it needs the signaling socket).
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 48500, rtcMaxPort: 48999, bridgeMinPort: 35500, bridgeMaxPort: 35999 } });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const made = await srv.api('POST', '/v1/creators', { handle: 'dash', displayName: 'Dash' });
  t.equal(made.status, 201, 'creator made');
  const token: string = made.json.token;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('pageerror', (err) => t.fail(`studio page error: ${err.message}`));

  await page.goto(`${srv.base}/studio`);
  await page.fill('#creator-token', 'ct_not-a-real-token');
  await page.click('.sign-in button[type=submit]');
  const refused = await waitFor(async () => { const c = await consoleHook(page); return c.error ? c : undefined; }, 'bad token refused', 10000);
  t.notOk(refused.signedIn, 'not signed in with a bad token');
  t.match(await page.textContent('.console-message'), /not accepted/, 'a clear message for a refused token');
  t.notOk(await page.evaluate(() => localStorage.getItem('showcase.creatorToken')), 'a refused token is not kept');

  // Sign in through the fragment: the address bar loses it at once (a fresh load, not a same-page hash change).
  await page.goto('about:blank');
  await page.goto(`${srv.base}/studio#token=${encodeURIComponent(token)}`);
  await waitFor(async () => (await consoleHook(page)).signedIn, 'signed in', 10000);
  t.notMatch(page.url(), /token/, 'the token is stripped from the address');
  t.notOk(await page.locator('.sign-in').isVisible(), 'signed in: the sign-in form is hidden');

  const at = new Date(Date.now() + 3 * 3_600_000);
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.fill('#create-stream input[name=title]', 'Spring haul');
  await page.fill('#create-stream input[name=scheduledAt]', local);
  await page.click('#create-stream button[type=submit]');
  await waitFor(async () => (await consoleHook(page)).counts.upcoming === 1, 'listed as upcoming', 10000);
  t.match(await page.textContent('[data-group=upcoming]'), /Spring haul/, 'the new stream shows under Upcoming');

  const listed = await srv.api('GET', '/v1/streams', undefined, token);
  const mine = (listed.json.items as { title: string; scheduledAt: string | null }[]).find((s) => s.title === 'Spring haul');
  t.ok(mine, 'the server holds the stream for this creator');
  t.ok(mine && Math.abs(Date.parse(mine.scheduledAt!) - at.getTime()) < 60_000, 'scheduled at the chosen time');

  // The token stays on the device: a plain reload is still signed in.
  await page.goto(`${srv.base}/studio`);
  await waitFor(async () => (await consoleHook(page)).signedIn, 'still signed in after reload', 10000);
  t.equal((await consoleHook(page)).counts.upcoming, 1);

  // The control room of that stream (not live): three products through the editor, a reorder, and
  // a highlight refused in words because the stream is not live.
  const id = (listed.json.items as { id: string; title: string }[]).find((s) => s.title === 'Spring haul')!.id;
  type Room = { productIds: string[]; highlight: unknown; error: string | null };
  const room = (): Promise<Room> => page.evaluate(() => (window as unknown as { __studio: { controlRoom: Room } }).__studio.controlRoom);
  await page.goto(`${srv.base}/studio?stream=${id}`);
  for (const [i, title] of ['Lipstick', 'Palette', 'Brush'].entries()) {
    await page.fill('#add-product input[name=title]', title);
    await page.fill('#add-product input[name=url]', `https://shop.example/p/${i}`);
    await page.fill('#add-product input[name=price]', '19.99');
    await page.click('#add-product button[type=submit]');
    await waitFor(async () => (await room())?.productIds.length === i + 1, `product ${title} added`, 10000);
  }
  const before = (await room()).productIds;
  await page.click('#carousel-items li:nth-child(3) button.up');
  await waitFor(async () => (await room()).productIds[1] === before[2], 'reordered', 10000);
  const order = await srv.api('GET', `/v1/streams/${id}/products`);
  t.same(order.json.items.map((p: { id: string }) => p.id), [before[0], before[2], before[1]], 'the server holds the new order');
  await page.click('#carousel-items li:nth-child(1) button.highlight');
  const notLive = await waitFor(async () => (await room()).error ?? undefined, 'highlight refused', 10000);
  t.match(notLive, /Not possible right now/, 'a highlight on a stream that is not live is refused in words');
  await page.click('#carousel-items li:nth-child(1) button.delete');
  await waitFor(async () => (await room()).productIds.length === 2, 'product deleted', 10000);
});
