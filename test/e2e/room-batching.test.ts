// The room's batched fan-out (room.batchMs): events between two flushes go out together, in order,
// and sockets that join while chat flows get every message once, from history or live, with no gap.
// Flushes are written by the native addon's threads; room-batching-js.test.ts runs this file again
// with them written from the event loop (room.nativeFanout false).
import t from 'tap';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';

const mode = process.env.SHOWCASE_TEST_ROOM_FANOUT === 'js' ? 'js' : 'native';
const srv = await startServer({ room: { shopperCreatesPerMinute: 100, messagesPerSecond: 100, messageBurst: 100, batchMs: 150, historyMessages: 20, maxSocketsPerIp: 2000, nativeFanout: mode === 'native' } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);

const stream = await srv.createStream('batching');
const shopper = (await srv.api('POST', '/v1/shoppers', { displayName: 'Dee' }, null)).json as { token: string };
t.equal(srv.app.http.room.fanoutMode, mode, `flushes are written by ${mode === 'native' ? 'the addon\'s threads' : 'the event loop'}`);

async function sender(): Promise<RoomClient> {
  const c = await openRoom(srv.base, stream.id);
  c.send({ type: 'auth', token: shopper.token });
  await c.next((f) => f.type === 'auth.ok');
  return c;
}

t.test('a burst of messages reaches every socket in order, in fewer flushes than messages', async (t) => {
  const s = await sender();
  const readers = await Promise.all(Array.from({ length: 5 }, () => openRoom(srv.base, stream.id)));
  for (const r of readers) await r.next((f) => f.type === 'room');
  const arrivals: number[][] = readers.map(() => []);
  readers.forEach((r, i) => r.ws.on('message', (d) => { if (d.toString().includes('"burst ')) arrivals[i]!.push(performance.now()); }));
  for (let i = 0; i < 10; i++) s.send({ type: 'chat', text: `burst ${i}` });
  for (const r of readers) {
    await r.next((f) => f.type === 'chat' && f.text === 'burst 9');
    t.same(r.frames.filter((f) => f.type === 'chat' && f.text.startsWith('burst ')).map((f) => f.text), Array.from({ length: 10 }, (_, i) => `burst ${i}`), 'all ten, in order');
  }
  // Arrivals cluster by flush: gaps of room.batchMs between clusters, none inside one.
  const clusters = arrivals[0]!.filter((at, i, a) => i === 0 || at - a[i - 1]! > 50).length;
  t.ok(clusters >= 1 && clusters < 10, `ten messages arrived in ${clusters} flush(es)`);
  for (const c of [s, ...readers]) c.ws.close();
});

t.test('sockets joining while chat flows get each message once (history or live) and none missing after their history', async (t) => {
  const s = await sender();
  const watcher = await openRoom(srv.base, stream.id);
  await watcher.next((f) => f.type === 'room');
  // History reads whose answer takes a while to come back (as over a network store): messages after
  // the read are not in the history, so they must come live: those flushed meanwhile are held for
  // the socket, those still queued when the history is sent are taken from the outbox.
  const store = srv.app.store;
  const read = store.recentRoomMessages.bind(store);
  store.recentRoomMessages = async (...a) => {
    const items = await read(...a);
    await new Promise((r) => setTimeout(r, 40 + Math.random() * 120));
    return items;
  };
  t.teardown(() => { store.recentRoomMessages = read; });
  const joiners: RoomClient[] = [];
  const total = 40;
  for (let i = 0; i < total; i++) {
    s.send({ type: 'chat', text: `flow ${i}` });
    if (i % 2 === 0) joiners.push(await openRoom(srv.base, stream.id));
    await new Promise((r) => setTimeout(r, 15));
  }
  await watcher.next((f) => f.type === 'chat' && f.text === `flow ${total - 1}`, 10_000);
  const all = (await srv.app.store.listRoomMessages(stream.id, { limit: 500 })).map((m) => m.id);
  for (const [i, c] of joiners.entries()) {
    const last = `flow ${total - 1}`;
    await c.next((f) => (f.type === 'chat' && f.text === last) || (f.type === 'history' && f.items.some((m: { text: string }) => m.text === last)), 10_000);
    const history = (await c.next((f) => f.type === 'history')).items.map((m: { id: string }) => m.id) as string[];
    const live = c.frames.filter((f) => f.type === 'chat').map((f) => f.id as string);
    const seen = [...history, ...live];
    t.equal(new Set(seen).size, seen.length, `joiner ${i}: no message twice`);
    const start = all.indexOf(seen[0]!);
    t.same(seen, all.slice(start), `joiner ${i}: every message from its first on, in order`);
  }
  for (const c of [s, watcher, ...joiners]) c.ws.close();
});

t.test('a room larger than a flush slice (500 sockets a turn) gets every message in order, one write per socket per flush', async (t) => {
  const s = await sender();
  const readers: RoomClient[] = [];
  for (let i = 0; i < 1100; i += 100) readers.push(...await Promise.all(Array.from({ length: 100 }, () => openRoom(srv.base, stream.id))));
  await Promise.all(readers.map((r) => r.next((f) => f.type === 'room')));
  const room = srv.app.http.room;
  const w0 = room.fanoutWrites;
  const f0 = room.fanoutFlushes;
  for (let i = 0; i < 6; i++) s.send({ type: 'chat', text: `big ${i}` });
  const want = Array.from({ length: 6 }, (_, i) => `big ${i}`);
  await Promise.all(readers.map((r) => r.next((f) => f.type === 'chat' && f.text === 'big 5', 15_000)));
  const inOrder = readers.filter((r) => JSON.stringify(r.frames.filter((f) => f.type === 'chat' && f.text.startsWith('big ')).map((f) => f.text)) === JSON.stringify(want)).length;
  t.equal(inOrder, readers.length, 'every reader got the six messages once, in order');
  const flushes = room.fanoutFlushes - f0;
  t.ok(room.fanoutWrites - w0 <= flushes * (readers.length + 1), `${room.fanoutWrites - w0} writes in ${flushes} flushes`);
  t.ok(flushes < 6, 'fewer flushes than messages');
  for (const c of [s, ...readers]) c.ws.close();
});

t.test('a join storm shares history reads: sockets joining within 25 ms get one read between them', async (t) => {
  const store = srv.app.store;
  const read = store.recentRoomMessages.bind(store);
  let reads = 0;
  store.recentRoomMessages = (...a) => {
    reads++;
    return read(...a);
  };
  t.teardown(() => { store.recentRoomMessages = read; });
  const storm = await Promise.all(Array.from({ length: 60 }, () => openRoom(srv.base, stream.id)));
  const histories = await Promise.all(storm.map((c) => c.next((f) => f.type === 'history')));
  t.ok(reads >= 1 && reads <= storm.length / 3, `${storm.length} joins, ${reads} history reads`);
  const ids = JSON.stringify(histories[0].items.map((m: { id: string }) => m.id));
  t.ok(histories[0].items.length > 0, 'the history holds the earlier messages');
  t.ok(histories.every((h) => JSON.stringify(h.items.map((m: { id: string }) => m.id)) === ids), 'the same history for all');
  for (const c of storm) c.ws.close();
});

t.test('a client ping is answered with its pong (ws autoPong is off: pongs wait for a flight writing to the socket)', async (t) => {
  const c = await openRoom(srv.base, stream.id);
  await c.next((f) => f.type === 'room');
  const pongs: string[] = [];
  c.ws.on('pong', (d: Buffer) => pongs.push(d.toString()));
  for (let i = 0; i < 3; i++) c.ws.ping(`p${i}`);
  for (let i = 0; i < 100 && pongs.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(pongs, ['p0', 'p1', 'p2'], 'each ping answered with its data, in order');
  c.ws.close();
});
