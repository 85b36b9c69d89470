// Issue 13, step 1: the carousel's routes against the real server: who may do what (the matrix),
// bad input (a 10 MB body, javascript: URLs, the per-stream limit), order, and the watch page's
// event feed hearing every change.
import t from 'tap';
import { startServer, ADMIN, logsOnFailure, waitFor } from '../helpers/server.js';
import { aliceAndBob } from '../helpers/creator-fixtures.js';

const srv = await startServer({ commerce: { maxProductsPerStream: 5 } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);

const { alice, A, B, stream } = await aliceAndBob(srv, 'Alice sells');

const good = { title: 'Blue mug', url: 'https://shop.example/mug?x=1', imageUrl: 'https://img.example/mug.jpg', price: { amount: '19.99', currency: 'USD' }, ref: 'SKU-MUG', description: 'A mug' };

type Who = 'none' | 'wrong' | 'other' | 'owner' | 'operator';
const tokens: Record<Who, string | null> = { none: null, wrong: 'ct_wrong', other: B, owner: A, operator: ADMIN };

t.test('authorization matrix over the product routes', async (t) => {
  const fresh = async (): Promise<string> => (await srv.api('POST', `/v1/streams/${stream}/products`, { title: 'tmp', url: 'https://shop.example/tmp' }, A)).json.id;
  const clear = async (): Promise<void> => {
    for (const p of (await srv.api('GET', `/v1/streams/${stream}/products`, undefined, A)).json.items) await srv.api('DELETE', `/v1/streams/${stream}/products/${p.id}`, undefined, A);
  };
  const routes: Array<{ name: string; call: (k: string | null) => Promise<{ status: number; json: any }>; expect: Record<Who, number> }> = [
    { name: 'POST products', call: async (k) => { await clear(); return srv.api('POST', `/v1/streams/${stream}/products`, good, k); }, expect: { none: 401, wrong: 401, other: 404, owner: 201, operator: 201 } },
    { name: 'GET products', call: (k) => srv.api('GET', `/v1/streams/${stream}/products`, undefined, k), expect: { none: 200, wrong: 401, other: 200, owner: 200, operator: 200 } },
    { name: 'PATCH product', call: async (k) => srv.api('PATCH', `/v1/streams/${stream}/products/${await fresh()}`, { title: 'Renamed' }, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    { name: 'DELETE product', call: async (k) => srv.api('DELETE', `/v1/streams/${stream}/products/${await fresh()}`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 204, operator: 204 } },
    { name: 'PUT order', call: async (k) => {
      const ids = (await srv.api('GET', `/v1/streams/${stream}/products`, undefined, A)).json.items.map((p: any) => p.id).reverse();
      return srv.api('PUT', `/v1/streams/${stream}/products/order`, { ids }, k);
    }, expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
  ];
  for (const r of routes) {
    for (const who of Object.keys(tokens) as Who[]) {
      const res = await r.call(tokens[who]);
      t.equal(res.status, r.expect[who], `${r.name} as ${who}`);
      if (res.status >= 400) t.match(res.json, { error: { code: /^SHOWCASE_ERR_/ } }, 'coded error');
    }
    await clear();
  }
  const unknown = await srv.api('GET', '/v1/streams/nope/products', undefined, null);
  t.equal(unknown.status, 404);
});

t.test('create, public and owner views, patch, order, delete', async (t) => {
  const made = await srv.api('POST', `/v1/streams/${stream}/products`, good, A);
  t.equal(made.status, 201);
  t.match(made.json, { id: /^pr_/, position: 0, title: 'Blue mug', url: 'https://shop.example/mug?x=1', price: { amount: '19.99', currency: 'USD' }, ref: 'SKU-MUG', buyUrl: `/go/${stream}/${made.json.id}` });
  const second = await srv.api('POST', `/v1/streams/${stream}/products`, { title: 'Red cup', url: 'http://shop.example/cup' }, A);
  t.match(second.json, { position: 1, imageUrl: null, price: null, ref: null });
  const pub = await srv.api('GET', `/v1/streams/${stream}/products`, undefined, null);
  t.same(pub.json.items.map((p: any) => p.title), ['Blue mug', 'Red cup'], 'carousel order');
  t.equal(pub.json.items[0].url, undefined, 'viewers get the /go link, not the shop URL');
  t.equal(pub.json.items[0].ref, undefined);
  t.equal(pub.json.items[0].buyUrl, `/go/${stream}/${made.json.id}`);
  const patched = await srv.api('PATCH', `/v1/streams/${stream}/products/${made.json.id}`, { price: null, title: 'Big blue mug' }, A);
  t.match(patched.json, { title: 'Big blue mug', price: null, url: good.url });
  const order = await srv.api('PUT', `/v1/streams/${stream}/products/order`, { ids: [second.json.id, made.json.id] }, A);
  t.same(order.json.items.map((p: any) => [p.id, p.position]), [[second.json.id, 0], [made.json.id, 1]]);
  const badOrder = await srv.api('PUT', `/v1/streams/${stream}/products/order`, { ids: [second.json.id] }, A);
  t.equal(badOrder.status, 400);
  t.equal(badOrder.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  t.equal((await srv.api('DELETE', `/v1/streams/${stream}/products/${second.json.id}`, undefined, A)).status, 204);
  t.equal((await srv.api('DELETE', `/v1/streams/${stream}/products/${second.json.id}`, undefined, A)).status, 404);
  t.same((await srv.api('GET', `/v1/streams/${stream}/products`, undefined, null)).json.items.map((p: any) => [p.id, p.position]), [[made.json.id, 0]], 'the gap closes');
  t.equal((await srv.api('PATCH', `/v1/streams/${stream}/products/pr_nope`, { title: 'x' }, A)).status, 404);
  await srv.api('DELETE', `/v1/streams/${stream}/products/${made.json.id}`, undefined, A);
});

t.test('bad input: URLs, sizes, limits, unknown fields', async (t) => {
  for (const [field, value] of [['url', 'javascript:alert(1)'], ['url', 'data:text/html,hi'], ['url', '/relative'], ['url', 'https://user:pw@shop.example/'], ['imageUrl', 'javascript:alert(1)'], ['url', 'ftp://shop.example/x']] as const) {
    const r = await srv.api('POST', `/v1/streams/${stream}/products`, { ...good, [field]: value }, A);
    t.equal(r.status, 400, `${field}=${value} refused`);
    t.equal(r.json.error.code, 'SHOWCASE_ERR_COMMERCE_BAD_URL');
    t.equal(r.json.error.details.field, field, 'the error names the field');
  }
  const patchJs = await srv.api('PATCH', `/v1/streams/${stream}/products/pr_x`, { url: 'javascript:alert(1)' }, A);
  t.equal(patchJs.json.error.code, 'SHOWCASE_ERR_COMMERCE_BAD_URL', 'PATCH validates too');
  const long = await srv.api('POST', `/v1/streams/${stream}/products`, { ...good, title: 'x'.repeat(201) }, A);
  t.equal(long.status, 400);
  t.equal(long.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  t.equal((await srv.api('POST', `/v1/streams/${stream}/products`, { ...good, evil: 1 }, A)).status, 400, 'unknown fields refused');
  t.equal((await srv.api('POST', `/v1/streams/${stream}/products`, { ...good, price: { amount: 19.99, currency: 'USD' } }, A)).status, 400, 'a float price refused');
  // A 10 MB body: refused before it is parsed, with a coded 413.
  const huge = JSON.stringify({ ...good, description: 'x'.repeat(10 * 1024 * 1024) });
  const res = await fetch(`${srv.base}/v1/streams/${stream}/products`, { method: 'POST', headers: { authorization: `Bearer ${A}`, 'content-type': 'application/json' }, body: huge });
  t.equal(res.status, 413);
  t.equal(((await res.json()) as any).error.code, 'SHOWCASE_ERR_PAYLOAD_TOO_LARGE');
  for (let i = 0; i < 5; i++) t.equal((await srv.api('POST', `/v1/streams/${stream}/products`, { title: `p${i}`, url: 'https://shop.example/p' }, A)).status, 201);
  const over = await srv.api('POST', `/v1/streams/${stream}/products`, good, A);
  t.equal(over.status, 409);
  t.equal(over.json.error.code, 'SHOWCASE_ERR_COMMERCE_PRODUCT_LIMIT');
  t.equal(over.json.error.details.limit, 5);
});

t.test('every carousel change reaches an open watch page\'s event feed within a second', async (t) => {
  const other = (await srv.api('POST', '/v1/streams', { title: 'feed' }, A)).json.id as string;
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${srv.base}/v1/streams/${other}/events`, { signal: ac.signal });
  const reader = res.body!.getReader();
  let buf = '';
  const nextProducts = async (): Promise<any> => {
    const deadline = Date.now() + 1000;
    for (;;) {
      const m = /event: products\ndata: (.*)\n\n/.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        return JSON.parse(m[1]!);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no products event within a second');
      const chunk = await Promise.race([reader.read(), new Promise<never>((_r, rej) => setTimeout(() => rej(new Error('no products event within a second')), left))]);
      if (chunk.done) throw new Error('event stream ended');
      buf += new TextDecoder().decode(chunk.value);
    }
  };
  const made = await srv.api('POST', `/v1/streams/${other}/products`, good, A);
  let ev = await nextProducts();
  t.same(ev.items.map((p: any) => p.id), [made.json.id], 'create');
  t.equal(ev.items[0].url, undefined, 'the feed carries the public view');
  await srv.api('PATCH', `/v1/streams/${other}/products/${made.json.id}`, { title: 'Changed' }, A);
  ev = await nextProducts();
  t.equal(ev.items[0].title, 'Changed', 'patch');
  const two = await srv.api('POST', `/v1/streams/${other}/products`, { title: 'Two', url: 'https://shop.example/2' }, A);
  await nextProducts();
  await srv.api('PUT', `/v1/streams/${other}/products/order`, { ids: [two.json.id, made.json.id] }, A);
  ev = await nextProducts();
  t.same(ev.items.map((p: any) => p.id), [two.json.id, made.json.id], 'reorder');
  await srv.api('DELETE', `/v1/streams/${other}/products/${two.json.id}`, undefined, A);
  ev = await nextProducts();
  t.same(ev.items.map((p: any) => p.id), [made.json.id], 'delete');
});

t.test('/go counts the click and redirects to the stored URL with the creator\'s tag; nothing else', async (t) => {
  const cid = alice.json.id as string;
  for (const [who, status] of [['none', 401], ['wrong', 401], ['other', 404], ['owner', 200], ['operator', 200]] as Array<[Who, number]>) {
    t.equal((await srv.api('PUT', `/v1/creators/${cid}/tracking-tag`, { trackingTag: 'alice-20' }, tokens[who])).status, status, `PUT tracking-tag as ${who}`);
    t.equal((await srv.api('GET', `/v1/creators/${cid}/tracking-tag`, undefined, tokens[who])).status, status, `GET tracking-tag as ${who}`);
  }
  t.equal((await srv.api('PUT', `/v1/creators/${cid}/tracking-tag`, { trackingTag: 'a&b=c' }, A)).status, 400, 'a tag is a plain token');
  t.same((await srv.api('GET', `/v1/creators/${cid}/tracking-tag`, undefined, A)).json, { trackingTag: 'alice-20' });
  const s = (await srv.api('POST', '/v1/streams', { title: 'go' }, A)).json.id as string;
  const p = (await srv.api('POST', `/v1/streams/${s}/products`, { title: 'Mug', url: 'https://shop.example/mug?color=blue&tag=old#top' }, A)).json;
  const go = async (path: string): Promise<Response> => fetch(srv.base + path, { redirect: 'manual' });
  const r = await go(`${p.buyUrl}?sid=sess_1&t=12.5`);
  t.equal(r.status, 302);
  t.equal(r.headers.get('location'), 'https://shop.example/mug?color=blue&tag=alice-20#top', 'the stored URL, the tag set under commerce.trackingParam');
  t.equal(r.headers.get('cache-control'), 'no-store');
  t.equal((await go(`${p.buyUrl}?sid=${'x'.repeat(300)}&t=abc&url=https://evil.example`)).headers.get('location'), 'https://shop.example/mug?color=blue&tag=alice-20#top', 'no open redirect: query input never picks the target');
  t.equal((await go(`/go/${s}/pr_nope`)).status, 404, 'unknown product');
  t.equal((await go(`/go/nope/${p.id}`)).status, 404, 'unknown stream');
  t.equal((await go(`/go/${stream}/${p.id}`)).status, 404, 'a product of another stream');
  await srv.api('PUT', `/v1/creators/${cid}/tracking-tag`, { trackingTag: null }, A);
  t.equal((await go(p.buyUrl)).headers.get('location'), 'https://shop.example/mug?color=blue&tag=old#top', 'no tag: the URL as stored');
  const counted = await waitFor(async () => {
    const c = await srv.app.store.clickCounts(s);
    return c.reduce((a, x) => a + x.clicks, 0) === 3 ? c : undefined;
  }, 'three clicks counted', 5000);
  t.same(counted.map((c) => c.productId), [p.id]);
});
