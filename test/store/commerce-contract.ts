// The commerce part of the store contract (issue 13): products and highlights, the same cases for
// SQLite and PostgreSQL. Called from runStoreContract.
import type { Test } from 'tap';
import type { NewProductRecord } from '../../src/store/commerce-types.js';
import type { NewStreamRecord, Store } from '../../src/store/types.js';
import { rejection } from './store-contract.js';

interface Target { name: string; fresh(t: Test): Promise<() => Promise<Store>> }

function stream(id: string): NewStreamRecord {
  return { id, ownerId: null, title: id, description: '', streamKeyHash: `key-${id}`, streamKeyPrefix: 'sk_', state: 'idle', createdAt: 1, startedAt: null, endedAt: null, endReason: null, extra: {} };
}

function product(id: string, streamId: string, over: Partial<NewProductRecord> = {}): NewProductRecord {
  return { id, streamId, title: `P ${id}`, url: `https://shop.example/${id}`, imageUrl: null, price: null, ref: null, description: null, createdAt: 10, updatedAt: 10, ...over };
}

/** Registers the commerce contract cases. */
export function runCommerceContract(tap: Test, target: Target): void {
  tap.test(`${target.name}: products: append, list in order, get, patch, limit, unknown stream`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createStream(stream('s1'));
    await store.createStream(stream('s2'));
    const a = await store.createProduct(product('a', 's1', { price: { amount: '19.99', currency: 'USD' }, ref: 'SKU-1', imageUrl: 'https://img.example/a.jpg' }), 3);
    t.same(a, { ...product('a', 's1', { price: { amount: '19.99', currency: 'USD' }, ref: 'SKU-1', imageUrl: 'https://img.example/a.jpg' }), position: 0 });
    t.equal((await store.createProduct(product('b', 's1'), 3)).position, 1);
    t.equal((await store.createProduct(product('c', 's1'), 3)).position, 2);
    t.equal((await store.createProduct(product('x', 's2'), 3)).position, 0, 'positions are per stream');
    const full = await rejection(t, store.createProduct(product('d', 's1'), 3));
    t.equal(full.code, 'SHOWCASE_ERR_CONFLICT');
    t.same(full.details, { limit: 3 });
    t.equal((await rejection(t, store.createProduct(product('e', 'nope'), 3))).code, 'SHOWCASE_ERR_VALIDATION');
    t.equal((await rejection(t, store.createProduct(product('a', 's2'), 3))).code, 'SHOWCASE_ERR_CONFLICT', 'a taken id');
    t.same((await store.listProducts('s1')).map((p) => p.id), ['a', 'b', 'c']);
    t.same(await store.getProduct('s1', 'a'), a);
    t.equal(await store.getProduct('s2', 'a'), undefined, 'a product is found under its own stream only');
    const patched = await store.updateProduct('s1', 'a', { title: 'New', price: null, description: 'd' }, 20);
    t.match(patched, { title: 'New', price: null, description: 'd', ref: 'SKU-1', url: a.url, updatedAt: 20, position: 0 });
    t.same(await store.getProduct('s1', 'a'), patched);
    t.equal(await store.updateProduct('s1', 'zz', { title: 'x' }, 20), undefined);
  });

  tap.test(`${target.name}: products: delete closes the gap, reorder takes exactly the stream's ids, stream delete cascades`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createStream(stream('s1'));
    for (const id of ['a', 'b', 'c', 'd']) await store.createProduct(product(id, 's1'), 50);
    t.equal(await store.deleteProduct('s1', 'b'), true);
    t.equal(await store.deleteProduct('s1', 'b'), false);
    t.same((await store.listProducts('s1')).map((p) => [p.id, p.position]), [['a', 0], ['c', 1], ['d', 2]]);
    const re = await store.reorderProducts('s1', ['d', 'a', 'c'], 30);
    t.same(re.map((p) => [p.id, p.position]), [['d', 0], ['a', 1], ['c', 2]]);
    t.same((await store.listProducts('s1')).map((p) => p.id), ['d', 'a', 'c']);
    for (const bad of [['d', 'a'], ['d', 'a', 'a'], ['d', 'a', 'c', 'zz'], ['d', 'a', 'x']]) {
      t.equal((await rejection(t, store.reorderProducts('s1', bad, 31))).code, 'SHOWCASE_ERR_VALIDATION', `reorder ${bad.join(',')} refused`);
    }
    t.same((await store.listProducts('s1')).map((p) => p.id), ['d', 'a', 'c'], 'a refused reorder changes nothing');
    t.equal((await store.createProduct(product('e', 's1'), 50)).position, 3, 'appends after the last');
    await store.createHighlight({ id: 'h1', streamId: 's1', productId: 'a', startDate: 100, endDate: null, mediaTime: 1, createdAt: 100 });
    await store.deleteStream('s1');
    t.same(await store.listProducts('s1'), []);
    t.same(await store.listHighlights('s1'), []);
  });

  tap.test(`${target.name}: highlights: create, end once (never before its start), list oldest first`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createStream(stream('s1'));
    await store.createHighlight({ id: 'h2', streamId: 's1', productId: 'b', startDate: 2000, endDate: null, mediaTime: 2.5, createdAt: 2001 });
    await store.createHighlight({ id: 'h1', streamId: 's1', productId: 'a', startDate: 1000, endDate: null, mediaTime: 1.25, createdAt: 1001 });
    t.equal(await store.endHighlight('s1', 'h1', 2000), true);
    t.equal(await store.endHighlight('s1', 'h1', 3000), false, 'an end is set once');
    t.equal(await store.endHighlight('s1', 'h2', 1500), true);
    t.same(await store.listHighlights('s1'), [
      { id: 'h1', streamId: 's1', productId: 'a', startDate: 1000, endDate: 2000, mediaTime: 1.25, createdAt: 1001 },
      { id: 'h2', streamId: 's1', productId: 'b', startDate: 2000, endDate: 2000, mediaTime: 2.5, createdAt: 2001 },
    ], 'an end before the start is clamped to the start');
    t.equal((await rejection(t, store.createHighlight({ id: 'h3', streamId: 'nope', productId: 'a', startDate: 1, endDate: null, mediaTime: 0, createdAt: 1 }))).code, 'SHOWCASE_ERR_VALIDATION');
  });

  tap.test(`${target.name}: tracking tags and clicks`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createCreator({ id: 'c1', handle: 'c1', displayName: 'C1', tokenHash: 'tok-c1', disabled: false, createdAt: 1 });
    await store.createStream(stream('s1'));
    t.equal(await store.getTrackingTag('c1'), null);
    t.equal(await store.setTrackingTag('c1', 'alice-20'), true);
    t.equal(await store.getTrackingTag('c1'), 'alice-20');
    t.equal(await store.setTrackingTag('c1', null), true);
    t.equal(await store.getTrackingTag('c1'), null, 'cleared');
    t.equal(await store.setTrackingTag('nope', 'x'), false, 'unknown creator');
    const minute = 1_700_000_040_000; // a minute's start
    t.equal(await store.recordClick({ streamId: 's1', productId: 'a', sessionId: 'sess1', mediaTime: 12.5, at: minute + 1000 }), true);
    await store.recordClick({ streamId: 's1', productId: 'a', sessionId: null, mediaTime: null, at: minute + 59_000 });
    await store.recordClick({ streamId: 's1', productId: 'b', sessionId: 'sess2', mediaTime: 70, at: minute + 61_000 });
    t.equal(await store.recordClick({ streamId: 'nope', productId: 'a', sessionId: null, mediaTime: null, at: minute }), false, 'unknown stream');
    t.same(await store.clickCounts('s1'), [
      { productId: 'a', minute, clicks: 2 },
      { productId: 'b', minute: minute + 60_000, clicks: 1 },
    ]);
    await store.deleteStream('s1');
    t.same(await store.clickCounts('s1'), [], 'clicks go with their stream');
  });

  tap.test(`${target.name}: conversions count once per order id, even 50 at once; promos`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createStream(stream('s1'));
    const minute = 1_700_000_040_000;
    const c = { orderId: 'o1', streamId: 's1', creatorId: null, productId: 'a', promoCode: 'SAVE', amountUnits: 199_900, currency: 'USD', occurredAt: minute + 5, receivedAt: minute + 6 };
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordConversion({ ...c, receivedAt: c.receivedAt + i })));
    t.equal(all.filter((r) => r.created).length, 1, 'one of 50 concurrent calls creates it');
    t.ok(all.every((r) => r.rec.receivedAt === all.find((x) => x.created)!.rec.receivedAt), 'the others get the same stored record');
    const again = await store.recordConversion({ ...c, amountUnits: 1 });
    t.same(again, { created: false, rec: all.find((x) => x.created)!.rec }, 'a retry changes nothing');
    await store.recordConversion({ ...c, orderId: 'o2', amountUnits: 100_000 });
    await store.recordConversion({ ...c, orderId: 'o3', currency: 'EUR', amountUnits: 50_000, promoCode: null });
    t.same(await store.conversionCounts('s1'), [
      { productId: 'a', promoCode: null, currency: 'EUR', minute, purchases: 1, amountUnits: 50_000 },
      { productId: 'a', promoCode: 'SAVE', currency: 'USD', minute, purchases: 2, amountUnits: 299_900 },
    ]);
    t.equal((await rejection(t, store.recordConversion({ ...c, orderId: 'o9', streamId: 'nope' }))).code, 'SHOWCASE_ERR_VALIDATION');
    const promo = { id: 'pm1', streamId: 's1', code: 'SAVE', description: '10 % off', liveOnly: true, startsAt: null, endsAt: minute, createdAt: 1 };
    t.same(await store.createPromo(promo), promo);
    t.equal((await rejection(t, store.createPromo({ ...promo, id: 'pm2' }))).code, 'SHOWCASE_ERR_CONFLICT', 'a code once per stream');
    await store.createPromo({ ...promo, id: 'pm3', code: 'MORE', liveOnly: false, createdAt: 2 });
    t.same((await store.listPromos('s1')).map((p) => [p.code, p.liveOnly]), [['SAVE', true], ['MORE', false]]);
  });

  tap.test(`${target.name}: promo reveals count once per session and code, even 20 at once; per minute`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createStream(stream('s1'));
    await store.createStream(stream('s2'));
    const minute = 1_700_000_040_000;
    const once = await Promise.all(Array.from({ length: 20 }, (_, i) => store.recordPromoReveal({ streamId: 's1', code: 'SAVE', sessionId: 'sess1', at: minute + i })));
    t.equal(once.filter(Boolean).length, 1, 'one of 20 concurrent beacons of one session counts');
    t.equal(await store.recordPromoReveal({ streamId: 's1', code: 'MORE', sessionId: 'sess1', at: minute + 100 }), true, 'the same session, another code');
    t.equal(await store.recordPromoReveal({ streamId: 's1', code: 'SAVE', sessionId: 'sess2', at: minute + 59_000 }), true, 'another session');
    t.equal(await store.recordPromoReveal({ streamId: 's1', code: 'SAVE', sessionId: null, at: minute + 61_000 }), true);
    t.equal(await store.recordPromoReveal({ streamId: 's1', code: 'SAVE', sessionId: null, at: minute + 62_000 }), true, 'no session: each counts');
    t.equal(await store.recordPromoReveal({ streamId: 's2', code: 'SAVE', sessionId: 'sess1', at: minute }), true, 'per stream');
    t.equal(await store.recordPromoReveal({ streamId: 'nope', code: 'SAVE', sessionId: null, at: minute }), false, 'unknown stream');
    t.same(await store.promoRevealCounts('s1'), [
      { code: 'MORE', minute, reveals: 1 },
      { code: 'SAVE', minute, reveals: 2 },
      { code: 'SAVE', minute: minute + 60_000, reveals: 2 },
    ]);
    await store.deleteStream('s1');
    t.same(await store.promoRevealCounts('s1'), [], 'reveals go with their stream');
    t.same(await store.promoRevealCounts('s2'), [{ code: 'SAVE', minute, reveals: 1 }]);
  });

  tap.test(`${target.name}: stream commerce settings: defaults, patch, unknown stream, cascade`, async (t) => {
    const store = await (await target.fresh(t))();
    await store.createStream(stream('s1'));
    t.same(await store.getStreamCommerce('s1'), { showSoldCounts: true }, 'the default');
    t.same(await store.updateStreamCommerce('s1', {}), { showSoldCounts: true }, 'an empty patch changes nothing');
    t.same(await store.updateStreamCommerce('s1', { showSoldCounts: false }), { showSoldCounts: false });
    t.same(await store.getStreamCommerce('s1'), { showSoldCounts: false });
    t.same(await store.updateStreamCommerce('s1', {}), { showSoldCounts: false }, 'kept by an empty patch');
    t.same(await store.updateStreamCommerce('s1', { showSoldCounts: true }), { showSoldCounts: true });
    t.equal(await store.updateStreamCommerce('nope', { showSoldCounts: false }), undefined, 'unknown stream');
    t.same(await store.getStreamCommerce('nope'), { showSoldCounts: true });
    await store.updateStreamCommerce('s1', { showSoldCounts: false });
    await store.deleteStream('s1');
    await store.createStream(stream('s1'));
    t.same(await store.getStreamCommerce('s1'), { showSoldCounts: true }, 'settings go with their stream');
  });
}
