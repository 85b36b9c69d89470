// The discovery pages in Debian's Chromium at phone size (issue 15): the Live home page (featured
// A-List slot on top, rows in placement order, countdowns that tick), a creator's storefront (level,
// past lives with replays paged by "Show more", the follow button that makes a shopper the way the
// chat's join does, and the watch page's follow button knowing that shopper), and the countdown to
// live: a scheduled stream's watch page counts down, and at go-live (a real ffmpeg publish) starts
// playing by itself.
import t from 'tap';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { CHROMIUM, VIEWER_ARGS } from '../helpers/chromium.js';
import { ensureWebBuilt } from '../helpers/web-build.js';

if (!existsSync(CHROMIUM)) {
  t.fail(`${CHROMIUM} missing: apt-get install -y chromium`);
  process.exit(1);
}
// The pages are served from dist/web: build them so the test never runs a stale bundle.
ensureWebBuilt();

const srv = await startServer();
logsOnFailure(t, srv);
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: VIEWER_ARGS });
t.teardown(async () => {
  await browser.close().catch(() => {});
  await srv.close();
});

const MIN = 60_000;
const now = Date.now();
const d = new Date(now);
const lastMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 2);

/** Reads a window hook (the page's CSP forbids the eval page.waitForFunction needs, so this polls). */
async function until<T>(page: Page, read: () => T, pred: (v: T) => boolean, timeout: number, what: string): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(read).catch(() => undefined) as T | undefined;
    if (v !== undefined && pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`setup failed: ${what}`);
}
async function creator(handle: string): Promise<{ id: string; token: string }> {
  const r = await srv.api('POST', '/v1/creators', { handle, displayName: `The ${handle}` });
  must(r.status === 201, handle);
  return { id: r.json.id, token: r.json.token };
}
async function stream(token: string, body: Record<string, unknown>): Promise<string> {
  const r = await srv.api('POST', '/v1/streams', body, token);
  must(r.status === 201, String(body.title));
  return r.json.id;
}
/** Earns a level the way the server counts it: live minutes last month and sales reported by the shop API. */
async function earn(token: string, minutes: number, sales: number): Promise<string> {
  const id = await stream(token, { title: 'history' });
  await srv.app.store.updateStream(id, { state: 'ended', startedAt: lastMonth, endedAt: lastMonth + minutes * MIN });
  for (let i = 0; i < sales; i++) {
    const r = await srv.api('POST', '/v1/conversions', { orderId: `${id}-${i}`, streamId: id, amount: '5.00', currency: 'USD', occurredAt: new Date(lastMonth + MIN + i).toISOString() });
    must(r.status === 201, 'conversion');
  }
  return id;
}
/**
 * Makes a stream live in the store as if another node served it (a lease far ahead), so listings
 * show it live and this node's sweep of abandoned streams leaves it alone; no media flows.
 */
async function seedLive(id: string, startedAt = Date.now()): Promise<void> {
  const r = await srv.app.store.claimLive(id, { nodeId: 'seed-node', now: Date.now(), expiresAt: Date.now() + 3_600_000, startedAt });
  must(r.ok, `seeded live ${id}`);
}
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

t.test('the Live home page: featured A-List on top, rows in placement order, countdowns tick', async (t) => {
  const star = await creator('home_star');
  const mid = await creator('home_mid');
  const newbie = await creator('home_new');
  await earn(star.token, 1000, 25);
  await earn(mid.token, 300, 5);
  const ids: Record<string, string> = {};
  for (const [k, c] of [['new', newbie], ['mid', mid], ['star', star]] as const) {
    ids[k] = await stream(c.token, { title: `${k} live` });
    await seedLive(ids[k]!);
  }
  const soon = await stream(newbie.token, { title: 'soon', scheduledAt: new Date(Date.now() + 2 * 3_600_000 + 5 * MIN).toISOString() });

  const page = await browser.newPage(phone);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.equal((await page.goto(`${srv.base}/`))?.status(), 200);
  type Home = { loaded: boolean; featured: string | null; live: string[]; upcoming: string[]; countdowns: Record<string, string> };
  const read = () => (window as unknown as { __home: Home }).__home;
  const h = await until(page, read, (v) => v.loaded, 10_000, 'the home page loaded');
  t.equal(h.featured, ids.star, 'the A-List creator has the featured slot');
  t.same(h.live, [ids.star, ids.mid, ids.new], 'A-List, Insider, Rising Star');
  t.same(h.upcoming, [soon]);
  const featured = await page.locator('#featured .card').boundingBox();
  const row = await page.locator('#live').boundingBox();
  t.ok(featured && row && featured.y < row.y && featured.width >= 340, 'the featured card spans the phone, above the rows');
  t.match(await page.textContent('#featured'), /star live[\s\S]*The home_star[\s\S]*A-List/, 'title, creator and level on the featured card');
  t.match(await page.textContent(`#live [data-stream-id="${ids.mid}"]`), /Insider/);
  const c1 = h.countdowns[soon]!;
  t.match(c1, /^Starts in 2 h 0[45] min$/, 'the upcoming row counts down');
  const secs = await page.textContent(`#upcoming [data-stream-id="${soon}"] .countdown`);
  t.equal(secs, c1);
  t.equal(await page.getAttribute(`#featured a.card-link`, 'href'), `${srv.base}/watch/${ids.star}`, 'the card opens the watch page');
  t.same(errors, [], 'no page errors');
  await page.close();
});

t.test('a storefront: level, follower count, past lives paged, follow as a new shopper, shared with the watch page', async (t) => {
  const c = await creator('front_page');
  const history = await earn(c.token, 300, 5);
  const liveId = await stream(c.token, { title: 'on now' });
  await seedLive(liveId);
  const past: string[] = [];
  for (let i = 0; i < 14; i++) {
    const id = await stream(c.token, { title: `past ${i}` });
    await srv.app.store.updateStream(id, { state: 'ended', startedAt: now - (i + 1) * 3_600_000, endedAt: now - (i + 1) * 3_600_000 + 20 * MIN });
    past.push(id);
  }
  await srv.app.store.putRecording(past[0]!, { state: 'ready', durationSeconds: 1200, renditions: ['360p'], updatedAt: now });
  const rehearsal = await stream(c.token, { title: 'secret rehearsal', practice: true });
  await srv.app.store.updateStream(rehearsal, { state: 'ended', startedAt: now - 10_000, endedAt: now });

  const page = await browser.newPage(phone);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.equal((await page.goto(`${srv.base}/c/front_page`))?.status(), 200);
  type Front = { loaded: boolean; level: string; followerCount: number; live: string[]; past: string[]; replays: number; nextCursor: string | null; follow: { following: boolean; busy: boolean; error: string | null } };
  const read = () => JSON.parse(JSON.stringify((window as unknown as { __storefront: Front }).__storefront)) as Front;
  let f = await until(page, read, (v) => v.loaded, 10_000, 'the storefront loaded');
  t.equal(await page.textContent('h1'), 'The front_page');
  t.equal(f.level, 'insider');
  t.match(await page.textContent('.profile-meta'), /Insider[\s\S]*0 followers/);
  t.same(f.live, [liveId]);
  t.same(f.past, past.slice(0, 12), 'the first page of past lives, newest first');
  t.equal(f.replays, 1, 'the one with a ready recording offers its replay');
  t.notMatch(await page.textContent('main'), /secret rehearsal/, 'the practice stream is not shown');
  await page.click('#more');
  past.push(history); // last month's, the oldest
  f = await until(page, read, (v) => v.past.length === 15, 10_000, 'the second page');
  t.same(f.past, past, 'every past life once, in order');
  t.ok(await page.locator('#more').isHidden(), 'no more pages: the button goes');
  t.equal(await page.getAttribute(`#past [data-stream-id="${past[0]}"] a.card-link`, 'href'), `${srv.base}/watch/${past[0]}`);

  // Follow without a shopper yet: the button asks a name, makes the shopper, follows.
  t.notOk(await page.evaluate(() => localStorage.getItem('showcase.shopper')));
  await page.click('.follow-button');
  await page.fill('.follow-name', 'Robin');
  await page.click('.follow-go');
  f = await until(page, read, (v) => v.follow.following && !v.follow.busy, 10_000, 'following');
  t.equal(f.followerCount, 1);
  t.match(await page.textContent('.profile-meta'), /1 follower\b/);
  t.equal(await page.textContent('.follow-button'), 'Following');
  const me = JSON.parse((await page.evaluate(() => localStorage.getItem('showcase.shopper')))!) as { id: string; token: string; displayName: string };
  t.equal(me.displayName, 'Robin', 'the shopper is kept where the chat keeps it');
  const server = await srv.api('GET', '/v1/shoppers/me/following', undefined, me.token);
  t.same(server.json.items.map((i: { creatorId: string }) => i.creatorId), [c.id], 'the server holds the follow');

  // The watch page of this creator's stream knows the same shopper: its button says Following, no name asked.
  await page.goto(`${srv.base}/watch/${liveId}`);
  const followRead = () => JSON.parse(JSON.stringify((window as unknown as { __showcaseFollow: { following: boolean; busy: boolean } }).__showcaseFollow)) as { following: boolean; busy: boolean };
  await until(page, followRead, (v) => v.following && !v.busy, 10_000, 'the watch page sees the follow');
  t.equal(await page.textContent('.follow-button'), 'Following');
  await page.click('.follow-button');
  await until(page, followRead, (v) => !v.following && !v.busy, 10_000, 'unfollowed from the watch page');
  t.equal((await srv.api('GET', `/v1/creators/${c.id}/public`, undefined, null)).json.followerCount, 0, 'the unfollow reached the server');
  t.equal((await page.goto(`${srv.base}/c/nobody_at_all`))?.status(), 404);
  t.same(errors, [], 'no page errors');
  await page.close();
});

t.test('countdown to live: the watch page counts down and starts playing by itself at go-live', async (t) => {
  t.setTimeout(120_000);
  const c = await creator('count_down');
  const startsAt = Date.now() + 15_000;
  const r = await srv.api('POST', '/v1/streams', { title: 'Launch', scheduledAt: new Date(startsAt).toISOString() }, c.token);
  const { id, streamKey } = r.json as { id: string; streamKey: string };
  const page = await browser.newPage(phone);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${srv.base}/watch/${id}`);
  type Hook = { view: string; countdown: string | null; playing: boolean };
  const read = () => { const h = (window as unknown as { __showcase: Hook }).__showcase; return { view: h.view, countdown: h.countdown, playing: h.playing }; };
  const a = await until(page, read, (v) => v.view === 'waiting' && !!v.countdown, 5000, 'the countdown');
  t.match(a.countdown, /^Starts in 00:1\d$/, 'counts down in minutes:seconds');
  t.match(await page.textContent('#card'), /Starts in 00:\d\d\. Stay on this page: it will start playing by itself/);
  const b = await until(page, read, (v) => v.countdown !== a.countdown, 3000, 'the next second');
  t.ok(b.countdown! < a.countdown!, `it ticks (${a.countdown} then ${b.countdown})`);
  await page.evaluate(() => { (window as unknown as { __noReload: number }).__noReload = 1; });

  // Go-live at the announced time: a real ffmpeg publish, and the same page plays, no reload, no tap.
  await until(page, read, (v) => v.countdown === 'Starting any moment', 20_000, 'the countdown reaching zero');
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 60);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await until(page, read, (v) => v.view === 'playing' && v.playing, 45_000, 'playing after go-live');
  t.equal(await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload), 1, 'started without a reload');
  t.equal(await page.textContent('#badge'), 'Live');
  t.same(errors, [], 'no page errors');
  pub.kill('SIGINT');
  await pub.done;
  await page.close();
});
