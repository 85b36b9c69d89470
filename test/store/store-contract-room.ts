// Contract cases for the room's tables (shoppers, room_messages): run by runStoreContract against
// every Store implementation.
import type { Test } from 'tap';
import type { RoomBanRecord, RoomMessageRecord, ShopperRecord, Store } from '../../src/store/types.js';
import { creator, stream } from './store-contract.js';

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

  tap.test(`${name}: room bans: per stream and per creator, expiry, replace, lift, cascades`, async (t) => {
    const { store } = await open(t);
    await store.createCreator(creator('c1'));
    await store.createStream(stream('s1', { ownerId: 'c1' }));
    await store.createStream(stream('s2', { ownerId: 'c1' }));
    await store.createStream(stream('s3'));
    for (const id of ['shA', 'shB', 'shC']) await store.createShopper(shopper(id));
    const ban = (scope: RoomBanRecord['scope'], scopeId: string, shopperId: string, until: number | null, createdAt = 100): RoomBanRecord =>
      ({ scope, scopeId, shopperId, until, createdAt, by: 'c1' });
    await store.putRoomBan(ban('stream', 's1', 'shA', 5000));
    await store.putRoomBan(ban('creator', 'c1', 'shB', null, 200));
    await store.putRoomBan(ban('stream', 's1', 'shC', 1500, 300));
    await t.rejects(store.putRoomBan(ban('stream', 'ghost', 'shA', null)), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown stream');
    await t.rejects(store.putRoomBan(ban('creator', 'ghost', 'shA', null)), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown creator');
    await t.rejects(store.putRoomBan(ban('stream', 's1', 'ghost', null)), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown shopper');

    const on = async (streamId: string, creatorId: string | null, now: number, shopperId?: string) =>
      (await store.listRoomBans({ streamId, creatorId, now, shopperId })).map((b) => `${b.scope}:${b.scopeId}:${b.shopperId}`);
    t.same(await on('s1', 'c1', 1000), ['stream:s1:shA', 'creator:c1:shB', 'stream:s1:shC'], 'the stream\'s and its creator\'s, oldest first');
    t.same(await on('s1', 'c1', 2000), ['stream:s1:shA', 'creator:c1:shB'], 'an expired time-out is not in force');
    t.same(await on('s2', 'c1', 1000), ['creator:c1:shB'], 'a creator ban holds on every stream of theirs');
    t.same(await on('s1', null, 1000), ['stream:s1:shA', 'stream:s1:shC'], 'no creator: the stream\'s own');
    t.same(await on('s1', 'c1', 1000, 'shB'), ['creator:c1:shB'], 'one shopper');
    t.same((await store.listRoomBans({ streamId: 's1', creatorId: 'c1', now: 0, shopperId: 'shA' }))[0], ban('stream', 's1', 'shA', 5000), 'round-trips every field');

    await store.putRoomBan(ban('stream', 's1', 'shA', null, 400));
    t.same((await store.listRoomBans({ streamId: 's1', creatorId: null, now: 0, shopperId: 'shA' })).map((b) => b.until), [null], 'a second ban in a scope replaces the first');
    t.equal(await store.deleteRoomBan('stream', 's1', 'shA'), true);
    t.equal(await store.deleteRoomBan('stream', 's1', 'shA'), false, 'already lifted');
    t.same(await on('s1', 'c1', 1000, 'shA'), []);

    t.equal(await store.deleteShopper('shC'), true);
    t.same(await on('s1', 'c1', 1000), ['creator:c1:shB'], 'a deleted shopper\'s bans go with them');
    await store.putRoomBan(ban('stream', 's2', 'shA', null));
    t.equal(await store.deleteStream('s2'), true);
    t.same(await on('s2', null, 1000), [], 'a deleted stream\'s bans go with it');
  });

  tap.test(`${name}: blocked words and room minute counts`, async (t) => {
    const { store } = await open(t);
    await store.createCreator(creator('c1'));
    await store.createStream(stream('s1', { ownerId: 'c1' }));
    t.same(await store.getBlockedWords('c1'), [], 'none set');
    t.equal(await store.putBlockedWords('c1', ['spam', 'scam site'], 10), true);
    t.same(await store.getBlockedWords('c1'), ['spam', 'scam site']);
    t.equal(await store.putBlockedWords('c1', ['fake'], 20), true);
    t.same(await store.getBlockedWords('c1'), ['fake'], 'replaced');
    t.equal(await store.putBlockedWords('ghost', ['x'], 20), false, 'unknown creator');
    t.same(await store.getBlockedWords('ghost'), []);

    t.same(await store.listRoomCounts('s1'), []);
    await store.addRoomCounts('s1', [{ startMs: 60_000, messages: 2, reactions: 10 }, { startMs: 120_000, messages: 1, reactions: 0 }]);
    await store.addRoomCounts('s1', [{ startMs: 60_000, messages: 1, reactions: 5 }]);
    await store.addRoomCounts('s1', []);
    t.same(await store.listRoomCounts('s1'), [{ startMs: 60_000, messages: 3, reactions: 15 }, { startMs: 120_000, messages: 1, reactions: 0 }], 'counts add up per minute, oldest first');
    await t.rejects(store.addRoomCounts('ghost', [{ startMs: 0, messages: 1, reactions: 1 }]), { code: 'SHOWCASE_ERR_VALIDATION' }, 'unknown stream');
    t.equal(await store.deleteStream('s1'), true);
    t.same(await store.listRoomCounts('s1'), [], 'a deleted stream\'s counts go with it');
  });
}
