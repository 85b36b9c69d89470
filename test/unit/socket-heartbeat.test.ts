import t, { type Test } from 'tap';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SocketHeartbeat, closeSockets } from '../../src/http/socket-heartbeat.js';

/** A real ws server on 127.0.0.1 whose sockets the heartbeat watches; silent records who missed a ping. */
async function harness(t: Test, intervalMs: number): Promise<{ url: string; hb: SocketHeartbeat; accepted: WebSocket[]; silent: WebSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const hb = new SocketHeartbeat(intervalMs);
  const accepted: WebSocket[] = [];
  const silent: WebSocket[] = [];
  wss.on('connection', (ws) => {
    accepted.push(ws);
    hb.add(ws, () => silent.push(ws));
  });
  t.teardown(() => { hb.close(); wss.close(); });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, hb, accepted, silent };
}

t.test('a socket that answers pings stays; one that does not is terminated and reported', async (t) => {
  const h = await harness(t, 50);
  const answering = new WebSocket(h.url);
  const mute = new WebSocket(h.url, { autoPong: false });
  await Promise.all([once(answering, 'open'), once(mute, 'open')]);
  await once(mute, 'close');
  t.equal(h.silent.length, 1, 'one socket reported silent');
  t.equal(h.accepted.indexOf(h.silent[0]!), 1, 'the mute one');
  t.equal(answering.readyState, WebSocket.OPEN, 'the answering socket is still open');
  t.equal(h.hb.size, 1, 'only the answering socket is still watched');
  answering.close();
  await once(answering, 'close');
});

t.test('the watch list empties as sockets close, and closeSockets drains with 1001', async (t) => {
  const h = await harness(t, 10_000);
  const a = new WebSocket(h.url);
  const b = new WebSocket(h.url);
  await Promise.all([once(a, 'open'), once(b, 'open')]);
  t.equal(h.hb.size, 2);
  const codes = [once(a, 'close'), once(b, 'close')];
  await closeSockets(h.accepted, 1000);
  const [[ca], [cb]] = await Promise.all(codes) as [[number], [number]];
  t.same([ca, cb], [1001, 1001], 'both closed with 1001');
  t.equal(h.hb.size, 0, 'closed sockets leave the heartbeat');
});
