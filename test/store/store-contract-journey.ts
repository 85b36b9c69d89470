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
}
