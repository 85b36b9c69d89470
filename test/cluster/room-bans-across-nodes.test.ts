// Moderation across nodes (RedisRoomFanout): two in-process nodes on one PostgreSQL and one Redis.
// A ban made on A holds for the shopper's socket on C at once (bans.changed over the bus); a
// creator-wide ban holds on another of the creator's streams watched only on C (no event reaches
// it: the store check refuses); lifting on A lets the shopper talk on C again; a delete on A is gone
// from C's replay pages.
import t from 'tap';
import { twoRoomNodes } from '../helpers/room-nodes.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';
import { waitFor, type TestServer } from '../helpers/server.js';
import { Redis } from 'ioredis';

t.test('bans and deletes made on one node hold on another', async (t) => {
  const { a, c, redis } = await twoRoomNodes(t);
  const creator = await a.api('POST', '/v1/creators', { handle: 'mod', displayName: 'Mod' });
  const id = (await a.api('POST', '/v1/streams', { title: 'One' }, creator.json.token)).json.id as string;
  const other = (await a.api('POST', '/v1/streams', { title: 'Two' }, creator.json.token)).json.id as string;
  const made = (await c.api('POST', '/v1/shoppers', { displayName: 'Noisy' }, null)).json;
  const joined = async (srv: TestServer, streamId: string, token: string): Promise<RoomClient> => {
    const r = await openRoom(srv.base, streamId);
    await r.next((f) => f.type === 'history');
    r.send({ type: 'auth', token });
    await r.next((f) => f.type === 'auth.ok');
    return r;
  };
  const onC = await joined(c, id, made.token);
  const watcherOnA = await joined(a, id, creator.json.token);
  t.teardown(() => { onC.ws.close(); watcherOnA.ws.close(); });
  const raw = new Redis(redis.url);
  t.teardown(() => raw.disconnect());
  await waitFor(async () => ((await raw.pubsub('NUMSUB', `showcase:room:${id}`)) as [string, number])[1] === 2, 'both nodes subscribed', 5000, 20);

  onC.send({ type: 'chat', text: 'before the ban' });
  const msg = await watcherOnA.next((f) => f.type === 'chat' && f.text === 'before the ban', 5000);

  const del = await a.api('DELETE', `/v1/streams/${id}/room/messages/${msg.id}`, undefined, creator.json.token);
  t.equal(del.status, 204);
  await onC.next((f) => f.type === 'chat.deleted' && f.id === msg.id, 5000);
  const page = await c.api('GET', `/v1/streams/${id}/room/messages?after=0&limit=50`, undefined, null);
  t.notOk((page.json.items as Array<{ id: string }>).some((m) => m.id === msg.id), 'the delete made on A is gone from C\'s replay');

  const ban = await a.api('POST', `/v1/streams/${id}/room/bans`, { shopperId: made.id, minutes: 5 }, creator.json.token);
  t.equal(ban.status, 201);
  onC.send({ type: 'chat', text: 'after the ban' });
  await onC.next((f) => f.type === 'error' && f.code === 'SHOWCASE_ERR_ROOM_BANNED', 5000);
  t.pass('the ban made on A refuses the shopper\'s chat on C');

  // A creator-wide ban made on A from stream One; the shopper talks on stream Two, watched only on C.
  const onTwo = await joined(c, other, made.token);
  t.teardown(() => onTwo.ws.close());
  t.equal((await a.api('POST', `/v1/streams/${id}/room/bans`, { shopperId: made.id, scope: 'creator' }, creator.json.token)).status, 201);
  onTwo.send({ type: 'chat', text: 'on another stream' });
  await onTwo.next((f) => f.type === 'error' && f.code === 'SHOWCASE_ERR_ROOM_BANNED', 5000);
  t.pass('a creator-wide ban holds on a node that got no event for that stream (store check)');

  t.equal((await a.api('DELETE', `/v1/streams/${id}/room/bans/${made.id}`, undefined, creator.json.token)).status, 204);
  onC.send({ type: 'chat', text: 'lifted' });
  await watcherOnA.next((f) => f.type === 'chat' && f.text === 'lifted', 5000);
  t.pass('lifting on A lets the shopper talk on C again');
  t.notOk(onC.frames.some((f) => f.type === 'bans.changed'), 'the node-only event never reaches a socket');
});
