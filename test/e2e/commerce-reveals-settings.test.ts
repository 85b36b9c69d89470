// Issue 13's rest, without media: promo reveals (the watch page's beacon when a shopper copies a
// code: public, per-address rate-limited, once per viewer session and code, only for codes valid
// now) and their place in analytics; the per-stream switch that hides "N sold" from viewers (the
// products API's viewer view and the pages' `sold` events).
import t, { type Test } from 'tap';
import { startServer, ADMIN, logsOnFailure, type TestServer } from '../helpers/server.js';
import { aliceAndBob, addProduct } from '../helpers/creator-fixtures.js';

const srv = await startServer({ commerce: { promoRevealsPerSecond: 1000 } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);
const { bob, A, stream } = await aliceAndBob(srv, 'sales');
const mug = await addProduct(srv, stream, A, 'Mug', 'https://shop.example/mug');
const cup = await addProduct(srv, stream, A, 'Cup', 'https://shop.example/cup');

const reveal = (code: string, sid?: string, s = srv, id = stream): Promise<{ status: number; json: any; headers: Headers }> =>
  s.api('POST', `/v1/streams/${id}/promos/${code}/reveals${sid === undefined ? '' : `?sid=${encodeURIComponent(sid)}`}`, undefined, null);

/** Named events of a stream's watch-page feed, in order. */
async function openFeed(t: Test, id: string): Promise<(type: string) => Promise<any>> {
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${srv.base}/v1/streams/${id}/events`, { signal: ac.signal });
  const reader = res.body!.getReader();
  let buf = '';
  return async (type) => {
    const deadline = Date.now() + 1000;
    for (;;) {
      const m = /event: (\w+)\ndata: (.*)\n\n/.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        if (m[1] === type) return JSON.parse(m[2]!);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} event within a second`);
      const chunk = await Promise.race([reader.read(), new Promise<never>((_r, rej) => setTimeout(() => rej(new Error(`no ${type} event within a second`)), left))]);
      if (chunk.done) throw new Error('event stream ended');
      buf += new TextDecoder().decode(chunk.value);
    }
  };
}

t.test('a reveal counts once per viewer session and code; only codes valid now; coded 404s', async (t) => {
  const next = await openFeed(t, stream);
  t.equal((await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'SAVE10', description: '10 % off' }, A)).status, 201);
  t.same((await next('promos')).items.map((p: any) => p.code), ['SAVE10'], 'open pages hear the new code');
  await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'MORE', description: 'more off' }, A);
  await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'LIVE', description: 'live only', liveOnly: true }, A);
  await srv.api('POST', `/v1/streams/${stream}/promos`, { code: 'OVER', description: 'expired', endsAt: new Date(Date.now() - 1000).toISOString() }, A);

  const first = await reveal('SAVE10', 'sess-1');
  t.equal(first.status, 201);
  t.same(first.json, { code: 'SAVE10', counted: true });
  t.equal(first.headers.get('cache-control'), 'no-store');
  const again = await reveal('SAVE10', 'sess-1');
  t.equal(again.status, 200, 'the same session again');
  t.same(again.json, { code: 'SAVE10', counted: false });
  const storm = await Promise.all(Array.from({ length: 10 }, () => reveal('MORE', 'sess-storm')));
  t.same(storm.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], '10 concurrent beacons of one session: one counts');
  t.equal((await reveal('SAVE10', 'sess-2')).status, 201, 'another session');
  t.equal((await reveal('SAVE10')).status, 201, 'no session');
  t.equal((await reveal('SAVE10')).status, 201, 'no session: each counts');
  t.equal((await reveal('SAVE10', 'not a session!')).status, 201, 'a malformed session is taken as none');
  t.equal((await reveal('MORE', 'sess-1', srv)).status, 201, 'the first session, another code');

  for (const [code, why] of [['LIVE', 'a liveOnly code while not live'], ['OVER', 'an expired code'], ['NOPE', 'an unknown code']] as const) {
    const r = await reveal(code, 'sess-1');
    t.equal(r.status, 404, why);
    t.equal(r.json.error.code, 'SHOWCASE_ERR_NOT_FOUND');
  }
  t.equal((await reveal('SAVE10', 'sess-1', srv, 'no_such_stream')).status, 404, 'an unknown stream');
  const bad = await reveal('bad%20code', 'sess-1');
  t.equal(bad.status, 400);
  t.equal(bad.json.error.code, 'SHOWCASE_ERR_VALIDATION');

  const a = (await srv.api('GET', `/v1/streams/${stream}/analytics`, undefined, A)).json.commerce;
  t.same(a.promoReveals, { MORE: 2, SAVE10: 5 }, 'per code');
  t.equal(a.promoRevealsTotal, 7);
  const minutes = a.timeline.filter((m: any) => Object.keys(m.promoReveals).length);
  t.ok(minutes.length >= 1 && minutes.length <= 2, 'in the per-minute timeline');
  t.equal(minutes.reduce((n: number, m: any) => n + (m.promoReveals.SAVE10 ?? 0) + (m.promoReveals.MORE ?? 0), 0), 7, 'the minutes add up');
  t.same(a.promoRedemptions, {}, 'beside the redemptions (none yet)');

  await srv.api('POST', '/v1/conversions', { orderId: 'r-1', streamId: stream, promoCode: 'SAVE10', amount: '5.00', currency: 'EUR' });
  const b = (await srv.api('GET', `/v1/streams/${stream}/analytics`, undefined, A)).json.commerce;
  t.same(b.promoRedemptions, { SAVE10: 1 });
  t.equal(b.timeline.reduce((n: number, m: any) => n + (m.promoRedemptions.SAVE10 ?? 0), 0), 1, 'redemptions per minute too');
});

t.test('reveals are rate-limited per address: a coded 429 with retry-after, then counted again', async (t) => {
  const small: TestServer = await startServer({ commerce: { promoRevealsPerSecond: 3 } });
  t.teardown(() => small.close());
  const id = (await small.api('POST', '/v1/streams', { title: 'limited' })).json.id as string;
  await small.api('POST', `/v1/streams/${id}/promos`, { code: 'SAVE', description: 'x' });
  const burst: Array<{ status: number; json: any; headers: Headers }> = [];
  for (let i = 0; i < 6; i++) burst.push(await reveal('SAVE', `s${i}`, small, id));
  t.same(burst.slice(0, 3).map((r) => r.status), [201, 201, 201], 'the burst');
  const over = burst.slice(3);
  t.ok(over.every((r) => r.status === 429), 'past it: 429');
  t.equal(over[0]!.json.error.code, 'SHOWCASE_ERR_RATE_LIMITED');
  t.equal(over[0]!.headers.get('retry-after'), '1');
  const a = (await small.api('GET', `/v1/streams/${id}/analytics`)).json.commerce;
  t.equal(a.promoRevealsTotal, 3, 'refused beacons count nothing');
  const start = Date.now();
  let r;
  do {
    await new Promise((res) => setTimeout(res, 100));
    r = await reveal('SAVE', 'later', small, id);
  } while (r.status === 429 && Date.now() - start < 3000);
  t.equal(r.status, 201, 'the bucket refills');
});

t.test('the sold-count switch: viewers\' products API and the pages\' sold events carry no counts while off', async (t) => {
  const next = await openFeed(t, stream);
  t.same((await srv.api('GET', `/v1/streams/${stream}/commerce`, undefined, A)).json, { showSoldCounts: true }, 'on by default');
  t.equal((await srv.api('POST', '/v1/conversions', { orderId: 's-1', streamId: stream, productId: mug, amount: '9.50', currency: 'EUR' })).status, 201);
  t.same((await next('sold')).counts, { [mug]: 1 }, 'a sale reaches the pages');
  const viewer = await srv.api('GET', `/v1/streams/${stream}/products`, undefined, null);
  t.same(viewer.json.items.map((p: any) => [p.id, p.sold]), [[mug, 1], [cup, 0]], 'viewers see the counts');

  const off = await srv.api('PATCH', `/v1/streams/${stream}/commerce`, { showSoldCounts: false }, A);
  t.equal(off.status, 200);
  t.same(off.json, { showSoldCounts: false });
  t.same((await next('sold')).counts, {}, 'open pages clear their counts at once');
  t.same((await srv.api('GET', `/v1/streams/${stream}/commerce`, undefined, ADMIN)).json, { showSoldCounts: false });
  t.equal((await srv.api('POST', '/v1/conversions', { orderId: 's-2', streamId: stream, productId: mug, amount: '9.50', currency: 'EUR' })).status, 201);
  const hidden = await srv.api('GET', `/v1/streams/${stream}/products`, undefined, null);
  t.ok(hidden.json.items.every((p: any) => !('sold' in p)), 'the viewer view has no counts');
  t.same((await srv.api('GET', `/v1/streams/${stream}/products`, undefined, bob.json.token)).json.items.map((p: any) => p.sold), [undefined, undefined], 'nor for another creator');
  const owner = await srv.api('GET', `/v1/streams/${stream}/products`, undefined, A);
  t.same(owner.json.items.map((p: any) => [p.id, p.sold]), [[mug, 2], [cup, 0]], 'the creator still sees them');

  // The sale made while off sent no event: the next sold event is the switch back on, with every sale.
  t.same((await srv.api('PATCH', `/v1/streams/${stream}/commerce`, { showSoldCounts: true }, ADMIN)).json, { showSoldCounts: true });
  t.same((await next('sold')).counts, { [mug]: 2 }, 'back on: the counts so far, and nothing sent while off');
  t.same((await srv.api('GET', `/v1/streams/${stream}/products`, undefined, null)).json.items.map((p: any) => p.sold), [2, 0]);

  for (const [body, why] of [[{}, 'an empty patch'], [{ showSoldCounts: 'no' }, 'not a boolean'], [{ color: 'red' }, 'an unknown field']] as const) {
    const r = await srv.api('PATCH', `/v1/streams/${stream}/commerce`, body, A);
    t.equal(r.status, 400, why);
    t.equal(r.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  }
  t.equal((await srv.api('PATCH', `/v1/streams/no_such/commerce`, { showSoldCounts: false }, ADMIN)).status, 404);
});
