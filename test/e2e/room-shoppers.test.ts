// Shoppers (issue 14): POST /v1/shoppers, /v1/shoppers/me, display-name rules, the per-address
// creation limit, and shopper tokens refused on every staff route.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const srv = await startServer({ room: { shopperCreatesPerMinute: 4 } });
t.teardown(() => srv.close());

const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
const creatorToken = alice.json.token as string;

t.test('a shopper is created with a strong token shown once, and reads and deletes itself', async (t) => {
  const r = await srv.api('POST', '/v1/shoppers', { displayName: '  Ana 🛍️  ' }, null);
  t.equal(r.status, 201);
  t.match(r.json, { id: /^sh_/, displayName: 'Ana 🛍️', token: /^sh_[A-Za-z0-9_-]{43}$/ }, 'trimmed name; 256-bit token');
  const tok = r.json.token as string;
  const me = await srv.api('GET', '/v1/shoppers/me', undefined, tok);
  t.equal(me.status, 200);
  t.same(Object.keys(me.json).sort(), ['createdAt', 'displayName', 'id'], 'the token is never shown again');
  t.equal(me.json.id, r.json.id);
  const stored = await srv.app.store.getShopper(r.json.id);
  t.not(stored?.tokenHash, tok, 'stored as a hash');
  t.equal(stored?.tokenHash.length, 64);
  t.equal((await srv.api('DELETE', '/v1/shoppers/me', undefined, tok)).status, 204);
  t.equal((await srv.api('GET', '/v1/shoppers/me', undefined, tok)).status, 401, 'a deleted shopper\'s token resolves to nothing');
});

t.test('display names: 1-32 characters, no control or bidi-override characters', async (t) => {
  const bad = ['', '   ', 'x'.repeat(33), 'tab\there', 'bell\u0007', 'evil\u202Egnp.exe', 'iso\u2066late', 'nl\nname', 'c1\u0085'];
  for (const displayName of bad) {
    const r = await srv.api('POST', '/v1/shoppers', { displayName }, null);
    t.equal(r.status, 400, JSON.stringify(displayName));
    t.equal(r.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  }
  t.equal((await srv.api('POST', '/v1/shoppers', { displayName: 'x', extra: 1 }, null)).status, 400, 'unknown fields refused');
  t.equal((await srv.api('POST', '/v1/shoppers', { displayName: 5 }, null)).status, 400, 'wrong type refused');
});

t.test('me: anonymous 401, a wrong token 401, a creator or the operator 403', async (t) => {
  t.equal((await srv.api('GET', '/v1/shoppers/me', undefined, null)).status, 401);
  t.equal((await srv.api('GET', '/v1/shoppers/me', undefined, 'sh_wrong')).status, 401);
  t.equal((await srv.api('GET', '/v1/shoppers/me', undefined, creatorToken)).status, 403);
  t.equal((await srv.api('DELETE', '/v1/shoppers/me')).status, 403);
});

t.test('a shopper token opens no staff route', async (t) => {
  const tok = (await srv.api('POST', '/v1/shoppers', { displayName: 'Sam' }, null)).json.token as string;
  const s = await srv.createStream('for shoppers');
  t.equal((await srv.api('POST', '/v1/streams', { title: 'mine' }, tok)).status, 403);
  t.equal((await srv.api('GET', '/v1/streams', undefined, tok)).status, 403);
  t.equal((await srv.api('PATCH', `/v1/streams/${s.id}`, { title: 'x' }, tok)).status, 403);
  t.equal((await srv.api('GET', `/v1/creators/${alice.json.id}`, undefined, tok)).status, 403);
});

t.test('creation is rate-limited per address (429 with Retry-After), nothing written past it', async (t) => {
  // Earlier tests created 2 of this minute's 4.
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof srv.api>> | undefined;
  for (let i = 0; i < 4; i++) {
    last = await srv.api('POST', '/v1/shoppers', { displayName: `n${i}` }, null);
    statuses.push(last.status);
  }
  t.same(statuses, [201, 201, 429, 429]);
  t.equal(last?.json.error.code, 'SHOWCASE_ERR_RATE_LIMITED');
  t.ok(Number(last?.headers.get('retry-after')) >= 1, 'Retry-After set');
});
