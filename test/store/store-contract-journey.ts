// Contract cases for the creator's journey (issue 15): scheduled and practice streams, discovery
// and followers; run by runStoreContract against every Store implementation.
import type { Test } from 'tap';
import type { Store } from '../../src/store/types.js';
import { creator, stored, stream } from './store-contract.js';
import { shopper } from './store-contract-room.js';

/** Registers the journey cases; `open` gives a fresh store per test. */
export function runJourneyContract(tap: Test, name: string, open: (t: Test) => Promise<{ store: Store }>): void {
  tap.test(`${name}: journey: scheduledAt and practice are stored, defaulted and patched`, async (t) => {
    const { store } = await open(t);
    const plain = stream('plain');
    t.same(await store.createStream(plain), stored(plain), 'defaults: unscheduled, public');
    const sched = stream('sched', { scheduledAt: 1_800_000_000_000, practice: true });
    t.same(await store.createStream(sched), stored(sched));
    t.same(await store.getStream('sched'), stored(sched));
    t.equal((await store.updateStream('plain', { scheduledAt: 1_900_000_000_000 }))?.scheduledAt, 1_900_000_000_000);
    t.equal((await store.updateStream('plain', { scheduledAt: null }))?.scheduledAt, null, 'null clears the schedule');
    t.equal((await store.updateStream('sched', { title: 'x' }))?.practice, true, 'other patches keep practice');
  });

  tap.test(`${name}: journey: listDiscoverable gives public live streams and upcoming ones by scheduledAt`, async (t) => {
    const { store } = await open(t);
    const now = 1_800_000_000_000;
    await store.createStream(stream('l1', { state: 'live', startedAt: now - 2000 }));
    await store.createStream(stream('l2', { state: 'live', startedAt: now - 1000 }));
    await store.createStream(stream('lp', { state: 'live', startedAt: now, practice: true }));
    await store.createStream(stream('u2', { scheduledAt: now + 20_000 }));
    await store.createStream(stream('u1', { scheduledAt: now + 10_000 }));
    await store.createStream(stream('up', { scheduledAt: now + 5_000, practice: true }));
    await store.createStream(stream('old', { scheduledAt: now - 100_000 }));
    await store.createStream(stream('unsched'));
    await store.createStream(stream('ended', { state: 'ended', scheduledAt: now + 1000 }));
    const d = await store.listDiscoverable({ scheduledSince: now - 50_000, limit: 10 });
    t.same(d.live.map((s) => s.id), ['l2', 'l1'], 'newest start first, practice left out');
    t.same(d.upcoming.map((s) => s.id), ['u1', 'u2'], 'soonest first; practice, past, unscheduled and ended left out');
    const one = await store.listDiscoverable({ scheduledSince: now - 50_000, limit: 1 });
    t.same([one.live.length, one.upcoming.length], [1, 1], 'limit applies to each list');
  });

  tap.test(`${name}: journey: follow, unfollow, counts, following pages, follower batches`, async (t) => {
    const { store } = await open(t);
    for (const c of ['cA', 'cB', 'cC']) await store.createCreator(creator(c));
    for (const s of ['s1', 's2', 's3']) await store.createShopper(shopper(s));
    t.equal(await store.follow('cA', 's1', 100), true, 'new follow');
    t.equal(await store.follow('cA', 's1', 200), false, 'a repeat is not new');
    await store.follow('cB', 's1', 300);
    await store.follow('cC', 's1', 300);
    await store.follow('cA', 's3', 400);
    await store.follow('cA', 's2', 500);
    await t.rejects(store.follow('nope', 's1', 1), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown creator');
    await t.rejects(store.follow('cA', 'nope', 1), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown shopper');
    t.equal(await store.followerCount('cA'), 3);
    t.equal(await store.followerCount('cB'), 1);
    t.equal(await store.isFollowing('cA', 's1'), true);
    t.equal(await store.isFollowing('cB', 's2'), false);
    const p1 = await store.listFollowing('s1', { limit: 2 });
    t.same(p1.items, [{ creatorId: 'cC', shopperId: 's1', createdAt: 300 }, { creatorId: 'cB', shopperId: 's1', createdAt: 300 }], 'newest first, ties by creator id descending');
    t.ok(p1.nextCursor);
    const p2 = await store.listFollowing('s1', { limit: 2, cursor: p1.nextCursor });
    t.same(p2.items, [{ creatorId: 'cA', shopperId: 's1', createdAt: 100 }], 'the first follow time is kept');
    t.equal(p2.nextCursor, null);
    await t.rejects(store.listFollowing('s1', { limit: 2, cursor: 'bad!' }), { code: 'SHOWCASE_ERR_BAD_REQUEST' });
    t.same(await store.listFollowers('cA', { limit: 2 }), ['s1', 's2']);
    t.same(await store.listFollowers('cA', { after: 's2', limit: 2 }), ['s3']);
    t.same(await store.listFollowers('cA', { after: 's3', limit: 2 }), []);
    t.equal(await store.unfollow('cA', 's2'), true);
    t.equal(await store.unfollow('cA', 's2'), false);
    t.equal(await store.followerCount('cA'), 2);
    t.equal(await store.deleteShopper('s1'), true);
    t.equal(await store.followerCount('cA'), 1, 'a deleted shopper follows nobody');
    t.same((await store.listFollowing('s1', { limit: 10 })).items, []);
  });

  tap.test(`${name}: journey: a creator's storefront lists: live, upcoming, past paged; practice and others' left out`, async (t) => {
    const { store } = await open(t);
    const now = 1_800_000_000_000;
    for (const c of ['cA', 'cB']) await store.createCreator(creator(c));
    const mine = { ownerId: 'cA' };
    await store.createStream(stream('live1', { ...mine, state: 'live', startedAt: now - 5000 }));
    await store.createStream(stream('livep', { ...mine, state: 'live', startedAt: now, practice: true }));
    await store.createStream(stream('up1', { ...mine, scheduledAt: now + 1000 }));
    await store.createStream(stream('upold', { ...mine, scheduledAt: now - 999_999 }));
    await store.createStream(stream('never', { ...mine, state: 'ended', startedAt: null, endedAt: now }));
    await store.createStream(stream('pastp', { ...mine, state: 'ended', startedAt: now - 100, endedAt: now, practice: true }));
    for (let i = 0; i < 5; i++) await store.createStream(stream(`past${i}`, { ...mine, state: 'ended', startedAt: now - 100_000 * (i + 1), endedAt: now - 100_000 * (i + 1) + 50_000 }));
    // Two past streams that started at the same instant: the id breaks the tie.
    await store.createStream(stream('pastTa', { ...mine, state: 'ended', startedAt: now - 250_000, endedAt: now }));
    await store.createStream(stream('theirs', { ownerId: 'cB', state: 'ended', startedAt: now - 10, endedAt: now }));
    await store.createStream(stream('theirlive', { ownerId: 'cB', state: 'live', startedAt: now - 10 }));
    const d = await store.listCreatorDiscoverable('cA', { scheduledSince: now - 10_000, limit: 10 });
    t.same(d.live.map((s) => s.id), ['live1']);
    t.same(d.upcoming.map((s) => s.id), ['up1']);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = await store.listCreatorPast('cA', { limit: 2, cursor });
      t.ok(page.items.length <= 2);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    t.same(seen, ['past0', 'past1', 'pastTa', 'past2', 'past3', 'past4'], 'newest start first across pages, nothing twice, practice and never-live left out');
    await t.rejects(store.listCreatorPast('cA', { limit: 2, cursor: 'x!' }), { code: 'SHOWCASE_ERR_BAD_REQUEST' });
    t.same((await store.listCreatorPast('cB', { limit: 10 })).items.map((s) => s.id), ['theirs']);
  });

  tap.test(`${name}: journey: streams by product ref: live and recent public streams with the ref among the first products`, async (t) => {
    const { store } = await open(t);
    const now = 1_800_000_000_000;
    await store.createCreator(creator('cA'));
    const o = { ownerId: 'cA' };
    await store.createStream(stream('live', { ...o, state: 'live', startedAt: now - 1000 }));
    await store.createStream(stream('recent', { ...o, state: 'ended', startedAt: now - 50_000, endedAt: now - 40_000 }));
    await store.createStream(stream('older', { ...o, state: 'ended', startedAt: now - 90_000, endedAt: now - 80_000 }));
    await store.createStream(stream('stale', { ...o, state: 'ended', startedAt: now - 9_000_000, endedAt: now - 8_000_000 }));
    await store.createStream(stream('practice', { ...o, state: 'live', startedAt: now, practice: true }));
    await store.createStream(stream('idle', { ...o }));
    await store.createStream(stream('deep', { ...o, state: 'live', startedAt: now - 10 }));
    const prod = (id: string, streamId: string, ref: string | null) => ({ id, streamId, title: `P ${id}`, url: `https://shop.example/${id}`, imageUrl: null, price: { amount: '9.50', currency: 'EUR' }, ref, description: null, createdAt: 1, updatedAt: 1 });
    for (const s of ['live', 'recent', 'older', 'stale', 'practice', 'idle']) {
      await store.createProduct(prod(`${s}-0`, s, 'OTHER'), 50);
      await store.createProduct(prod(`${s}-1`, s, 'SKU-9'), 50);
    }
    await store.createProduct(prod('live-2', 'live', 'SKU-9'), 50); // the same ref twice: one row, the first
    for (let i = 0; i < 10; i++) await store.createProduct(prod(`deep-${i}`, 'deep', 'FILL'), 50);
    await store.createProduct(prod('deep-10', 'deep', 'SKU-9'), 50); // 11th in the carousel: not featured
    const r = await store.listStreamsByProductRef('SKU-9', { maxPosition: 10, endedSince: now - 100_000, limit: 10 });
    t.same(r.map((x) => [x.stream.id, x.product.id]), [['live', 'live-1'], ['recent', 'recent-1'], ['older', 'older-1']],
      'live first, then newest start; practice, idle, stale and the 11th position left out');
    t.same(r[0]!.product, { ...prod('live-1', 'live', 'SKU-9'), position: 1 }, 'the product record, as listProducts gives it');
    t.equal(r[0]!.stream.ownerId, 'cA');
    t.same((await store.listStreamsByProductRef('SKU-9', { maxPosition: 10, endedSince: now - 100_000, limit: 2 })).map((x) => x.stream.id), ['live', 'recent'], 'limit');
    t.same(await store.listStreamsByProductRef('NOPE', { maxPosition: 10, endedSince: 0, limit: 10 }), []);
    t.same((await store.listStreamsByProductRef('SKU-9', { maxPosition: 1, endedSince: 0, limit: 10 })), [], 'maxPosition is exclusive');
  });

  tap.test(`${name}: journey: level activity and followers gained`, async (t) => {
    const { store } = await open(t);
    const now = 1_800_000_000_000;
    for (const c of ['cA', 'cB']) await store.createCreator(creator(c));
    for (const s of ['s1', 's2', 's3']) await store.createShopper(shopper(s));
    await store.createStream(stream('a1', { ownerId: 'cA', state: 'ended', startedAt: now - 600_000, endedAt: now - 300_000 }));
    await store.createStream(stream('a2', { ownerId: 'cA', state: 'live', startedAt: now - 60_000 }));
    await store.createStream(stream('aold', { ownerId: 'cA', state: 'ended', startedAt: now - 9_000_000, endedAt: now - 8_000_000 }));
    await store.createStream(stream('ap', { ownerId: 'cA', state: 'ended', startedAt: now - 600_000, endedAt: now, practice: true }));
    await store.createStream(stream('b1', { ownerId: 'cB', state: 'ended', startedAt: now - 600_000, endedAt: now }));
    const conv = (orderId: string, streamId: string, at: number) => ({ orderId, streamId, creatorId: null, productId: null, promoCode: null, amountUnits: 10_000, currency: 'USD', occurredAt: at, receivedAt: at });
    const minute = Math.floor((now - 500_000) / 60_000) * 60_000;
    await store.recordConversion(conv('o1', 'a1', minute + 1000));
    await store.recordConversion(conv('o2', 'a1', minute + 2000));
    await store.recordConversion(conv('o3', 'a2', now - 1000));
    await store.recordConversion(conv('o4', 'aold', now - 8_500_000));
    await store.recordConversion(conv('o5', 'ap', now - 1000));
    await store.recordConversion(conv('o6', 'b1', now - 1000));
    const a = await store.levelActivity('cA', now - 1_000_000);
    t.same(a.intervals.map((i) => [i.startedAt, i.endedAt]).sort((x, y) => x[0]! - y[0]!), [[now - 600_000, now - 300_000], [now - 60_000, null]],
      'public streams live since then (the live one open), practice and older left out');
    t.same(a.sales, [{ at: minute, count: 2 }, { at: Math.floor((now - 1000) / 60_000) * 60_000, count: 1 }], 'sales per minute, practice and others\' left out');
    await store.follow('cA', 's1', now - 10_000);
    await store.follow('cA', 's2', now - 5_000);
    await store.follow('cA', 's3', now);
    await store.follow('cB', 's3', now - 5_000);
    t.equal(await store.followersGained('cA', now - 10_000, now), 2, 'from inclusive, to exclusive');
    t.equal(await store.followersGained('cB', now - 10_000, now), 1);
  });
}
