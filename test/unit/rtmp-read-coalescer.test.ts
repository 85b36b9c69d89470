import t, { type Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { ReadCoalescer } from '../../src/ingest/rtmp/read-coalescer.js';
import { loadConfig } from '../../src/config/load-config.js';

/** A connected pair on loopback: the server side is where reads are held. */
async function pair(t: Test): Promise<{ server: net.Socket; client: net.Socket }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [server] = await accepted;
  t.teardown(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

const write = (s: net.Socket, b: Buffer) => new Promise<void>((resolve, reject) => s.write(b, (err) => (err ? reject(err) : resolve())));
/** Lets the event loop run a few turns (poll phases included), so a socket that is reading would read. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

t.test('a held socket reads nothing until the tick, then everything queued in one read', async (t) => {
  const { server, client } = await pair(t);
  const holdMs = 200;
  const c = new ReadCoalescer(holdMs);
  const reads: Buffer[] = [];
  server.on('data', (d: Buffer) => reads.push(d));

  const first = once(server, 'data');
  await write(client, Buffer.alloc(100, 1));
  await first;
  const heldAt = performance.now();
  c.hold(server);
  t.equal(c.holds, 1, 'held');

  // Ten separate bursts, each handed to the kernel (and read at once by a socket that reads).
  for (let i = 0; i < 10; i++) {
    await write(client, Buffer.alloc(500, i + 2));
    await turns(3);
  }
  t.equal(reads.length, 1, 'no read while held');

  const next = once(server, 'data') as Promise<[Buffer]>;
  const [d] = await next;
  const waited = performance.now() - heldAt;
  t.equal(d.length, 5000, 'the ten bursts arrive in one read');
  t.ok(waited < holdMs + 2000, `released by the tick (${waited.toFixed(0)} ms)`);

  // Not held again: bursts are read as they come.
  await write(client, Buffer.alloc(7, 9));
  const [again] = (await once(server, 'data')) as [Buffer];
  t.equal(again.length, 7, 'reads resume normally');
  c.close();
});

t.test('holdMs 0 never stops reading; a closed coalescer holds nothing', async (t) => {
  const { server } = await pair(t);
  const off = new ReadCoalescer(0);
  off.hold(server);
  t.equal(off.holds, 0, 'disabled');
  const closed = new ReadCoalescer(50);
  closed.close();
  closed.hold(server);
  t.equal(closed.holds, 0, 'closed');
});

t.test('a socket that closes while held is forgotten; close() restarts the rest', async (t) => {
  const a = await pair(t);
  const b = await pair(t);
  const c = new ReadCoalescer(60_000);
  c.hold(a.server);
  c.hold(b.server);
  c.hold(b.server);
  t.equal(c.holds, 2, 'a socket is held once per tick');
  c.forget(a.server);
  a.server.destroy();
  const got = once(b.server, 'data') as Promise<[Buffer]>;
  await write(b.client, Buffer.from('after close'));
  c.close();
  const [d] = await got;
  t.equal(d.toString(), 'after close', 'close() released the held socket');
});

t.test('the configured hold is bounded to one frame at 30 fps', async (t) => {
  t.equal(loadConfig({ env: {} }).rtmp.readCoalesceMs, 33, 'default one frame at 30 fps');
  t.equal(loadConfig({ env: {}, overrides: { rtmp: { readCoalesceMs: 33 } } }).rtmp.readCoalesceMs, 33, 'one frame accepted');
  t.throws(() => loadConfig({ env: {}, overrides: { rtmp: { readCoalesceMs: 34 } } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' }, 'more than one frame rejected');
});
