// The room across nodes through Redis pub/sub (RedisRoomFanout behind RoomFanout): two in-process
// nodes on one PostgreSQL and one Redis started by the test. A chat message sent on A reaches a
// socket on C (and back), in order; a delete on C reaches A; reactions sent on C reach A; a Redis
// outage keeps each node's own room working and the bus resumes once Redis is back.
import t from 'tap';
import { twoRoomNodes } from '../helpers/room-nodes.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';
import { waitFor, type TestServer } from '../helpers/server.js';
import { Redis } from 'ioredis';


t.test('chat, deletes and reactions across two nodes; a Redis outage survived', async (t) => {
  const { a, c, redis } = await twoRoomNodes(t);
  const creator = await a.api('POST', '/v1/creators', { handle: 'hostess', displayName: 'Hostess' });
  const stream = await a.api('POST', '/v1/streams', { title: 'Across nodes' }, creator.json.token);
  const id = stream.json.id as string;
  const shopper = async (srv: TestServer, name: string) => (await srv.api('POST', '/v1/shoppers', { displayName: name }, null)).json.token as string;
  const joined = async (srv: TestServer, token?: string): Promise<RoomClient> => {
    const r = await openRoom(srv.base, id);
    await r.next((f) => f.type === 'history');
    if (token) {
      r.send({ type: 'auth', token });
      await r.next((f) => f.type === 'auth.ok');
    }
    return r;
  };
  const onA = await joined(a, await shopper(a, 'Ana'));
  const onC = await joined(c, await shopper(c, 'Cy'));
  const hostOnC = await joined(c, creator.json.token);
  t.teardown(() => { for (const r of [onA, onC, hostOnC]) r.ws.close(); });
  // Each node subscribes to the stream's channel with its first socket: wait until both have.
  const raw = new Redis(redis.url);
  t.teardown(() => raw.disconnect());
  await waitFor(async () => ((await raw.pubsub('NUMSUB', `showcase:room:${id}`)) as [string, number])[1] === 2, 'both nodes subscribed to the stream\'s channel', 5000, 20);
  raw.disconnect();

  const texts = ['first from A', 'second from A', 'third from A', 'fourth from A', 'fifth from A'];
  for (const text of texts) onA.send({ type: 'chat', text });
  const got: string[] = [];
  for (const text of texts) got.push((await onC.next((f) => f.type === 'chat' && f.text === text, 5000)).text);
  const order = onC.frames.filter((f) => f.type === 'chat' && texts.includes(f.text)).map((f) => f.text);
  t.same(order, texts, 'A\'s messages reach a socket on C, in order');
  const fromA = onC.frames.find((f) => f.type === 'chat' && f.text === 'first from A');
  t.match(fromA, { author: { displayName: 'Ana', role: 'shopper' } });

  onC.send({ type: 'chat', text: 'hello from C' });
  const back = await onA.next((f) => f.type === 'chat' && f.text === 'hello from C');
  t.match(back, { author: { displayName: 'Cy' } }, 'and back from C to A');
  t.equal(onA.frames.filter((f) => f.type === 'chat' && f.text === 'first from A').length, 1, 'A\'s own socket got its message once (no echo from Redis)');

  const del = await c.api('DELETE', `/v1/streams/${id}/room/messages/${fromA.id}`, undefined, creator.json.token);
  t.equal(del.status, 204);
  await onA.next((f) => f.type === 'chat.deleted' && f.id === fromA.id);
  t.pass('a delete made on C reaches the socket on A');

  onC.send({ type: 'reaction', kind: 'heart' });
  const r = await onA.next((f) => f.type === 'reactions' && (f.counts?.heart ?? 0) >= 1);
  t.ok(r.counts.heart >= 1, 'reactions aggregated on C reach A');

  // Redis down: each node's own room goes on; cross-node events are dropped (counted, logged once).
  await redis.stop();
  onA.send({ type: 'chat', text: 'during the outage' });
  await onA.next((f) => f.type === 'chat' && f.text === 'during the outage');
  t.pass('a node\'s own sockets still get its chat while Redis is down');
  await waitFor(() => a.app.cluster!.roomFanout.dropped > 0, 'the dropped event counted', 5000, 20);
  await redis.restart();
  // The subscriber reconnects and re-subscribes by itself; poll with fresh messages until one crosses.
  let crossed = false;
  for (let i = 0; i < 40 && !crossed; i++) {
    onA.send({ type: 'chat', text: `after the outage ${i}` });
    crossed = await onC.next((f) => f.type === 'chat' && String(f.text).startsWith('after the outage'), 250).then(() => true, () => false);
  }
  t.ok(crossed, 'the bus resumes once Redis is back (re-subscribed)');
  t.ok(a.logs.find((l) => l.code === 'SHOWCASE_ERR_CLUSTER_REDIS_UNAVAILABLE'), 'the outage was logged with its code');
});
