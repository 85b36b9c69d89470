// Contract cases for the room's tables (shoppers, room_messages): run by runStoreContract against
// every Store implementation.
import type { Test } from 'tap';
import type { RoomMessageRecord, ShopperRecord, Store } from '../../src/store/types.js';
import { stream } from './store-contract.js';

/** A shopper record with predictable fields. */
export function shopper(id: string, over: Partial<ShopperRecord> = {}): ShopperRecord {
  return { id, displayName: `Shopper ${id}`, tokenHash: `sh-tok-${id}`, createdAt: 1_700_000_000_000, ...over };
}

/** A message record with predictable fields. */
export function message(id: string, streamId: string, mediaTime: number, over: Partial<RoomMessageRecord> = {}): RoomMessageRecord {
  return { id, streamId, authorId: 'shA', authorRole: 'shopper', authorName: 'Shopper shA', text: `text ${id}`, at: mediaTime + 5, mediaTime, deletedAt: null, ...over };
}

/** Registers the room cases; `open` gives a fresh store per test. */
export function runRoomContract(tap: Test, name: string, open: (t: Test) => Promise<{ store: Store }>): void {
  tap.test(`${name}: shoppers: create, get, by token hash, conflicts, delete`, async (t) => {
    const { store } = await open(t);
    t.same(await store.createShopper(shopper('shA')), shopper('shA'));
    t.same(await store.getShopper('shA'), shopper('shA'));
    t.equal((await store.getShopperByTokenHash('sh-tok-shA'))?.id, 'shA');
    t.equal(await store.getShopperByTokenHash('nope'), undefined);
    await t.rejects(store.createShopper(shopper('shB', { tokenHash: 'sh-tok-shA' })), { code: 'SHOWCASE_ERR_CONFLICT' }, 'taken token');
    await t.rejects(store.createShopper(shopper('shA', { tokenHash: 'other' })), { code: 'SHOWCASE_ERR_CONFLICT' }, 'taken id');
    t.equal(await store.deleteShopper('shA'), true);
    t.equal(await store.deleteShopper('shA'), false);
    t.equal(await store.getShopper('shA'), undefined);
  });

  tap.test(`${name}: room messages: pages by mediaTime, recent history, deletes, cascades`, async (t) => {
    const { store } = await open(t);
    await store.createStream(stream('s1'));
    await store.createStream(stream('s2'));
    await store.createShopper(shopper('shA'));
    for (let i = 0; i < 6; i++) await store.addRoomMessage(message(`m${i}`, 's1', 1000 + i * 10));
    await store.addRoomMessage(message('h1', 's1', 1025, { authorId: 'cr1', authorRole: 'host', authorName: 'Host' }));
    await store.addRoomMessage(message('o1', 's2', 1000));
    await t.rejects(store.addRoomMessage(message('m0', 's1', 1)), { code: 'SHOWCASE_ERR_CONFLICT' }, 'taken id');
    await t.rejects(store.addRoomMessage(message('x1', 'ghost', 1)), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown stream');
    await t.rejects(store.addRoomMessage(message('x2', 's1', 1, { authorRole: 'king' as never })), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown role');

    const all = await store.listRoomMessages('s1', { limit: 100 });
    t.same(all.map((m) => m.id), ['m0', 'm1', 'm2', 'h1', 'm3', 'm4', 'm5'], 'oldest first by mediaTime');
    t.same(all[3], message('h1', 's1', 1025, { authorId: 'cr1', authorRole: 'host', authorName: 'Host' }), 'round-trips every field');
    t.same((await store.listRoomMessages('s1', { after: 1020, limit: 2 })).map((m) => m.id), ['h1', 'm3'], 'after is exclusive; limit holds');
    t.same((await store.recentRoomMessages('s1', 3)).map((m) => m.id), ['m3', 'm4', 'm5'], 'the newest, oldest first');
    await t.rejects(store.listRoomMessages('s1', { limit: 0 }), { code: 'SHOWCASE_ERR_BAD_REQUEST' });

    t.equal(await store.deleteRoomMessage('s1', 'm4', 2000), true);
    t.equal(await store.deleteRoomMessage('s1', 'm4', 2001), false, 'already deleted');
    t.equal(await store.deleteRoomMessage('s2', 'm3', 2000), false, 'another stream\'s message');
    t.notOk((await store.listRoomMessages('s1', { limit: 100 })).some((m) => m.id === 'm4'), 'deleted: gone from replays');
    t.same((await store.recentRoomMessages('s1', 3)).map((m) => m.id), ['h1', 'm3', 'm5'], 'and from history');

    t.equal(await store.deleteShopper('shA'), true);
    t.same((await store.listRoomMessages('s1', { limit: 100 })).map((m) => m.id), ['h1'], 'a deleted shopper\'s messages go with them; the host\'s stay');
    t.equal(await store.deleteStream('s2'), true);
    t.same(await store.listRoomMessages('s2', { limit: 100 }), [], 'a deleted stream\'s messages go with it');
  });
}
