import t from 'tap';
import net from 'node:net';
import { encodeAmf0 } from '../../src/ingest/rtmp/amf0.js';
import { startTestServer, waitUntil } from '../helpers/rtmp-harness.js';
import { RtmpTestClient } from '../helpers/rtmp-client.js';

const KEY = 'sk_live_limits_0123';

/** Resolves with how long the server took to close a socket that sends nothing (rejects after `maxMs`). */
function timeToClose(s: net.Socket, maxMs: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not close the socket')), maxMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

t.test('connections per IP and in total are capped', async (t) => {
  const srv = await startTestServer({ limits: { maxConnectionsPerIp: 3 } });
  t.teardown(() => srv.close());
  const socks = await Promise.all(Array.from({ length: 5 }, () => rawConnect(srv.port)));
  t.teardown(() => socks.forEach((s) => s.destroy()));
  await waitUntil(() => srv.server.stats().refusals['limit-per-ip'] === 2, 'two refused');
  t.equal(srv.server.stats().connections, 3);
  // Closing one frees a slot for a newcomer.
  socks[0]!.destroy();
  await waitUntil(() => srv.server.stats().connections === 2, 'slot freed');
  const again = await RtmpTestClient.connect(srv.port);
  t.teardown(() => again.destroy());
  t.equal((await again.connectApp('live')).values![0], '_result', 'a newcomer gets in after one left');

  const total = await startTestServer({ limits: { maxConnections: 2 } });
  t.teardown(() => total.close());
  const more = await Promise.all(Array.from({ length: 3 }, () => rawConnect(total.port)));
  t.teardown(() => more.forEach((s) => s.destroy()));
  await waitUntil(() => total.server.stats().refusals['limit-connections'] === 1, 'server full');
});

t.test('handshake timeout: a silent or half handshake is closed at the limit', async (t) => {
  const srv = await startTestServer({ limits: { handshakeTimeoutMs: 300 } });
  t.teardown(() => srv.close());
  const silent = await rawConnect(srv.port);
  const ms = await timeToClose(silent, 3000);
  t.ok(ms >= 250 && ms < 1500, `silent socket closed after ${ms} ms`);
  const half = await rawConnect(srv.port);
  half.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(700)]));
  const ms2 = await timeToClose(half, 3000);
  t.ok(ms2 >= 250 && ms2 < 1500, `half handshake closed after ${ms2} ms`);
  t.equal(srv.server.stats().refusals['handshake-timeout'], 2);
  t.equal(srv.server.stats().connections, 0);
});

t.test('idle timeout, before and during publishing', async (t) => {
  const srv = await startTestServer({ keys: [KEY], limits: { idleTimeoutMs: 500 } });
  t.teardown(() => srv.close());
  const a = await RtmpTestClient.connect(srv.port);
  await a.connectApp('live');
  const t0 = Date.now();
  await a.closed;
  t.ok(Date.now() - t0 >= 400, 'connected but silent: closed after the idle limit');
  const b = await RtmpTestClient.connect(srv.port);
  await b.connectApp('live');
  await b.publish(KEY);
  // Keep talking for a while: activity defers the timeout.
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 150));
    b.send(6, 9, 1, i * 33, Buffer.from([0x27, 1, 0, 0, 0, 1]));
  }
  t.notOk(b.isClosed, 'an active publisher is kept');
  t.equal(await srv.sinks[0]!.closed, 'idle-timeout', 'then silence ends the publish');
  t.equal(srv.server.stats().refusals['idle-timeout'], 2);
});

t.test('Set Chunk Size above the max, oversized messages and too many chunk streams close the connection', async (t) => {
  const srv = await startTestServer({ keys: [KEY], limits: { maxChunkSize: 8192, maxMessageSize: 256 * 1024, maxChunkStreams: 8 } });
  t.teardown(() => srv.close());

  const a = await RtmpTestClient.connect(srv.port);
  await a.connectApp('live');
  const b = Buffer.alloc(4);
  b.writeUInt32BE(8193);
  a.send(2, 1, 0, 0, b);
  await a.closed;
  t.equal(srv.server.stats().refusals['protocol-error'], 1, 'chunk size over the max is a protocol error');

  // Before a publish, even a command far below maxMessageSize is refused if it is over 64 KiB.
  const c = await RtmpTestClient.connect(srv.port);
  await c.connectApp('live');
  c.write(Buffer.from([0x03, 0, 0, 0, 0x01, 0x90, 0x00, 20, 0, 0, 0, 0])); // header only: 100 KB command
  await c.closed;
  // After a publish, the configured limit: a header declaring 1 MB closes the connection and the sink.
  const d = await RtmpTestClient.connect(srv.port);
  await d.connectApp('live');
  await d.publish(KEY);
  d.write(Buffer.from([0x06, 0, 0, 0, 0x10, 0x00, 0x00, 9, 1, 0, 0, 0]));
  await d.closed;
  t.equal(await srv.sinks[0]!.closed, 'message-too-large');
  t.equal(srv.server.stats().refusals['message-too-large'], 2);

  const e = await RtmpTestClient.connect(srv.port);
  await e.connectApp('live');
  for (let cs = 10; cs < 20; cs++) e.send(cs, 18, 0, 0, encodeAmf0('x'));
  await e.closed;
  t.equal(srv.server.stats().refusals['too-many-chunk-streams'], 1);
});

t.test('command floods and unread replies are bounded', async (t) => {
  const srv = await startTestServer({ limits: { maxPendingConnectCommands: 20 } });
  t.teardown(() => srv.close());
  const a = await RtmpTestClient.connect(srv.port);
  await a.connectApp('live');
  for (let i = 0; i < 30; i++) a.command(0, 'releaseStream', i + 2, null, 'x');
  await a.closed;
  t.equal(srv.server.stats().refusals['too-many-commands'], 1);

  // A peer that asks for pings but never reads the answers.
  const b = await RtmpTestClient.connect(srv.port);
  await b.connectApp('live');
  b.socket.pause();
  const ping = Buffer.alloc(6);
  ping.writeUInt16BE(6, 0);
  const one = Buffer.concat([Buffer.from([0x42, 0, 0, 0, 0, 0, 6, 4]), ping]); // type-1 header on csid 2
  b.send(2, 4, 0, 0, ping);
  const burst = Buffer.concat(Array.from({ length: 20_000 }, () => one));
  for (let i = 0; i < 40 && !b.isClosed; i++) {
    b.write(burst);
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitUntil(() => srv.server.stats().refusals['write-backlog'] === 1, 'write backlog refusal', 10_000);
  b.destroy();
});
