// Followers (issue 15): shoppers follow and unfollow creators, list whom they follow, and the
// public creator view counts followers.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const srv = await startServer();
t.teardown(() => srv.close());

t.test('follow, unfollow, following list and followerCount', async (t) => {
  const alice = (await srv.api('POST', '/v1/creators', { handle: 'alice_f', displayName: 'Alice' })).json;
  const bob = (await srv.api('POST', '/v1/creators', { handle: 'bob_f', displayName: 'Bob' })).json;
  const s1 = (await srv.api('POST', '/v1/shoppers', { displayName: 'Sam' }, null)).json;
  const s2 = (await srv.api('POST', '/v1/shoppers', { displayName: 'Kim' }, null)).json;
  const put = (c: string, tok: string | null) => srv.api('PUT', `/v1/creators/${c}/followers/me`, undefined, tok);

  t.equal((await put(alice.id, null)).status, 401, 'a token is required');
  t.equal((await put(alice.id, alice.token)).status, 403, 'creators do not follow');
  t.equal((await put('cr_nope', s1.token)).status, 404, 'unknown creator');
  const first = await put(alice.id, s1.token);
  t.equal(first.status, 200);
  t.match(first.json, { following: true, added: true, followerCount: 1 });
  t.match((await put(alice.id, s1.token)).json, { added: false, followerCount: 1 }, 'idempotent');
  await put(bob.id, s1.token);
  await put(alice.id, s2.token);
  t.match((await srv.api('GET', `/v1/creators/${alice.id}/public`, undefined, null)).json, { id: alice.id, handle: 'alice_f', displayName: 'Alice', followerCount: 2 });
  const following = await srv.api('GET', '/v1/shoppers/me/following', undefined, s1.token);
  t.equal(following.status, 200);
  t.same(following.json.items.map((i: { creatorId: string }) => i.creatorId).sort(), [alice.id, bob.id].sort());
  t.match(following.json.items[0], { handle: String, displayName: String, followedAt: String });
  const paged = await srv.api('GET', '/v1/shoppers/me/following?limit=1', undefined, s1.token);
  t.equal(paged.json.items.length, 1);
  t.ok(paged.json.nextCursor);
  t.equal((await srv.api('GET', '/v1/shoppers/me/following', undefined, null)).status, 401);
  t.equal((await srv.api('DELETE', `/v1/creators/${alice.id}/followers/me`, undefined, s1.token)).status, 204);
  t.equal((await srv.api('GET', `/v1/creators/${alice.id}/public`, undefined, null)).json.followerCount, 1);
  t.same((await srv.api('GET', '/v1/shoppers/me/following', undefined, s1.token)).json.items.map((i: { creatorId: string }) => i.creatorId), [bob.id]);
  await srv.api('PATCH', `/v1/creators/${bob.id}`, { disabled: true });
  t.equal((await srv.api('GET', `/v1/creators/${bob.id}/public`, undefined, null)).status, 404, 'a disabled creator has no public view');
  t.equal((await put(bob.id, s2.token)).status, 404, 'nor new followers');
});
