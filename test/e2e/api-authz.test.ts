import t from 'tap';
import { startServer, ADMIN } from '../helpers/server.js';

const srv = await startServer();
t.teardown(() => srv.close());

// Two creators, each with a stream; the operator has one of its own.
const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
const bob = await srv.api('POST', '/v1/creators', { handle: 'bob', displayName: 'Bob' });
const A = alice.json.token as string;
const B = bob.json.token as string;
const aStream = await srv.api('POST', '/v1/streams', { title: 'Alice live' }, A);
const opStream = await srv.api('POST', '/v1/streams', { title: 'Operator live' });

t.test('creators are created by the operator; the token is shown once and strong', async (t) => {
  t.equal(alice.status, 201);
  t.match(alice.json, { id: /^cr_/, handle: 'alice', token: /^ct_[A-Za-z0-9_-]{43}$/ });
  t.equal((await srv.api('GET', `/v1/creators/${alice.json.id}`, undefined, A)).json.token, undefined, 'never shown again');
  t.equal((await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Again' })).status, 409);
  t.equal((await srv.api('POST', '/v1/creators', { handle: 'carol', displayName: 'C' }, A)).status, 403, 'creators cannot create creators');
  t.equal(aStream.status, 201);
  t.equal(aStream.json.creatorId, alice.json.id, 'a creator token creates a stream the creator owns');
  t.equal(opStream.json.creatorId, null);
  const forAlice = await srv.api('POST', '/v1/streams', { title: 'for alice', creatorId: alice.json.id });
  t.equal(forAlice.json.creatorId, alice.json.id, 'the operator creates one for a creator');
});

type Who = 'none' | 'wrong' | 'other' | 'owner' | 'operator';
const tokens: Record<Who, string | null> = { none: null, wrong: 'ct_wrong', other: B, owner: A, operator: ADMIN };

t.test('authorization matrix over every /v1 route', async (t) => {
  const id = aStream.json.id as string;
  const cid = alice.json.id as string;
  const routes: Array<{ name: string; call: (tok: string | null) => Promise<{ status: number; json: any }>; expect: Record<Who, number>; secret?: boolean }> = [
    { name: 'GET /v1/streams/:id', call: (k) => srv.api('GET', `/v1/streams/${id}`, undefined, k), expect: { none: 200, wrong: 401, other: 200, owner: 200, operator: 200 }, secret: true },
    { name: 'GET /v1/streams', call: (k) => srv.api('GET', '/v1/streams', undefined, k), expect: { none: 401, wrong: 401, other: 200, owner: 200, operator: 200 } },
    { name: 'PATCH /v1/streams/:id', call: (k) => srv.api('PATCH', `/v1/streams/${id}`, { title: 'Renamed' }, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    { name: 'POST /v1/streams/:id/key', call: (k) => srv.api('POST', `/v1/streams/${id}/key`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 }, secret: true },
    { name: 'POST /v1/streams', call: (k) => srv.api('POST', '/v1/streams', { title: 'm' }, k), expect: { none: 401, wrong: 401, other: 201, owner: 201, operator: 201 } },
    // Promo on screen (issue 13): the stream is not live, so the owner and the operator get the coded 409.
    { name: 'PUT /v1/streams/:id/promos/on-screen', call: (k) => srv.api('PUT', `/v1/streams/${id}/promos/on-screen`, { code: 'NONE' }, k), expect: { none: 401, wrong: 401, other: 404, owner: 409, operator: 409 } },
    { name: 'DELETE /v1/streams/:id/promos/on-screen', call: (k) => srv.api('DELETE', `/v1/streams/${id}/promos/on-screen`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 204, operator: 204 } },
    { name: 'GET /v1/creators/:id', call: (k) => srv.api('GET', `/v1/creators/${cid}`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    { name: 'PATCH /v1/creators/:id', call: (k) => srv.api('PATCH', `/v1/creators/${cid}`, { displayName: 'Alice A.' }, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    { name: 'POST /v1/creators', call: (k) => srv.api('POST', '/v1/creators', { handle: `h${Math.random().toString(36).slice(2, 8)}`, displayName: 'x' }, k), expect: { none: 401, wrong: 401, other: 403, owner: 403, operator: 201 } },
    { name: 'GET /v1/streams/:id/recording', call: (k) => srv.api('GET', `/v1/streams/${id}/recording`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    { name: 'GET /v1/streams/:id/analytics', call: (k) => srv.api('GET', `/v1/streams/${id}/analytics`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    { name: 'GET /v1/creators/:id/stats', call: (k) => srv.api('GET', `/v1/creators/${cid}/stats`, undefined, k), expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 } },
    // Public (players behind a CDN): no token needed, none checked; an unknown session is a 404 for all.
    { name: 'POST /v1/streams/:id/heartbeat', call: (k) => srv.api('POST', `/v1/streams/${id}/heartbeat`, { sessionId: 'not-a-session' }, k), expect: { none: 404, wrong: 404, other: 404, owner: 404, operator: 404 } },
    // Destructive: each call acts on a fresh stream of Alice's.
    { name: 'DELETE /v1/streams/:id', call: async (k) => {
      const fresh = await srv.api('POST', '/v1/streams', { title: 'to delete' }, A);
      return srv.api('DELETE', `/v1/streams/${fresh.json.id}`, undefined, k);
    }, expect: { none: 401, wrong: 401, other: 404, owner: 204, operator: 204 } },
    // Each call rotates a fresh creator's token; "owner" is that creator itself.
    { name: 'POST /v1/creators/:id/token', call: async (k) => {
      const fresh = await srv.api('POST', '/v1/creators', { handle: `r${Math.random().toString(36).slice(2, 8)}`, displayName: 'R' });
      return srv.api('POST', `/v1/creators/${fresh.json.id}/token`, undefined, k === A ? fresh.json.token : k);
    }, expect: { none: 401, wrong: 401, other: 404, owner: 200, operator: 200 }, secret: true },
  ];
  for (const r of routes) {
    for (const who of Object.keys(tokens) as Who[]) {
      const res = await r.call(tokens[who]);
      t.equal(res.status, r.expect[who], `${r.name} as ${who}`);
      if (r.secret && (who === 'none' || who === 'other')) {
        const body = JSON.stringify(res.json);
        t.notMatch(body, /(sk|ct)_[A-Za-z0-9_-]{20,}/, `${r.name} shows ${who} no stream key or token`);
        t.notOk(res.json?.ingest, `${r.name} shows ${who} no ingest credentials`);
      }
      if (res.status >= 400) t.match(res.json, { error: { code: /^SHOWCASE_ERR_/ } }, 'coded error');
      t.notMatch(JSON.stringify(res.json ?? ''), /at .*\.ts:\d+|node_modules/, 'no stack trace');
    }
  }
  // The public view has what viewers need.
  const pub = await srv.api('GET', `/v1/streams/${id}`, undefined, null);
  t.match(pub.json, { id, title: 'Renamed', state: 'idle', playback: { hls: String } });
  // Listing is scoped to the caller.
  const mine = await srv.api('GET', '/v1/streams', undefined, A);
  t.ok(mine.json.items.every((s: any) => s.creatorId === alice.json.id), 'a creator lists only its streams');
  const all = await srv.api('GET', '/v1/streams?limit=2', undefined, ADMIN);
  t.equal(all.json.items.length, 2);
  t.type(all.json.nextCursor, 'string', 'paginated');
  const next = await srv.api('GET', `/v1/streams?limit=2&cursor=${all.json.nextCursor}`, undefined, ADMIN);
  t.equal(next.status, 200);
  t.notSame(next.json.items[0].id, all.json.items[0].id);
});

t.test('bad bodies are 400 with the field listed; oversize bodies 413', async (t) => {
  const unknown = await srv.api('POST', '/v1/streams', { title: 'x', color: 'red' });
  t.equal(unknown.status, 400);
  t.equal(unknown.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  t.match(JSON.stringify(unknown.json.error.details), /color/);
  const big = await srv.api('PATCH', `/v1/streams/${opStream.json.id}`, { description: 'x'.repeat(70000) });
  t.equal(big.status, 413);
  t.equal((await srv.api('POST', '/v1/creators', { handle: 'NO SPACES', displayName: 'x' })).status, 400);
});

t.test('token rotation and disabling take effect at once', async (t) => {
  const rot = await srv.api('POST', `/v1/creators/${bob.json.id}/token`, undefined, B);
  t.equal(rot.status, 200);
  t.equal((await srv.api('GET', '/v1/streams', undefined, B)).status, 401, 'old token stops working');
  t.equal((await srv.api('GET', '/v1/streams', undefined, rot.json.token)).status, 200, 'new token works');
  t.equal((await srv.api('PATCH', `/v1/creators/${bob.json.id}`, { disabled: true })).status, 200);
  t.equal((await srv.api('GET', '/v1/streams', undefined, rot.json.token)).status, 401, 'disabled creator locked out');
});

t.test('failed authentications are rate-limited per address; valid tokens from that address keep working', async (t) => {
  // 60 bad tokens from 127.0.0.1 (someone else behind the same NAT or backend as the owner).
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 60; i++) {
    const r = await srv.api('GET', '/v1/streams', undefined, `bad-${i}`);
    statuses.push(r.status);
    if (r.status === 429) retryAfter = r.headers.get('retry-after');
  }
  t.equal(statuses[0], 401, 'a bad token is a 401 at first');
  t.equal(statuses[59], 429, 'and a 429 once the address failed too often');
  t.same([...new Set(statuses)].sort(), [401, 429], 'nothing else');
  t.ok(Number(retryAfter) > 0, 'Retry-After given');
  const owner = await srv.api('GET', `/v1/streams/${aStream.json.id}`, undefined, A);
  t.equal(owner.status, 200, "the owner's valid token still works from the same address");
  t.equal(owner.json.id, aStream.json.id);
  t.equal((await srv.api('GET', '/v1/streams', undefined, ADMIN)).status, 200, 'so does the operator token');
  t.equal((await srv.api('POST', '/v1/streams', { title: 'after the flood' }, A)).status, 201, 'and the creator can still create');
  const bad = await srv.api('GET', '/v1/streams', undefined, 'bad-again');
  t.equal(bad.status, 429, 'a bad token is still refused with 429');
  t.equal(bad.json.error.code, 'SHOWCASE_ERR_RATE_LIMITED');
  t.equal((await srv.api('GET', '/v1/streams', undefined, null)).status, 401, 'no token: the usual 401');
  const metrics = await fetch(`${srv.base}/metrics`).then((r) => r.text());
  t.match(metrics, /showcase_auth_failures_total \d+/);
});
