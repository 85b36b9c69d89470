// Discovery (issue 15) through the HTTP API, the same cases on each store (journey-discovery.test.ts
// on SQLite, journey-discovery-postgres.test.ts on PostgreSQL): a creator's storefront (live, upcoming, past streams
// with replays, paged; practice never shown), GET /v1/live in placement order (A-List in the
// featured slot, then Insider, then Rising Star by current viewers), product placements by levels,
// and the per-stream analytics the studio shows. Levels are earned from minutes and sales seeded
// the way the server counts them: streams' live spans in the store (a real 1,000-minute publish
// does not fit a test) and conversions reported through POST /v1/conversions.
import type { Test } from 'tap';
import { waitFor, type TestServer } from '../helpers/server.js';

/** Seeds creators and streams on srv and registers the discovery cases on t. */
export async function runDiscoveryCases(t: Test, srv: TestServer): Promise<void> {
  const MIN = 60_000;
  const now = Date.now();
  const d = new Date(now);
  // Last month is wholly in the past whatever today is; a level earned there holds through this month.
  const lastMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 2);

  interface Creator { id: string; token: string; handle: string }
  async function creator(handle: string): Promise<Creator> {
    const r = await srv.api('POST', '/v1/creators', { handle, displayName: `The ${handle}` });
    must(r.status === 201, `creator ${handle}`);
    return { id: r.json.id, token: r.json.token, handle };
  }
  async function stream(c: Creator, body: Record<string, unknown>): Promise<string> {
    const r = await srv.api('POST', '/v1/streams', body, c.token);
    must(r.status === 201, `stream ${String(body.title)}`);
    return r.json.id as string;
  }
  /** A past stream of `minutes` live minutes starting at `from`, with `sales` conversions reported by the shop API during it. */
  async function history(c: Creator, from: number, minutes: number, sales: number): Promise<string> {
    const id = await stream(c, { title: `history of ${c.handle}` });
    await srv.app.store.updateStream(id, { state: 'ended', startedAt: from, endedAt: from + minutes * MIN, endReason: 'publisher-stopped' });
    for (let i = 0; i < sales; i++) {
      const r = await srv.api('POST', '/v1/conversions', { orderId: `${id}-${i}`, streamId: id, amount: '10.00', currency: 'USD', occurredAt: new Date(from + MIN + i * 1000).toISOString() });
      must(r.status === 201, `conversion recorded (${r.status} ${JSON.stringify(r.json)})`);
    }
    return id;
  }
  /**
   * Makes a stream live in the store as if another node served it (a lease far ahead), so listings
   * show it live and this node's sweep of abandoned streams leaves it alone; no media flows.
   */
  async function goLive(id: string, startedAt = Date.now()): Promise<void> {
    const r = await srv.app.store.claimLive(id, { nodeId: 'seed-node', now: Date.now(), expiresAt: Date.now() + 3_600_000, startedAt });
    must(r.ok, `seeded live ${id}`);
  }
  /** Helpers run inside subtests: they throw rather than assert on the parent test. */
  function must(ok: boolean, what: string): void {
    if (!ok) throw new Error(`setup failed: ${what}`);
  }
  const ids = (list: Array<{ id: string }>): string[] => list.map((s) => s.id);

  const aList = await creator('star_alist');
  const insider = await creator('star_insider');
  const rising = await Promise.all(['rise_one', 'rise_two', 'rise_three'].map(creator));
  await history(aList, lastMonth, 1000, 25);
  await history(insider, lastMonth, 300, 5);
  await history(rising[0]!, lastMonth, 299, 50); // one minute short of Insider

  t.test('levels: each creator holds the level last month earned', async (t) => {
    for (const [c, level] of [[aList, 'a-list'], [insider, 'insider'], [rising[0]!, 'rising-star']] as const) {
      t.equal((await srv.api('GET', `/v1/creators/${c.id}/stats`, undefined, c.token)).json.level, level, `${c.handle} is ${level}`);
    }
    const me = await srv.api('GET', '/v1/creators/me/stats', undefined, aList.token);
    t.equal(me.json.creatorId, aList.id, "'me' is the calling creator");
  });

  const live: Record<string, string> = {};
  const upcoming: Record<string, string> = {};
  t.test('GET /v1/live: A-List featured and first, then Insider, then Rising Star by current viewers', async (t) => {
    // Created in the reverse of the expected order, so neither creation nor start time explains the result.
    for (const [name, c] of [['r3', rising[2]!], ['r1', rising[0]!], ['r2', rising[1]!], ['in', insider], ['al', aList]] as const) {
      live[name] = await stream(c, { title: `live ${name}` });
      await goLive(live[name]!);
    }
    const practice = await stream(aList, { title: 'rehearsal', practice: true });
    await goLive(practice);
    upcoming.r = await stream(rising[0]!, { title: 'soonest', scheduledAt: new Date(now + 3_600_000).toISOString() });
    upcoming.i = await stream(insider, { title: 'later', scheduledAt: new Date(now + 7_200_000).toISOString() });
    upcoming.a = await stream(aList, { title: 'latest', scheduledAt: new Date(now + 10_800_000).toISOString() });
    // Viewers: rise_two 3, rise_one 1, rise_three none (sessions the watch ticker counts each second).
    const sessions = [...[1, 2, 3].map(() => srv.app.sessions.open(live.r2!, 'live')), srv.app.sessions.open(live.r1!, 'live')];
    t.teardown(() => { for (const s of sessions) srv.app.sessions.close(s); });
    await waitFor(() => srv.app.ticker.snapshot(live.r2!)?.viewersTotal === 3 && srv.app.ticker.snapshot(live.r1!)?.viewersTotal === 1, 'viewers counted', 10_000);

    const r = await srv.api('GET', '/v1/live', undefined, null);
    t.equal(r.status, 200);
    t.equal(r.headers.get('cache-control'), 'public, max-age=5');
    t.same(ids(r.json.live), [live.al, live.in, live.r2, live.r1, live.r3], 'A-List, Insider, then Rising Star by viewers; practice left out');
    t.equal(r.json.featured?.id, live.al, 'the A-List stream has the featured slot');
    t.match(r.json.live[0], { level: 'a-list', creator: { id: aList.id, handle: 'star_alist', level: 'a-list' }, viewers: 0, watch: /\/watch\// });
    t.match(r.json.live[2], { level: 'rising-star', viewers: 3 });
    t.same(ids(r.json.upcoming), [upcoming.a, upcoming.i, upcoming.r], 'upcoming by level too (then soonest)');
    t.notOk(JSON.stringify(r.json).includes(practice), 'the practice stream is nowhere');
  });

  t.test('no A-List live: the featured slot is empty', async (t) => {
    await srv.app.store.releaseLive(live.al!, 'seed-node', { state: 'idle' });
    const r = await srv.api('GET', '/v1/live', undefined, null);
    t.equal(r.json.featured, null);
    t.equal(r.json.live[0].id, live.in, 'Insider first now');
    await goLive(live.al!);
  });

  t.test('storefront: live, upcoming, past with replays paged by a cursor; practice never; follower count', async (t) => {
    const c = await creator('shop_front');
    const liveNow = await stream(c, { title: 'on now' });
    await goLive(liveNow);
    const soon = await stream(c, { title: 'coming', scheduledAt: new Date(now + 600_000).toISOString() });
    const past: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await stream(c, { title: `past ${i}` });
      await srv.app.store.updateStream(id, { state: 'ended', startedAt: now - (i + 1) * 3_600_000, endedAt: now - (i + 1) * 3_600_000 + 30 * MIN });
      past.push(id);
    }
    // Two with a ready recording: their replays are offered.
    for (const id of [past[0]!, past[3]!]) await srv.app.store.putRecording(id, { state: 'ready', durationSeconds: 1800, renditions: ['360p'], updatedAt: now });
    const rehearsal = await stream(c, { title: 'rehearsal', practice: true });
    await srv.app.store.updateStream(rehearsal, { state: 'ended', startedAt: now - 60_000, endedAt: now });
    const neverLive = await stream(c, { title: 'cancelled' });
    await srv.app.store.updateStream(neverLive, { state: 'ended', endedAt: now });

    const first = await srv.api('GET', '/v1/creators/shop_front/storefront?limit=2', undefined, null);
    t.equal(first.status, 200);
    t.match(first.json.creator, { id: c.id, handle: 'shop_front', displayName: 'The shop_front', level: 'rising-star', followerCount: 0, storefront: /\/c\/shop_front$/ });
    t.same(ids(first.json.live), [liveNow]);
    t.same(ids(first.json.upcoming), [soon]);
    const seen: Array<{ id: string; replay: { watch: string; hls: string; durationSeconds: number } | null }> = [...first.json.past.items];
    let cursor: string | null = first.json.past.nextCursor;
    for (let i = 0; cursor && i < 10; i++) {
      const page = await srv.api('GET', `/v1/creators/shop_front/storefront?limit=2&cursor=${encodeURIComponent(cursor)}`, undefined, null);
      t.equal(page.status, 200);
      t.ok(page.json.past.items.length <= 2, 'pages hold at most the limit');
      seen.push(...page.json.past.items);
      cursor = page.json.past.nextCursor;
    }
    t.same(ids(seen), past, 'every past stream once, newest first; practice and never-live left out');
    t.match(seen[0]!.replay, { watch: `${srv.base}/watch/${past[0]}`, hls: `${srv.base}/hls/${past[0]}/master.m3u8`, durationSeconds: 1800 });
    t.equal(seen[1]!.replay, null, 'no recording: no replay');
    t.ok(seen[3]!.replay);
    t.notOk(JSON.stringify(seen).includes(rehearsal));

    const shopper = await srv.api('POST', '/v1/shoppers', { displayName: 'Fan' }, null);
    t.equal((await srv.api('GET', `/v1/creators/${c.id}/followers/me`, undefined, shopper.json.token)).json.following, false);
    t.equal((await srv.api('PUT', `/v1/creators/${c.id}/followers/me`, undefined, shopper.json.token)).json.followerCount, 1);
    t.same((await srv.api('GET', `/v1/creators/${c.id}/followers/me`, undefined, shopper.json.token)).json, { following: true, followerCount: 1 });
    t.equal((await srv.api('GET', '/v1/creators/shop_front/storefront', undefined, null)).json.creator.followerCount, 1, 'the follow counts at once');

    t.equal((await srv.api('GET', '/v1/creators/nobody_here/storefront', undefined, null)).status, 404);
    t.equal((await srv.api('GET', '/v1/creators/shop_front/storefront?cursor=bad!', undefined, null)).status, 400);
    await srv.api('PATCH', `/v1/creators/${c.id}`, { disabled: true });
    t.equal((await srv.api('GET', '/v1/creators/shop_front/storefront', undefined, null)).status, 404, 'a disabled creator has no storefront');
  });

  t.test('GET /v1/products/:ref/streams: Insider and A-List streams featuring the ref in their first 10 products', async (t) => {
    const add = async (streamId: string, owner: Creator, ref: string | null, n = 1): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await srv.api('POST', `/v1/streams/${streamId}/products`, { title: ref ? `Mug ${ref}` : `Filler ${i}`, url: `https://shop.example/p/${ref ?? i}`, ref, price: { amount: '12.00', currency: 'EUR' } }, owner.token);
        t.equal(r.status, 201, 'product added');
        out.push(r.json.id);
      }
      return out;
    };
    // A-List live: the ref at position 2. Insider live: position 0. Insider past (an hour ago): position 1.
    await add(live.al!, aList, null, 2);
    const [alProduct] = await add(live.al!, aList, 'MUG-42');
    await add(live.in!, insider, 'MUG-42');
    const insiderPast = await stream(insider, { title: 'insider yesterday' });
    await add(insiderPast, insider, null);
    await add(insiderPast, insider, 'MUG-42');
    await srv.app.store.updateStream(insiderPast, { state: 'ended', startedAt: now - 2 * 3_600_000, endedAt: now - 3_600_000 });
    // Left out: a Rising Star's live stream, the ref in 11th place, a practice stream, an idle one.
    await add(live.r2!, rising[1]!, 'MUG-42');
    const deep = await stream(aList, { title: 'deep carousel' });
    await add(deep, aList, null, 10);
    await add(deep, aList, 'MUG-42');
    await goLive(deep);
    const practice = await stream(aList, { title: 'practice mugs', practice: true });
    await add(practice, aList, 'MUG-42');
    await goLive(practice);
    const idle = await stream(aList, { title: 'not yet' });
    await add(idle, aList, 'MUG-42');

    const r = await srv.api('GET', '/v1/products/MUG-42/streams', undefined, null);
    t.equal(r.status, 200);
    t.equal(r.headers.get('access-control-allow-origin'), '*', 'a shop\'s page may embed it');
    t.same(ids(r.json.items), [live.al, live.in, insiderPast], 'A-List, then Insider live before recent; Rising Star, 11th place, practice and idle left out');
    t.match(r.json.items[0], { level: 'a-list', state: 'live', product: { id: alProduct, position: 2, title: 'Mug MUG-42', buyUrl: `/go/${live.al}/${alProduct}` }, replay: null });
    t.match(r.json.items[2], { state: 'ended', level: 'insider', product: { position: 1 } });
    t.same((await srv.api('GET', '/v1/products/NO-SUCH/streams', undefined, null)).json.items, []);
    t.equal((await srv.api('GET', '/v1/products/MUG-42/streams?limit=1', undefined, null)).json.items.length, 1);
  });

  t.test('per-stream analytics: live and replay viewers, per product clicks and purchases, chat, followers gained', async (t) => {
    const c = await creator('ana_lytics');
    const id = await stream(c, { title: 'measured' });
    const p = await srv.api('POST', `/v1/streams/${id}/products`, { title: 'Lamp', url: 'https://shop.example/lamp' }, c.token);
    const startedAt = Date.now() - 10 * MIN;
    const before = await srv.api('POST', '/v1/shoppers', { displayName: 'Early' }, null);
    await srv.app.store.follow(c.id, before.json.id, startedAt - MIN); // followed before the stream: not gained
    await goLive(id, startedAt);
    for (const name of ['A', 'B']) {
      const s = await srv.api('POST', '/v1/shoppers', { displayName: name }, null);
      t.equal((await srv.api('PUT', `/v1/creators/${c.id}/followers/me`, undefined, s.json.token)).status, 200);
    }
    const go = await fetch(`${srv.base}/go/${id}/${p.json.id}`, { redirect: 'manual' });
    t.equal(go.status, 302, 'a click through /go');
    t.equal((await srv.api('POST', '/v1/conversions', { orderId: 'lamp-1', streamId: id, productId: p.json.id, amount: '30.00', currency: 'EUR' })).status, 201);
    await srv.app.store.updateStream(id, { state: 'ended', endedAt: Date.now() });
    const late = await srv.api('POST', '/v1/shoppers', { displayName: 'Late' }, null);
    await srv.app.store.follow(c.id, late.json.id, Date.now() + MIN); // after the end: not gained

    const a = await srv.api('GET', `/v1/streams/${id}/analytics`, undefined, c.token);
    t.equal(a.status, 200);
    t.match(a.json, {
      liveViewers: { peak: Number, average: Number },
      replayViewers: { now: 0, watchMinutes: 0 },
      followersGained: 2,
      products: [{ productId: p.json.id, title: 'Lamp', position: 0, clicks: 1, purchases: 1, revenue: { EUR: '30.00' } }],
      room: { messages: 0, reactions: 0 },
    });
  });
}
