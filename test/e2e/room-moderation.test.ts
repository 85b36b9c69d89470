// Room moderation (issue 14) through real sockets: bans per stream and per creator hold on open
// sockets and new ones, are listed and lifted; slow mode and a closed room; a creator's blocked
// words; who may moderate; and the per-minute message and reaction counts in the analytics.
import t from 'tap';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';

const srv = await startServer({ room: { shopperCreatesPerMinute: 100, messageBurst: 20, messagesPerSecond: 20, tickMs: 100 } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);

const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
const hostToken = alice.json.token as string;
const creatorId = alice.json.id as string;
const bob = await srv.api('POST', '/v1/creators', { handle: 'bob', displayName: 'Bob' });
const mkStream = async (title: string) => (await srv.api('POST', '/v1/streams', { title }, hostToken)).json.id as string;
const s1 = await mkStream('Friday drop');
const s2 = await mkStream('Saturday drop');
const shopper = async (name: string): Promise<{ id: string; token: string }> => {
  const r = await srv.api('POST', '/v1/shoppers', { displayName: name }, null);
  return { id: r.json.id, token: r.json.token };
};
const ana = await shopper('Ana');
const ben = await shopper('Ben');

/** A socket on the stream that authenticated as token. */
async function joined(streamId: string, token: string): Promise<RoomClient> {
  const c = await openRoom(srv.base, streamId);
  await c.next((f) => f.type === 'history');
  c.send({ type: 'auth', token });
  await c.next((f) => f.type === 'auth.ok');
  return c;
}

/** Sends a chat and resolves with its echo or the error it got. */
async function say(c: RoomClient, text: string): Promise<{ ok: boolean; code?: string }> {
  const from = c.frames.length;
  c.send({ type: 'chat', text });
  const f = await c.next((f) => (f.type === 'chat' && f.text === text.trim()) || f.type === 'error', 5000, from);
  return f.type === 'error' ? { ok: false, code: f.code } : { ok: true };
}

t.test('who may moderate: the owner and the operator; anyone else is refused', async (t) => {
  const routes: Array<[string, string, unknown]> = [
    ['POST', `/v1/streams/${s1}/room/bans`, { shopperId: ana.id, minutes: 1 }],
    ['GET', `/v1/streams/${s1}/room/bans`, undefined],
    ['DELETE', `/v1/streams/${s1}/room/bans/${ana.id}`, undefined],
    ['PATCH', `/v1/streams/${s1}/room`, { slowModeSeconds: 0 }],
    ['GET', `/v1/creators/${creatorId}/room/blocked-words`, undefined],
    ['PUT', `/v1/creators/${creatorId}/room/blocked-words`, { words: [] }],
  ];
  for (const [method, path, body] of routes) {
    t.equal((await srv.api(method, path, body, null)).status, 401, `${method} ${path}: anonymous`);
    t.equal((await srv.api(method, path, body, ana.token)).status, 403, `${method} ${path}: a shopper`);
    t.equal((await srv.api(method, path, body, bob.json.token)).status, 404, `${method} ${path}: another creator`);
  }
  t.equal((await srv.api('GET', `/v1/streams/${s1}/room/bans`, undefined)).status, 200, 'the operator');
  t.equal((await srv.api('GET', `/v1/streams/${s1}/room/bans`, undefined, hostToken)).status, 200, 'the owner');
  t.equal((await srv.api('POST', `/v1/streams/${s1}/room/bans`, { shopperId: 'sh_nobody' }, hostToken)).status, 404, 'unknown shopper');
  t.equal((await srv.api('POST', `/v1/streams/${s1}/room/bans`, { shopperId: ana.id, minutes: 0 }, hostToken)).status, 400, 'minutes from 1');
  t.equal((await srv.api('PATCH', `/v1/streams/${s1}/room`, {}, hostToken)).status, 400, 'an empty patch');
  t.equal((await srv.api('DELETE', `/v1/streams/${s1}/room/bans/${ben.id}`, undefined, hostToken)).status, 404, 'no such ban');
});

t.test('a stream ban holds on an open socket and a new one, only on that stream; lifting it lets the shopper talk', async (t) => {
  const a1 = await joined(s1, ana.token);
  const a2 = await joined(s2, ana.token);
  t.ok((await say(a1, 'before the ban')).ok);
  const ban = await srv.api('POST', `/v1/streams/${s1}/room/bans`, { shopperId: ana.id, minutes: 10 }, hostToken);
  t.equal(ban.status, 201);
  t.match(ban.json, { shopperId: ana.id, scope: 'stream', scopeId: s1, by: creatorId });
  t.ok(Date.parse(ban.json.until) > Date.now() + 9 * 60_000, 'ten minutes');
  t.same(await say(a1, 'during the ban'), { ok: false, code: 'SHOWCASE_ERR_ROOM_BANNED' }, 'the open socket is refused');
  t.ok((await say(a2, 'on the other stream')).ok, 'a stream ban holds on that stream only');
  const a3 = await joined(s1, ana.token);
  t.same(await say(a3, 'from a new socket'), { ok: false, code: 'SHOWCASE_ERR_ROOM_BANNED' }, 'a new socket too');
  t.equal(a1.ws.readyState, a1.ws.OPEN, 'the banned shopper still reads');
  const list = await srv.api('GET', `/v1/streams/${s1}/room/bans`, undefined, hostToken);
  t.same(list.json.items.map((b: any) => b.shopperId), [ana.id]);
  t.equal((await srv.api('DELETE', `/v1/streams/${s1}/room/bans/${ana.id}`, undefined, hostToken)).status, 204);
  t.ok((await say(a1, 'after the ban')).ok, 'lifted: the open socket talks again');
  for (const c of [a1, a2, a3]) c.ws.close();
});

t.test('a creator ban holds on every stream of the creator until lifted', async (t) => {
  const b1 = await joined(s1, ben.token);
  const b2 = await joined(s2, ben.token);
  const ban = await srv.api('POST', `/v1/streams/${s1}/room/bans`, { shopperId: ben.id, scope: 'creator' });
  t.equal(ban.status, 201, 'the operator bans');
  t.match(ban.json, { scope: 'creator', scopeId: creatorId, until: null, by: 'operator' });
  t.same(await say(b1, 'one'), { ok: false, code: 'SHOWCASE_ERR_ROOM_BANNED' });
  t.same(await say(b2, 'two'), { ok: false, code: 'SHOWCASE_ERR_ROOM_BANNED' }, 'on the creator\'s other stream too');
  t.equal((await srv.api('GET', `/v1/streams/${s2}/room/bans`, undefined, hostToken)).json.items.length, 1, 'listed on every stream it covers');
  t.equal((await srv.api('DELETE', `/v1/streams/${s2}/room/bans/${ben.id}?scope=stream`, undefined, hostToken)).status, 404, 'not a stream ban');
  t.equal((await srv.api('DELETE', `/v1/streams/${s2}/room/bans/${ben.id}?scope=creator`, undefined, hostToken)).status, 204);
  t.ok((await say(b1, 'three')).ok);
  t.ok((await say(b2, 'four')).ok);
  b1.ws.close();
  b2.ws.close();
});

t.test('slow mode per author and a closed room, pushed to every socket; the host is exempt', async (t) => {
  // Fresh authors: slow mode counts from an author's last message, even one sent before it was set.
  const a = await joined(s1, (await shopper('Cara')).token);
  const b = await joined(s1, (await shopper('Dan')).token);
  const h = await joined(s1, hostToken);
  const patched = await srv.api('PATCH', `/v1/streams/${s1}/room`, { slowModeSeconds: 30 }, hostToken);
  t.same(patched.json, { streamId: s1, slowModeSeconds: 30, open: true });
  t.match(await a.next((f) => f.type === 'room' && f.slowModeSeconds === 30), { open: true }, 'sockets hear the settings');
  t.ok((await say(a, 'slow one')).ok);
  t.same(await say(a, 'slow two'), { ok: false, code: 'SHOWCASE_ERR_ROOM_SLOW_MODE' }, 'the second within 30 s');
  t.ok((await say(b, 'another author')).ok, 'per author');
  t.ok((await say(h, 'host one')).ok);
  t.ok((await say(h, 'host two')).ok, 'the host is exempt');
  await srv.api('PATCH', `/v1/streams/${s1}/room`, { slowModeSeconds: 0, open: false }, hostToken);
  await b.next((f) => f.type === 'room' && f.open === false);
  t.same(await say(b, 'closed?'), { ok: false, code: 'SHOWCASE_ERR_ROOM_CLOSED' });
  t.ok((await say(h, 'the host still speaks')).ok);
  const late = await openRoom(srv.base, s1);
  t.match(await late.next((f) => f.type === 'room'), { open: false, slowModeSeconds: 0 }, 'a joining socket gets the settings');
  await srv.api('PATCH', `/v1/streams/${s1}/room`, { open: true }, hostToken);
  await b.next((f) => f.type === 'room' && f.open === true);
  t.ok((await say(b, 'open again')).ok);
  for (const c of [a, b, h, late]) c.ws.close();
});

t.test('a creator\'s blocked words refuse whole words, case- and width-insensitively, on open rooms at once', async (t) => {
  const a = await joined(s2, ana.token);
  const put = await srv.api('PUT', `/v1/creators/${creatorId}/room/blocked-words`, { words: ['  Scam ', 'fake site', 'scam'] }, hostToken);
  t.same(put.json, { creatorId, words: ['scam', 'fake site'] }, 'trimmed, folded, de-duplicated');
  t.same((await srv.api('GET', `/v1/creators/${creatorId}/room/blocked-words`, undefined, hostToken)).json.words, ['scam', 'fake site']);
  t.same(await say(a, 'this is a SCAM!'), { ok: false, code: 'SHOWCASE_ERR_ROOM_BLOCKED_WORD' });
  t.same(await say(a, 'visit my ｆａｋｅ   site'), { ok: false, code: 'SHOWCASE_ERR_ROOM_BLOCKED_WORD' }, 'full-width and spacing folded');
  t.ok((await say(a, 'scampi for dinner')).ok, 'not inside another word');
  t.equal((await srv.api('PUT', `/v1/creators/${creatorId}/room/blocked-words`, { words: ['x'.repeat(65)] }, hostToken)).status, 400);
  await srv.api('PUT', `/v1/creators/${creatorId}/room/blocked-words`, { words: [] }, hostToken);
  t.ok((await say(a, 'scam is fine now')).ok, 'an emptied list blocks nothing');
  a.ws.close();
});

t.test('per-minute counts of messages and reactions in the stream analytics', async (t) => {
  await srv.app.http.room.flushCounts();
  const before = (await srv.api('GET', `/v1/streams/${s2}/analytics`, undefined, hostToken)).json.room;
  const a = await joined(s2, ana.token);
  for (let i = 0; i < 4; i++) a.send({ type: 'reaction', kind: 'fire' });
  t.ok((await say(a, 'counted message')).ok);
  await a.next((f) => f.type === 'reactions' && f.counts.fire === 4);
  await srv.app.http.room.flushCounts();
  const room = (await srv.api('GET', `/v1/streams/${s2}/analytics`, undefined, hostToken)).json.room;
  t.equal(room.messages - before.messages, 1, 'one more message');
  t.equal(room.reactions - before.reactions, 4, 'four more reactions');
  t.ok(room.timeline.length >= 1);
  t.ok(room.timeline.every((m: any) => Date.parse(m.minute) % 60_000 === 0), 'whole minutes');
  t.equal(room.timeline.reduce((n: number, m: any) => n + m.messages, 0), room.messages, 'the timeline adds up');
  a.ws.close();
});
