// Issue 13, step 4: conversions (operator token or a shop's HMAC-SHA256 signature; idempotent on
// orderId, also under 50 concurrent retries), promo codes' lifecycle, and `commerce` in analytics.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { startServer, ADMIN, logsOnFailure, waitFor } from '../helpers/server.js';
import { aliceAndBob, addProduct } from '../helpers/creator-fixtures.js';

const SECRET = 'shop-secret-for-tests';
const srv = await startServer({ commerce: { shopSecret: SECRET } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);
const { alice, bob, A, stream } = await aliceAndBob(srv, 'sales');
const mug = await addProduct(srv, stream, A, 'Mug', 'https://shop.example/mug');

const post = (body: unknown, headers: Record<string, string>): Promise<Response> =>
  fetch(`${srv.base}/v1/conversions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const sign = (raw: string, secret = SECRET): string => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

t.test('a conversion: 201 the first time, 200 with the same record after; attributed to the stream\'s creator', async (t) => {
  const body = { orderId: 'order-1', streamId: stream, productId: mug, promoCode: 'SAVE10', amount: '19.99', currency: 'USD', occurredAt: new Date().toISOString() };
  const first = await post(body, { authorization: `Bearer ${ADMIN}` });
  t.equal(first.status, 201);
  const rec = await first.json() as Record<string, unknown>;
  t.match(rec, { orderId: 'order-1', streamId: stream, creatorId: alice.json.id, productId: mug, promoCode: 'SAVE10', amount: '19.99', currency: 'USD' });
  const retry = await post({ ...body, amount: '1.00' }, { authorization: `Bearer ${ADMIN}` });
  t.equal(retry.status, 200);
  t.same(await retry.json(), rec, 'the stored record, unchanged');
});

t.test('50 concurrent POSTs of one orderId count once', async (t) => {
  const raw = JSON.stringify({ orderId: 'storm-1', streamId: stream, productId: mug, amount: '5.00', currency: 'EUR' });
  const all = await Promise.all(Array.from({ length: 50 }, () => post(raw, { 'x-showcase-signature': sign(raw) })));
  const statuses = all.map((r) => r.status).sort();
  t.equal(statuses.filter((s) => s === 201).length, 1, 'one 201');
  t.equal(statuses.filter((s) => s === 200).length, 49, '49 answers of 200');
  const bodies = await Promise.all(all.map((r) => r.json()));
  t.ok(bodies.every((b) => JSON.stringify(b) === JSON.stringify(bodies[0])), 'all with the same record');
  const counts = await srv.app.store.conversionCounts(stream);
  t.equal(counts.filter((c) => c.currency === 'EUR').reduce((a, c) => a + c.purchases, 0), 1, 'stored once');
});

t.test('who may report: the operator or a correctly signed shop; nobody else', async (t) => {
  const raw = JSON.stringify({ orderId: 'order-x', streamId: stream, amount: '1.00', currency: 'USD' });
  t.equal((await post(raw, {})).status, 401, 'no token, no signature');
  t.equal((await post(raw, { authorization: `Bearer ${A}` })).status, 403, 'a creator cannot report sales');
  t.equal((await post(raw, { authorization: `Bearer ${bob.json.token}` })).status, 403);
  t.equal((await post(raw, { 'x-showcase-signature': sign(raw, 'wrong-secret') })).status, 401, 'a wrong secret');
  t.equal((await post(raw, { 'x-showcase-signature': sign(`${raw} `) })).status, 401, 'a signature over other bytes');
  const ok = await post(raw, { 'x-showcase-signature': sign(raw) });
  t.equal(ok.status, 201, 'a signed webhook');
  t.equal((await post({ orderId: 'o-bad', streamId: 'nope', amount: '1.00', currency: 'USD' }, { authorization: `Bearer ${ADMIN}` })).status, 404, 'unknown stream');
  for (const bad of [{ amount: '1,00' }, { amount: '-1' }, { currency: 'usd' }, { orderId: '' }, { extra: 1 }]) {
    const r = await post({ orderId: 'o-v', streamId: stream, amount: '1.00', currency: 'USD', ...bad }, { authorization: `Bearer ${ADMIN}` });
    t.equal(r.status, 400, `refused: ${JSON.stringify(bad)}`);
  }
  const big = await post(JSON.stringify({ orderId: 'o-big', streamId: stream, amount: '1.00', currency: 'USD', pad: 'x'.repeat(10_000) }), { authorization: `Bearer ${ADMIN}` });
  t.equal(big.status, 413);
});

t.test('promo codes: created by the owner, listed publicly while valid; liveOnly hidden when not live', async (t) => {
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  const past = new Date(Date.now() - 1000).toISOString();
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'SAVE10', description: '10 % off' }, A)).status, 201);
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'SAVE10', description: 'again' }, A)).status, 409, 'a code once per stream');
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'LIVE', description: 'live only', liveOnly: true }, A)).status, 201);
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'LATER', description: 'not yet', startsAt: soon }, A)).status, 201);
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'OVER', description: 'expired', endsAt: past }, A)).status, 201);
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'X', description: 'x' }, bob.json.token)).status, 404, 'another creator');
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'X', description: 'x' }, null)).status, 401);
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'bad code!', description: 'x' }, A)).status, 400);
  const list = await srv.api('GET', `/v1/streams/${stream}/promos`, undefined, null);
  t.same(list.json.items.map((p: any) => p.code), ['SAVE10'], 'only what is valid now (the stream is not live: LIVE is hidden)');
});

t.test('promo on screen: only while live (coded 409), owner or operator; off screen is 204; GET tells none is on', async (t) => {
  const put = await srv.api('PUT', `/v1/streams/${stream}/promos/on-screen`, { code: 'SAVE10' }, A);
  t.equal(put.status, 409);
  t.equal(put.json.error.code, 'SHOWCASE_ERR_COMMERCE_NOT_LIVE');
  t.equal((await srv.api('PUT', `/v1/streams/${stream}/promos/on-screen`, { code: 'SAVE10' }, bob.json.token)).status, 404, 'another creator');
  t.equal((await srv.api('PUT', `/v1/streams/${stream}/promos/on-screen`, { code: 'bad code!' }, A)).status, 400);
  t.equal((await srv.api('DELETE', `/v1/streams/${stream}/promos/on-screen`, undefined, ADMIN)).status, 204);
  t.equal((await srv.api('GET', `/v1/streams/${stream}/promos`, undefined, null)).json.onScreen, null);
});

t.test('analytics carry commerce: clicks, purchases, revenue per currency, per product and per minute', async (t) => {
  await fetch(`${srv.base}/go/${stream}/${mug}`, { redirect: 'manual' });
  await fetch(`${srv.base}/go/${stream}/${mug}`, { redirect: 'manual' });
  const a = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${stream}/analytics`, undefined, A);
    return r.json?.commerce?.clicks === 2 ? r.json.commerce : undefined;
  }, 'two clicks in analytics', 5000);
  t.match(a, { clicks: 2, purchases: 3, revenue: { EUR: '5.00', USD: '20.99' }, promoRedemptions: { SAVE10: 1 } });
  t.same(a.byProduct.find((p: any) => p.productId === mug), { productId: mug, clicks: 2, purchases: 2, revenue: { EUR: '5.00', USD: '19.99' } });
  t.ok(a.timeline.length >= 1 && a.timeline.every((m: any) => /T\d\d:\d\d:00\.000Z$/.test(m.minute)), 'per minute');
  t.equal(a.timeline.reduce((n: number, m: any) => n + m.purchases, 0), 3);
});
