// Contract cases for notifications (issue 15): push subscriptions and the durable outbox; run by
// runStoreContract against every Store implementation.
import type { Test } from 'tap';
import type { Store } from '../../src/store/types.js';
import type { OutboxRecord, PushSubscriptionRecord } from '../../src/store/notify-types.js';
import { creator } from './store-contract.js';
import { shopper } from './store-contract-room.js';

/** A subscription record with predictable fields. */
export function subscription(id: string, shopperId: string, over: Partial<PushSubscriptionRecord> = {}): PushSubscriptionRecord {
  return { id, shopperId, endpoint: `https://push.example/${id}`, p256dh: `key-${id}`, auth: `auth-${id}`, createdAt: 1_700_000_000_000, ...over };
}

/** An outbox row, pending and due at `due`. */
export function outboxRow(id: string, due: number, over: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    id, kind: 'webhook', target: 'https://hooks.example/a', eventType: 'stream.live', payload: `{"id":"${id}"}`, state: 'pending',
    attempts: 0, nextAttemptAt: due, cursor: null, lastError: null, createdAt: due, updatedAt: due, ...over,
  };
}

/** Registers the notification cases; `open` gives a fresh store per test. */
export function runNotifyContract(tap: Test, name: string, open: (t: Test) => Promise<{ store: Store; reopen: () => Promise<Store> }>): void {
  tap.test(`${name}: notify: push subscriptions are put (upsert by endpoint), listed, deleted, cascade with the shopper`, async (t) => {
    const { store } = await open(t);
    for (const s of ['s1', 's2']) await store.createShopper(shopper(s));
    const a = subscription('psA', 's1', { createdAt: 10 });
    t.same(await store.putPushSubscription(a), { created: true, rec: a });
    t.same(await store.putPushSubscription(subscription('psB', 's1', { createdAt: 20 })), { created: true, rec: subscription('psB', 's1', { createdAt: 20 }) });
    const again = await store.putPushSubscription(subscription('psX', 's2', { endpoint: a.endpoint, p256dh: 'new-key', auth: 'new-auth', createdAt: 30 }));
    t.equal(again.created, false, 'the same endpoint is the same subscription');
    t.same(again.rec, { ...a, shopperId: 's2', p256dh: 'new-key', auth: 'new-auth' }, 'keys and owner updated, id and creation kept');
    t.same((await store.listPushSubscriptions('s1')).map((s) => s.id), ['psB']);
    t.same((await store.listPushSubscriptions('s2')).map((s) => s.id), ['psA']);
    t.same(await store.getPushSubscription('psB'), subscription('psB', 's1', { createdAt: 20 }));
    await t.rejects(store.putPushSubscription(subscription('psZ', 'nobody')), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown shopper');
    t.equal(await store.deletePushSubscription('psB', 's2'), false, 'not theirs');
    t.equal(await store.deletePushSubscription('psB', 's1'), true);
    t.equal(await store.deletePushSubscription('psB'), false, 'gone already');
    t.equal(await store.getPushSubscription('psB'), undefined);
    t.equal(await store.deleteShopper('s2'), true);
    t.equal(await store.getPushSubscription('psA'), undefined, 'deleted with the shopper');
  });

  tap.test(`${name}: notify: followers' subscriptions are paged in (shopperId, id) order`, async (t) => {
    const { store } = await open(t);
    for (const c of ['cA', 'cB']) await store.createCreator(creator(c));
    for (const s of ['s1', 's2', 's3', 's4']) await store.createShopper(shopper(s));
    await store.follow('cA', 's1', 1);
    await store.follow('cA', 's2', 1);
    await store.follow('cA', 's4', 1);
    await store.follow('cB', 's3', 1);
    for (const [id, s] of [['p2b', 's2'], ['p1a', 's1'], ['p2a', 's2'], ['p3a', 's3'], ['p1b', 's1']] as const) await store.putPushSubscription(subscription(id, s));
    const all: string[] = [];
    let after: { shopperId: string; id: string } | null = null;
    for (let i = 0; i < 10; i++) {
      const page = await store.listFollowerPushSubscriptions('cA', { after, limit: 2 });
      if (page.length === 0) break;
      t.ok(page.length <= 2);
      all.push(...page.map((p) => p.id));
      const last = page[page.length - 1]!;
      after = { shopperId: last.shopperId, id: last.id };
    }
    t.same(all, ['p1a', 'p1b', 'p2a', 'p2b'], 'only followers of cA, each once; s4 has none, s3 follows cB');
    t.same((await store.listFollowerPushSubscriptions('cB', { limit: 100 })).map((p) => p.id), ['p3a']);
  });

  tap.test(`${name}: notify: outbox rows are written once, claimed with a lease, settled, progressed and released`, async (t) => {
    const { store, reopen } = await open(t);
    const now = 1_800_000_000_000;
    t.equal(await store.enqueueOutbox([outboxRow('m1', now - 10), outboxRow('m2', now - 20), outboxRow('m3', now + 60_000)]), 3);
    t.equal(await store.enqueueOutbox([outboxRow('m1', now - 10, { payload: 'changed' }), outboxRow('m4', now - 5)]), 1, 'an existing id is left as it is');
    t.equal((await store.getOutbox('m1'))?.payload, '{"id":"m1"}');
    t.equal(await store.enqueueOutbox([]), 0);

    const c1 = await store.claimOutbox({ owner: 'nodeA', now, leaseUntil: now + 1000, limit: 2 });
    t.same(c1.map((r) => r.id), ['m2', 'm1'], 'soonest due first, at most limit');
    t.same([c1[0]!.leaseOwner, c1[0]!.leaseExpiresAt], ['nodeA', now + 1000]);
    // A second node (another store on the same database) sees only what is not leased.
    const other = await reopen();
    const c2 = await other.claimOutbox({ owner: 'nodeB', now, leaseUntil: now + 1000, limit: 10 });
    t.same(c2.map((r) => r.id), ['m4'], 'leased rows and rows not yet due are not claimed');
    t.same(await store.claimOutbox({ owner: 'nodeA', now, leaseUntil: now + 1000, limit: 10 }), [], 'nothing left');

    t.equal(await store.settleOutbox('m2', 'nodeB', { state: 'done', attempts: 0, nextAttemptAt: now, lastError: null }, now), false, 'only the holder settles');
    t.equal(await store.settleOutbox('m2', 'nodeA', { state: 'done', attempts: 0, nextAttemptAt: now, lastError: null }, now + 1), true);
    t.equal(await store.settleOutbox('m2', 'nodeA', { state: 'done', attempts: 0, nextAttemptAt: now, lastError: null }, now + 1), false, 'the lease is gone after settling');
    t.equal(await store.settleOutbox('m1', 'nodeA', { state: 'pending', attempts: 1, nextAttemptAt: now + 500, lastError: 'HTTP 503 '.repeat(100) }, now + 2), true);
    const m1 = (await store.getOutbox('m1'))!;
    t.same([m1.state, m1.attempts, m1.nextAttemptAt, m1.updatedAt], ['pending', 1, now + 500, now + 2]);
    t.equal(m1.lastError!.length, 500, 'errors are clipped');
    t.same(await store.claimOutbox({ owner: 'nodeA', now: now + 499, leaseUntil: now + 2000, limit: 10 }), [], 'a retry waits for its time');
    t.same((await store.claimOutbox({ owner: 'nodeA', now: now + 500, leaseUntil: now + 2000, limit: 10 })).map((r) => r.id), ['m1']);

    // nodeB's lease on m4 expires: anyone may take it over.
    t.same((await store.claimOutbox({ owner: 'nodeA', now: now + 1000, leaseUntil: now + 3000, limit: 10 })).map((r) => r.id), ['m4'], 'an expired lease is taken over');
    t.equal(await other.progressOutbox('m4', 'nodeB', { cursor: 'x', leaseUntil: now + 9000 }, now), false, 'the old holder lost it');
    t.equal(await store.progressOutbox('m4', 'nodeA', { cursor: 'c1', leaseUntil: now + 9000 }, now + 1001), true);
    t.same([(await store.getOutbox('m4'))!.cursor, (await store.getOutbox('m4'))!.updatedAt], ['c1', now + 1001]);
    t.same((await other.claimOutbox({ owner: 'nodeB', now: now + 5000, leaseUntil: now + 9000, limit: 10 })).map((r) => r.id), ['m1'],
      'm1\'s lease (to now+2000) expired; progress extended m4\'s');

    t.equal(await store.releaseOutboxLeases('nodeA'), 1, 'm4');
    t.same((await other.claimOutbox({ owner: 'nodeB', now: now + 5000, leaseUntil: now + 9000, limit: 10 })).map((r) => r.id), ['m4'], 'a released row is claimable at once');
    t.equal(await other.settleOutbox('m4', 'nodeB', { state: 'dead', attempts: 9, nextAttemptAt: now, lastError: 'gave up' }, now + 6000), true);
    t.same(await store.outboxCounts(), { pending: 2, done: 1, dead: 1 });
    t.equal(await store.pruneOutbox(now + 5000), 1, 'done m2 (updated at now+1) pruned, dead m4 (now+6000) kept');
    t.same(await store.outboxCounts(), { pending: 2, done: 0, dead: 1 });
  });
}
