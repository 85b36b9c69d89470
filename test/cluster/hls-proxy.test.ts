// The HLS proxy's bounds against a real upstream HTTP server on 127.0.0.1: headers and body passed
// through (hop-by-hop ones dropped, the loop guard sent), a cap on requests in flight (503), a
// deadline for an answer that never comes (502), and a player that leaves frees its slot.
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { pino } from 'pino';
import { HlsProxy, PROXIED_HEADER } from '../../src/cluster/hls-proxy.js';

async function upstreamServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const srv = createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  return { url, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

t.test('pass-through, cap, deadline, abort', async (t) => {
  const seen: IncomingMessage[] = [];
  const hanging: ServerResponse[] = [];
  const up = await upstreamServer((req, res) => {
    seen.push(req);
    if (req.url!.includes('hang')) { hanging.push(res); return; }
    res.writeHead(200, { 'content-type': 'video/iso.segment', 'cache-control': 'public, max-age=31536000, immutable', 'x-extra': 'kept', connection: 'keep-alive' });
    res.end(Buffer.alloc(5000, 7));
  });
  t.teardown(() => up.close());
  const proxy = new HlsProxy({ selfId: 'node-c', maxConcurrent: 1, timeoutMs: 600, idleTimeoutMs: 600, logger: pino({ level: 'silent' }) });
  t.teardown(() => proxy.close());
  const app = Fastify();
  app.get('/hls/*', (req, reply) => proxy.forward(req, reply, up.url));
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  const r = await fetch(`${base}/hls/s1/180p/s3.m4s?_sid=abc`, { headers: { range: 'bytes=0-9' } });
  const body = Buffer.from(await r.arrayBuffer());
  t.equal(r.status, 200);
  t.equal(body.length, 5000);
  t.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.equal(r.headers.get('content-type'), 'video/iso.segment');
  t.equal(r.headers.get('x-extra'), 'kept');
  t.equal(seen[0]!.url, '/hls/s1/180p/s3.m4s?_sid=abc', 'path and query forwarded');
  t.equal(seen[0]!.headers[PROXIED_HEADER], 'node-c', 'the loop guard names this node');
  t.equal(seen[0]!.headers.range, 'bytes=0-9', 'the range forwarded');
  t.equal(proxy.inFlight, 0);

  // One request hangs upstream: it holds the only slot, so the next one is refused at once.
  const abort = new AbortController();
  const first = fetch(`${base}/hls/s1/180p/index.m3u8?hang=1`, { signal: abort.signal }).catch((err: Error) => err);
  await t.resolves(async () => { for (let i = 0; i < 200 && proxy.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10)); });
  t.equal(proxy.inFlight, 1);
  const busy = await fetch(`${base}/hls/s1/180p/index.m3u8`);
  t.equal(busy.status, 503);
  t.match(await busy.json(), { error: { code: 'SHOWCASE_ERR_CLUSTER_PROXY_BUSY' } });
  t.equal(busy.headers.get('retry-after'), '1');
  // The player leaves: its slot is freed and its upstream request aborted.
  abort.abort();
  t.type(await first, Error);
  await t.resolves(async () => { for (let i = 0; i < 200 && proxy.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10)); });
  t.equal(proxy.inFlight, 0, 'slot freed');

  // An answer that never comes: cut at the deadline with a 502.
  const t0 = Date.now();
  const late = await fetch(`${base}/hls/s1/180p/index.m3u8?hang=2`);
  t.equal(late.status, 502);
  t.match(await late.json(), { error: { code: 'SHOWCASE_ERR_CLUSTER_PROXY_FAILED' } });
  t.ok(Date.now() - t0 >= 550 && Date.now() - t0 < 5000, 'after the deadline');
  t.equal(proxy.failed, 1);
  t.equal(proxy.inFlight, 0);
  for (const res of hanging) res.destroy();

  // An upstream that is gone: a 502, not a hang.
  await up.close();
  const gone = await fetch(`${base}/hls/s1/180p/index.m3u8`);
  t.equal(gone.status, 502);
});
