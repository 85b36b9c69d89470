import t from 'tap';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { RoomOutbox, textFrame } from '../../src/room/room-outbox.js';

// ws's frame parser, as its clients use it (exported by ws, not declared by @types/ws).
const { Receiver } = ws as unknown as { Receiver: new (o: { isServer: boolean; maxPayload: number }) => Writable };

/** Decodes server frames with ws's Receiver: the texts, in order. */
function decode(data: Buffer): string[] {
  const texts: string[] = [];
  const r = new Receiver({ isServer: false, maxPayload: 1 << 20 });
  r.on('message', (d: Buffer, isBinary: boolean) => texts.push(`${isBinary ? 'binary:' : ''}${d.toString()}`));
  r.on('error', (err: Error) => texts.push(`error: ${err.message}`));
  r.write(data);
  return texts;
}

t.test('textFrame: 7-bit, 16-bit and 64-bit lengths read back by a WebSocket parser', async (t) => {
  for (const n of [0, 1, 125, 126, 65_535, 65_536, 70_000]) {
    const text = 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2);
    t.same(decode(textFrame(Buffer.from(text))), [text], `${n} bytes`);
  }
});

t.test('RoomOutbox: one buffer for all events, a tail for a socket that joined mid-batch, empty after take', async (t) => {
  const box = new RoomOutbox<{ n: number }>();
  t.equal(box.length, 0);
  box.push({ n: 1 }, '{"n":1}');
  box.push({ n: 2 }, JSON.stringify({ n: 2, text: 'ü'.repeat(200) }));
  box.push({ n: 3 }, '{"n":3}');
  t.same(box.eventsFrom(1), [{ n: 2 }, { n: 3 }], 'events from an index');
  const b = box.take();
  t.equal(box.length, 0, 'emptied');
  t.same(b.events, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  t.same(decode(b.data).map((x) => JSON.parse(x).n), [1, 2, 3], 'every frame, in order, in one buffer');
  t.same(decode(b.data.subarray(b.offsets[2])), ['{"n":3}'], 'the tail from an event on');
  t.same(decode(b.data.subarray(b.offsets[1])).map((x) => JSON.parse(x).n), [2, 3]);
  box.push({ n: 4 }, '{"n":4}');
  t.same(decode(box.take().data), ['{"n":4}'], 'a single event: its own frame');
});
