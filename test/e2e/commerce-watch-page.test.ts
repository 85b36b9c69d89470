// Issue 13, step 5, in Debian's Chromium while a real ffmpeg publishes: the watch page shows the
// carousel, pops A up when the playhead's program date reaches A's START-DATE (within 250 ms in
// program-date terms, never before), B replaces it, the end hides it, and Buy lands on the shop
// URL with the creator's tag through /go, counted; a reported sale shows on its card within a second;
// in the replay, a seek to either highlight shows its product.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, waitFor, logsOnFailure } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { CHROMIUM, VIEWER_ARGS } from '../helpers/chromium.js';

interface Hook {
  playing: boolean;
  replayAvailable: boolean;
  products: string[];
  highlight: { id: string; productId: string; startMs: number; shownAtProgramMs: number } | null;
  sold: Record<string, number>;
}

if (!existsSync(CHROMIUM)) {
  t.fail(`${CHROMIUM} missing: apt-get install -y chromium`);
  process.exit(1);
}
const root = join(import.meta.dirname, '..', '..');
execFileSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'ignore' });

const srv = await startServer({ recording: { minFreeBytes: 0 } });
logsOnFailure(t, srv);
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: VIEWER_ARGS });
t.teardown(async () => {
  await browser.close().catch(() => {});
  await srv.close();
});

const hook = (page: Page): Promise<Hook> => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __showcase: Hook }).__showcase)) as Hook);
/** Polls the page's hook (the page's CSP forbids the eval waitForFunction needs). */
async function until(page: Page, pred: (h: Hook) => boolean, timeout: number, what: string): Promise<Hook> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const h = await hook(page).catch(() => undefined);
    if (h && pred(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}; page state ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('the highlight pops up with the frame, B replaces A, Buy goes through /go to the shop with the tag', async (t) => {
  t.setTimeout(120_000);
  const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
  await srv.api('PUT', `/v1/creators/${alice.json.id}/tracking-tag`, { trackingTag: 'alice-20' });
  const created = await srv.api('POST', '/v1/streams', { title: 'Shop live' }, alice.json.token);
  const { id, streamKey } = created.json;
  // The "shop" is this server's own /healthz (tests reach only localhost).
  const mk = async (title: string): Promise<string> => (await srv.api('POST', `/v1/streams/${id}/products`, { title, url: `${srv.base}/healthz?from=${title}`, price: { amount: '9.50', currency: 'EUR' } })).json.id;
  const A = await mk('A');
  const B = await mk('B');

  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  t.teardown(() => page.close().catch(() => {}));
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 20);
  t.teardown(() => pub.kill('SIGKILL'));
  await page.goto(`${srv.base}/watch/${id}`);
  await until(page, (h) => h.playing, 40_000, 'the live playing');
  t.same((await hook(page)).products, [A, B], 'the carousel, in order');
  t.equal(await page.locator('#carousel .product').count(), 2);
  t.match(await page.locator('#carousel .product-price').first().textContent(), /9[.,]50/);

  const hA = await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: A });
  t.equal(hA.status, 201);
  const shownA = await until(page, (h) => h.highlight?.productId === A, 10_000, 'A\'s pop-up');
  const gapA = shownA.highlight!.shownAtProgramMs - Date.parse(hA.json.startDate);
  t.comment(`A popped up at program date START-DATE + ${gapA} ms`);
  t.ok(gapA >= 0, 'never before START-DATE');
  t.ok(gapA < 250, `within 250 ms of START-DATE in program-date terms (${gapA} ms)`);
  t.equal(await page.locator('#popup .popup-title').textContent(), 'A');

  await new Promise((r) => setTimeout(r, 2000));
  const hB = await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: B });
  const shownB = await until(page, (h) => h.highlight?.productId === B, 10_000, 'B\'s pop-up');
  const gapB = shownB.highlight!.shownAtProgramMs - Date.parse(hB.json.startDate);
  t.ok(gapB >= 0 && gapB < 250, `B replaced A within 250 ms of its START-DATE (${gapB} ms)`);

  await srv.api('DELETE', `/v1/streams/${id}/highlights/current`);
  await until(page, (h) => h.highlight === null, 10_000, 'the pop-up gone at the end');

  // A sale the shop reports shows on the product's card within a second.
  const reported = Date.now();
  t.equal((await srv.api('POST', '/v1/conversions', { orderId: 'ord-1', streamId: id, productId: A, amount: '9.50', currency: 'EUR' })).status, 201);
  await until(page, (h) => h.sold[A] === 1, 1000, 'the sold count');
  t.comment(`sold count on the page ${Date.now() - reported} ms after the conversion`);
  t.equal(await page.locator(`#carousel .product[data-product-id="${A}"] .product-sold`).textContent(), '1 sold');

  // A promo put on screen shows as a banner with its code within a second, and goes when taken off.
  t.equal((await srv.api('POST', `/v1/streams/${id}/promos`, { code: 'LIVE20', description: '20 % off' })).status, 201);
  const promoAt = Date.now();
  t.equal((await srv.api('PUT', `/v1/streams/${id}/promos/on-screen`, { code: 'LIVE20' })).status, 200);
  await page.locator('#promo .promo-code', { hasText: 'LIVE20' }).waitFor({ state: 'visible', timeout: 1000 });
  t.comment(`promo banner on the page ${Date.now() - promoAt} ms after the PUT`);
  t.equal((await srv.api('DELETE', `/v1/streams/${id}/promos/on-screen`)).status, 204);
  await page.locator('#promo').waitFor({ state: 'hidden', timeout: 1000 });

  // Buy from the carousel: /go counts it and redirects to the shop URL with the tag.
  await Promise.all([page.waitForURL(/\/healthz\?/), page.locator(`#carousel .product[data-product-id="${A}"] a.buy`).click()]);
  const landed = new URL(page.url());
  t.equal(landed.pathname, '/healthz');
  t.equal(landed.searchParams.get('from'), 'A');
  t.equal(landed.searchParams.get('tag'), 'alice-20', 'the creator\'s tracking tag');
  const clicks = await waitFor(async () => {
    const c = await srv.app.store.clickCounts(id);
    return c.length ? c : undefined;
  }, 'the click counted', 5000);
  t.same(clicks.map((c) => [c.productId, c.clicks]), [[A, 1]]);

  // The replay: the recording's VOD playlists carry the same ranges; a seek shows the product then.
  t.equal(await pub.done, 0);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}/recording`)).json?.state === 'ready', 'recording ready', 40_000, 200);
  await page.goto(`${srv.base}/watch/${id}`);
  await until(page, (h) => h.replayAvailable, 20_000, 'the replay offer');
  await page.locator('#card-action').click();
  await until(page, (h) => h.playing, 20_000, 'the replay playing');
  for (const h of [hA.json, hB.json]) {
    await page.evaluate((at) => { (document.getElementById('video') as HTMLVideoElement).currentTime = at; }, h.mediaTime + 0.5);
    const seen = await until(page, (x) => x.highlight?.productId === h.productId, 10_000, `${h.productId} after a seek`);
    t.equal(seen.highlight!.id, h.id, `a seek to ${h.mediaTime + 0.5} s shows ${h.productId === A ? 'A' : 'B'}`);
  }
});
