// The authorization matrix (as in api-authz.test.ts) over the commerce routes (issue 13): the
// carousel's neighbours (highlights, promos, tracking tags, conversions, /go), the promo reveal
// beacon and the per-stream commerce settings, on a server of its own: each file's wrong-token
// calls stay under the per-address failure limit.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { addProduct, aliceAndBob, checkMatrix, matrixTokens, type MatrixRoute, type Who } from '../helpers/creator-fixtures.js';

const srv = await startServer({ commerce: { promoRevealsPerSecond: 100 }, room: { shopperCreatesPerMinute: 100 } });
t.teardown(() => srv.close());

const fx = await aliceAndBob(srv, 'Alice shop');
const { A, cid, stream: id } = fx;
const pid = await addProduct(srv, id, A, 'Mug', 'https://shop.example/mug');
await srv.api('POST', `/v1/streams/${id}/promos`, { code: 'SAVE', description: 'x' }, A);
await srv.api('POST', `/v1/streams/${id}/promos`, { code: 'LIVE', description: 'x', liveOnly: true }, A);
const tokens = await matrixTokens(srv, fx);
let n = 0;
const next = (): string => `${++n}`;
let flip = false;
/** 403 for a shopper token (it opens the room only), otherwise what the route's owner check gives. */
const owned = (ok: number): Record<Who, number> => ({ none: 401, wrong: 401, shopper: 403, other: 404, owner: ok, operator: ok });
/** A public read that still checks a token it is given. */
const publicRead: Record<Who, number> = { none: 200, wrong: 401, shopper: 403, other: 200, owner: 200, operator: 200 };

t.test('authorization matrix over the commerce routes', async (t) => {
  const routes: MatrixRoute[] = [
    // The reveal beacon is public (viewers have no token) and reads none: like the heartbeat.
    { name: 'POST /v1/streams/:id/promos/:code/reveals', call: (k) => srv.api('POST', `/v1/streams/${id}/promos/SAVE/reveals?sid=authz-${next()}`, undefined, k),
      expect: { none: 201, wrong: 201, shopper: 201, other: 201, owner: 201, operator: 201 } },
    { name: 'POST /v1/streams/:id/promos/:code/reveals (liveOnly, not live)', call: (k) => srv.api('POST', `/v1/streams/${id}/promos/LIVE/reveals`, undefined, k),
      expect: { none: 404, wrong: 404, shopper: 404, other: 404, owner: 404, operator: 404 } },
    { name: 'GET /v1/streams/:id/commerce', call: (k) => srv.api('GET', `/v1/streams/${id}/commerce`, undefined, k), expect: owned(200) },
    { name: 'PATCH /v1/streams/:id/commerce', call: (k) => srv.api('PATCH', `/v1/streams/${id}/commerce`, { showSoldCounts: (flip = !flip) }, k), expect: owned(200) },
    // Not live: the owner and the operator get the coded 409 (and 404: no highlight is current).
    { name: 'POST /v1/streams/:id/highlights', call: (k) => srv.api('POST', `/v1/streams/${id}/highlights`, { productId: pid }, k), expect: owned(409) },
    { name: 'DELETE /v1/streams/:id/highlights/current', call: (k) => srv.api('DELETE', `/v1/streams/${id}/highlights/current`, undefined, k), expect: owned(404) },
    { name: 'GET /v1/streams/:id/highlights', call: (k) => srv.api('GET', `/v1/streams/${id}/highlights`, undefined, k), expect: publicRead },
    { name: 'POST /v1/streams/:id/promos', call: (k) => srv.api('POST', `/v1/streams/${id}/promos`, { code: `C${next()}`, description: 'x' }, k), expect: owned(201) },
    { name: 'GET /v1/streams/:id/promos', call: (k) => srv.api('GET', `/v1/streams/${id}/promos`, undefined, k), expect: publicRead },
    { name: 'GET /v1/creators/:id/tracking-tag', call: (k) => srv.api('GET', `/v1/creators/${cid}/tracking-tag`, undefined, k), expect: owned(200) },
    { name: 'PUT /v1/creators/:id/tracking-tag', call: (k) => srv.api('PUT', `/v1/creators/${cid}/tracking-tag`, { trackingTag: 'alice-20' }, k), expect: owned(200) },
    // Conversions come from the shop (a signature) or the operator: creators are refused.
    { name: 'POST /v1/conversions', call: (k) => srv.api('POST', '/v1/conversions', { orderId: `authz-${next()}`, streamId: id, productId: pid, amount: '1.00', currency: 'EUR' }, k),
      expect: { none: 401, wrong: 401, shopper: 403, other: 403, owner: 403, operator: 201 } },
  ];
  await checkMatrix(t, tokens, routes);
  // /go is the shoppers' link: no token read, always the stored URL.
  for (const who of Object.keys(tokens) as Who[]) {
    const k = tokens[who];
    const res = await fetch(`${srv.base}/go/${id}/${pid}`, { redirect: 'manual', headers: k ? { authorization: `Bearer ${k}` } : {} });
    t.equal(res.status, 302, `GET /go/:streamId/:productId as ${who}`);
    t.match(res.headers.get('location'), /^https:\/\/shop\.example\/mug\?tag=alice-20$/);
  }
});
