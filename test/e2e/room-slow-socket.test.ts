// A room socket that stops reading is closed once its unsent bytes pass room.maxBufferedBytes,
// never buffered without limit, while the sockets that keep reading get every message whole and in
// order: the native flush's short writes (the stalled socket's kernel buffer full) go through
// libuv, where the bound is counted. Run with flushes from the addon's threads and from the event loop.
import t from 'tap';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';

for (const nativeFanout of [true, false]) {
  t.test(`a stalled reader is closed, the others get everything (${nativeFanout ? 'native' : 'event-loop'} flushes)`, async (t) => {
    const srv = await startServer({
      room: {
        shopperCreatesPerMinute: 100, messagesPerSecond: 100, messageBurst: 100, framesPerSecond: 1000, maxTextChars: 2000,
        maxBufferedBytes: 65_536, batchMs: 20, historyMessages: 0, nativeFanout,
      },
    });
    t.teardown(() => srv.close());
    logsOnFailure(t, srv);
    const room = srv.app.http.room;
    t.equal(room.fanoutMode, nativeFanout ? 'native' : 'js');
    const stream = await srv.createStream('slow');
    const senders: RoomClient[] = [];
    for (let i = 0; i < 8; i++) {
      const shopper = (await srv.api('POST', '/v1/shoppers', { displayName: `Sender ${i}` }, null)).json as { token: string };
      const c = await openRoom(srv.base, stream.id);
      c.send({ type: 'auth', token: shopper.token });
      await c.next((f) => f.type === 'auth.ok');
      senders.push(c);
    }
    const reader = await openRoom(srv.base, stream.id);
    const stalled = await openRoom(srv.base, stream.id);
    await stalled.next((f) => f.type === 'room');
    // The stalled client reads nothing more: its kernel buffers fill, then the server's.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const viewers = room.viewers(stream.id);
    const slow0 = room.slowClosed;
    const pad = 'x'.repeat(1900);
    let sent = 0;
    // Bounded: 8 senders x 100 a second (1.6 MB/s) until the stalled socket is closed, at most 30 s.
    for (const end = Date.now() + 30_000; room.slowClosed === slow0 && Date.now() < end;) {
      for (let k = 0; k < 5; k++) for (const c of senders) c.send({ type: 'chat', text: `${sent++} ${pad}` });
      await new Promise((r) => setTimeout(r, 50));
    }
    t.equal(room.slowClosed, slow0 + 1, `the stalled socket was closed as slow after ${sent} messages of 2 KB`);
    t.equal(room.viewers(stream.id), viewers - 1, 'and left the room');
    if (nativeFanout) t.ok(room.fanoutShortWrites > 0, `native writes the kernel took part of went on through libuv (${room.fanoutShortWrites})`);
    const last = `${sent - 1} ${pad}`;
    await reader.next((f) => f.type === 'chat' && f.text === last, 15_000);
    const texts = reader.frames.filter((f) => f.type === 'chat').map((f) => Number((f.text as string).split(' ')[0]));
    const stored: number[] = [];
    for (let after: number | undefined, i = 0; i < 100; i++) {
      const page = await srv.app.store.listRoomMessages(stream.id, { after, limit: 500 });
      if (page.length === 0) break;
      stored.push(...page.map((m) => Number(m.text.split(' ')[0])));
      after = page.at(-1)!.mediaTime;
    }
    t.same(texts, stored, `the reading socket got all ${stored.length} stored messages, whole and in store order`);
    for (const c of [...senders, reader, stalled]) c.ws.terminate();
  });
}
