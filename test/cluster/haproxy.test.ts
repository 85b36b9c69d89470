// The test HAProxy (test/helpers/haproxy.ts) on its own, in front of two stand-in nodes (plain
// HTTP servers answering /healthz with their name, and a TCP server for the RTMP port that says
// its name): both frontends balance over both, the health checks take a dead node out of
// rotation, and a TCP connection refused by a dead node is redispatched to the live one.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { freePort } from '../helpers/free-port.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { waitFor } from '../helpers/server.js';

async function standIn(name: string, host: string): Promise<{ httpPort: number; rtmpPort: number; close(): Promise<void> }> {
  const http: Server = createServer((req, res) => { res.setHeader('x-node', name); res.end(JSON.stringify({ ok: true, name })); });
  // HAProxy's TCP health checks close with a reset: a stand-in's socket may see ECONNRESET while it
  // still writes its name (RTMP's own sockets handle errors; this stand-in must too).
  const tcp = net.createServer((s) => { s.on('error', () => {}); s.end(`${name}\n`); });
  const httpPort = await freePort(host);
  const rtmpPort = await freePort(host);
  await new Promise<void>((r) => http.listen(httpPort, host, r));
  await new Promise<void>((r) => tcp.listen(rtmpPort, host, r));
  return {
    httpPort, rtmpPort,
    close: async () => {
      http.closeAllConnections();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => tcp.close(r))]);
    },
  };
}

function tcpHello(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    let out = '';
    s.on('data', (d) => { out += d.toString(); });
    s.on('end', () => resolve(out.trim()));
    s.on('error', reject);
  });
}

t.test('HAProxy in front: HTTP and TCP balanced, health-checked on /healthz, a dead node out of rotation', async (t) => {
  const host = '127.0.0.1';
  const a = await standIn('node-a', host);
  const b = await standIn('node-b', host);
  let bOpen = true;
  t.teardown(async () => { await a.close(); if (bOpen) await b.close(); });
  const lb = await startHaproxy({ bind: host, servers: [{ name: 'node-a', address: host, ...a }, { name: 'node-b', address: host, ...b }], checkIntervalMs: 200, rise: 1 });
  t.teardown(() => lb.stop());
  t.match(lb.rtmpUrl, /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
  await waitFor(async () => { const s = await lb.serverStates(); return s.http['node-a'] === 'UP' && s.http['node-b'] === 'UP' && s.rtmp['node-b'] === 'UP' ? s : undefined; }, 'both servers UP', 10_000, 100);
  const names = new Set<string>();
  for (let i = 0; i < 6; i++) names.add((await (await fetch(`${lb.httpUrl}/healthz`)).json() as { name: string }).name);
  t.same([...names].sort(), ['node-a', 'node-b'], 'HTTP is spread over both');
  const tcpNames = new Set<string>();
  for (let i = 0; i < 4; i++) tcpNames.add(await tcpHello(lb.rtmpUrl));
  t.same([...tcpNames].sort(), ['node-a', 'node-b'], 'TCP (the RTMP frontend) too');

  await b.close();
  bOpen = false;
  // Before the checks notice, a refused connection is redispatched; after, B is out of rotation.
  for (let i = 0; i < 4; i++) t.equal(await tcpHello(lb.rtmpUrl), 'node-a', 'a TCP connection lands on the live node');
  const down = await waitFor(async () => { const s = await lb.serverStates(); return s.http['node-b']?.startsWith('DOWN') && s.rtmp['node-b']?.startsWith('DOWN') ? s : undefined; }, 'B marked DOWN by the health checks', 10_000, 100);
  t.match(down, { http: { 'node-a': 'UP' }, rtmp: { 'node-a': 'UP' } });
  for (let i = 0; i < 4; i++) t.equal(((await (await fetch(`${lb.httpUrl}/healthz`)).json()) as { name: string }).name, 'node-a', 'HTTP goes to A only');
  t.equal(lb.log().includes('ALERT'), false, `no alert from haproxy: ${lb.log().slice(-500)}`);
});
