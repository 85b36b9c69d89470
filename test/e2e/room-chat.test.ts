// The room socket (issue 14) through real sockets: two shoppers and the host chat, history on join
// and reconnect without duplicates, each limit answered with its code on a socket that stays open,
// oversize and junk frames, and the one upgrade router refusing unknown paths.
import t from 'tap';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { openRoom, upgradeStatus } from '../helpers/room-client.js';

const srv = await startServer({ room: { shopperCreatesPerMinute: 100, messageBurst: 3, tickMs: 100 } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);

const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
const hostToken = alice.json.token as string;
const stream = await srv.api('POST', '/v1/streams', { title: 'Friday drop' }, hostToken);
const id = stream.json.id as string;
const shopper = async (name: string): Promise<{ id: string; token: string }> => {
  const r = await srv.api('POST', '/v1/shoppers', { displayName: name }, null);
  return { id: r.json.id, token: r.json.token };
};
const ana = await shopper('Ana');
const ben = await shopper('Ben');

/** A socket that authenticated as `token` and saw its auth.ok. */
async function joined(token?: string) {
  const c = await openRoom(srv.base, id);
  await c.next((f) => f.type === 'history');
  if (token) {
    c.send({ type: 'auth', token });
    await c.next((f) => f.type === 'auth.ok' || f.type === 'error');
  }
  return c;
}

t.test('two shoppers and the host chat; everyone sees every message with its author and mediaTime', async (t) => {
  const a = await joined(ana.token);
  const b = await joined(ben.token);
  const h = await joined(hostToken);
  const reader = await joined();
  t.match(a.frames.find((f) => f.type === 'auth.ok'), { author: { id: ana.id, displayName: 'Ana', role: 'shopper' } });
  t.match(h.frames.find((f) => f.type === 'auth.ok'), { author: { id: alice.json.id, role: 'host' } }, 'the owner speaks as the host');
  a.send({ type: 'chat', text: '  Does it come in blue?  ' });
  await reader.next((f) => f.type === 'chat' && f.text === 'Does it come in blue?');
  h.send({ type: 'chat', text: 'Yes! Blue and green.' });
  await reader.next((f) => f.type === 'chat' && f.author.role === 'host');
  b.send({ type: 'chat', text: 'Ordered 🎉' });
  for (const c of [a, b, h, reader]) {
    const host = await c.next((f) => f.type === 'chat' && f.author.role === 'host');
    t.match(host, { text: 'Yes! Blue and green.', author: { displayName: 'Alice', role: 'host' } });
    t.ok(Date.parse(host.mediaTime) > 0 && Date.parse(host.at) > 0, 'at and mediaTime are timestamps');
    await c.next((f) => f.type === 'chat' && f.author.id === ben.id);
  }
  const viewers = await reader.next((f) => f.type === 'viewers' && f.count === 4);
  t.equal(viewers.count, 4, 'the viewer count');
  for (const c of [a, b, h, reader]) c.ws.close();
});

t.test('history on join; a reconnecting client gets it again without duplicates', async (t) => {
  const c1 = await openRoom(srv.base, id);
  const h1 = await c1.next((f) => f.type === 'history');
  t.same(h1.items.map((m: any) => m.text), ['Does it come in blue?', 'Yes! Blue and green.', 'Ordered 🎉']);
  c1.ws.close();
  const c2 = await openRoom(srv.base, id);
  const h2 = await c2.next((f) => f.type === 'history');
  const ids = h2.items.map((m: any) => m.id);
  t.same(ids, h1.items.map((m: any) => m.id), 'same messages, same ids');
  t.equal(new Set(ids).size, ids.length, 'no duplicates');
  c2.ws.close();
  const stored = await srv.app.store.listRoomMessages(id, { limit: 10 });
  t.equal(stored.length, 3, 'messages persist');
  t.ok(stored.every((m) => m.mediaTime > 0));
});

t.test('each limit is answered with its code on a socket that stays open', async (t) => {
  const cara = await shopper('Cara');
  const anon = await joined();
  const errAfter = async (c: Awaited<ReturnType<typeof joined>>, frame: unknown, code: string) => {
    const from = c.frames.length;
    c.send(frame);
    const e = await c.next((f) => f.type === 'error', 5000, from);
    t.equal(e.code, code, `${JSON.stringify(frame).slice(0, 60)} -> ${code}`);
  };
  await errAfter(anon, { type: 'chat', text: 'hi' }, 'SHOWCASE_ERR_ROOM_AUTH_REQUIRED');
  await errAfter(anon, { type: 'auth', token: ana.token }, 'SHOWCASE_ERR_ROOM_BAD_FRAME');
  await errAfter(anon, 'not json', 'SHOWCASE_ERR_ROOM_BAD_FRAME');
  await errAfter(anon, { type: 'chat', text: 'x', extra: 1 }, 'SHOWCASE_ERR_ROOM_BAD_FRAME');
  await errAfter(anon, { type: 'reaction', kind: 'poop' }, 'SHOWCASE_ERR_ROOM_BAD_FRAME');
  anon.ws.close();

  const bad = await joined('sh_not_a_token');
  t.equal(bad.frames.find((f) => f.type === 'error')?.code, 'SHOWCASE_ERR_UNAUTHORIZED', 'a wrong token');
  bad.ws.close();

  const c = await joined(cara.token);
  await errAfter(c, { type: 'chat', text: '   ' }, 'SHOWCASE_ERR_ROOM_TEXT_INVALID');
  await errAfter(c, { type: 'chat', text: 'y'.repeat(301) }, 'SHOWCASE_ERR_ROOM_TEXT_INVALID');
  c.send({ type: 'chat', text: 'first' });
  await c.next((f) => f.type === 'chat' && f.text === 'first');
  await errAfter(c, { type: 'chat', text: 'first' }, 'SHOWCASE_ERR_ROOM_DUPLICATE');
  c.send({ type: 'chat', text: 'second' });
  c.send({ type: 'chat', text: 'third' });
  await errAfter(c, { type: 'chat', text: 'fourth' }, 'SHOWCASE_ERR_ROOM_TOO_FAST');
  // Reactions: 15 at once, 10 counted in one aggregated frame, the rest dropped with a notice.
  const from = c.frames.length;
  for (let i = 0; i < 15; i++) c.send({ type: 'reaction', kind: 'heart' });
  const dropped = await c.next((f) => f.type === 'error' && f.code === 'SHOWCASE_ERR_ROOM_REACTIONS_DROPPED', 5000, from);
  t.ok(dropped);
  const agg = await c.next((f) => f.type === 'reactions', 5000, from);
  t.equal(agg.counts.heart, 10, 'aggregated: one frame for ten reactions');
  t.equal(c.frames.slice(from).filter((f) => f.type === 'error').length, 1, 'one drop notice, not one per reaction');
  t.equal(c.ws.readyState, c.ws.OPEN, 'still open after every refusal');
  c.ws.close();
});

t.test('a frame over 4 KiB closes with 1009; a 5 MB frame and 1,000 junk frames leave the server well', async (t) => {
  const c = await openRoom(srv.base, id);
  c.send('x'.repeat(5000));
  t.equal(await c.closed, 1009);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const big = await openRoom(srv.base, id);
  big.send('x'.repeat(5 * 1024 * 1024));
  t.equal(await big.closed, 1009, 'a 5 MB frame is not read');
  const junk = await openRoom(srv.base, id);
  for (let i = 0; i < 1000; i++) junk.send(i % 2 ? Buffer.from([i & 255, 0, 1]) : `{"type":${i}`);
  await junk.next((f) => f.type === 'error' && f.code === 'SHOWCASE_ERR_RATE_LIMITED', 5000);
  t.equal(junk.ws.readyState, junk.ws.OPEN, 'junk is answered, the socket stays open');
  junk.ws.close();
  t.equal((await srv.api('GET', '/healthz', undefined, null)).status, 200, 'server up');
  const grown = process.memoryUsage().rss - before;
  t.ok(grown < 64 * 1024 * 1024, `rss grew ${(grown / 1048576).toFixed(1)} MiB`);
});

t.test('upgrades: an unknown stream 404, an unknown path 404, the room 101', async (t) => {
  t.equal(await upgradeStatus(srv.base, '/v1/streams/nope/room'), 404);
  t.equal(await upgradeStatus(srv.base, '/v1/nothing-here'), 404);
  t.equal(await upgradeStatus(srv.base, `/v1/streams/${id}/room`), 101);
});

t.test('replay pages by mediaTime; a delete reaches live sockets and the replay; moderation authorization', async (t) => {
  const all = await srv.api('GET', `/v1/streams/${id}/room/messages?limit=500`, undefined, null);
  t.equal(all.status, 200, 'anyone reads the replay');
  t.ok(all.json.items.length >= 4);
  const first = all.json.items[0];
  const page = await srv.api('GET', `/v1/streams/${id}/room/messages?after=${encodeURIComponent(first.mediaTime)}&limit=2`, undefined, null);
  t.ok(page.json.items.every((m: any) => Date.parse(m.mediaTime) > Date.parse(first.mediaTime)), 'after is exclusive');
  t.ok(page.json.items.length <= 2);
  t.equal((await srv.api('GET', `/v1/streams/${id}/room/messages?after=soon`, undefined, null)).status, 400);
  t.equal((await srv.api('GET', '/v1/streams/nope/room/messages', undefined, null)).status, 404);

  const watcher = await joined();
  const target = first.id as string;
  const bob = await srv.api('POST', '/v1/creators', { handle: 'bob', displayName: 'Bob' });
  const del = (tok: string | null) => srv.api('DELETE', `/v1/streams/${id}/room/messages/${target}`, undefined, tok);
  t.equal((await del(null)).status, 401, 'anonymous');
  t.equal((await del(ana.token)).status, 403, 'a shopper');
  t.equal((await del(bob.json.token)).status, 404, 'another creator');
  t.equal((await del(hostToken)).status, 204, 'the owner');
  t.equal((await del(hostToken)).status, 404, 'gone already');
  const gone = await watcher.next((f) => f.type === 'chat.deleted');
  t.equal(gone.id, target, 'live sockets hear of it');
  const after = await srv.api('GET', `/v1/streams/${id}/room/messages?limit=500`, undefined, null);
  t.notOk(after.json.items.some((m: any) => m.id === target), 'gone from the replay');
  const again = await openRoom(srv.base, id);
  t.notOk((await again.next((f) => f.type === 'history')).items.some((m: any) => m.id === target), 'and from history');
  watcher.ws.close();
  again.ws.close();
});
