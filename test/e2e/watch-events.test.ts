// The watch page's server side without media: the page HTML, its assets, and the bounded
// server-sent 'state' feed, on a real registry and store (no ffmpeg, no browser).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { watchRoutes, defaultWebAssetsDir } from '../../src/http/watch-routes.js';
import { webAssets } from '../../src/http/web-assets.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { provideAll } from '../../src/http/services.js';
import { loadConfig } from '../../src/config/load-config.js';
import { StreamRegistry } from '../../src/core/stream-registry.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { generateSecret, hashSecret } from '../../src/core/secrets.js';
import type { PublisherHandle } from '../../src/core/live-stream.js';
import { ensureWebBuilt } from '../helpers/web-build.js';

const root = join(import.meta.dirname, '..', '..');
const assetsDir = mkdtempSync(join(tmpdir(), 'showcase-web-'));
ensureWebBuilt(assetsDir);

const log = pino({ level: 'silent' });
const store = openSqliteStore({ file: ':memory:' });
const registry = new StreamRegistry({ store, logger: log, reconnectGraceMs: 0 });
const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger });
installErrorHandling(app);
await app.register(webAssets, { assetsDir, pages: ['watch'] });
const config = loadConfig({ env: {} });
await provideAll(app, { config, store, registry });
await app.register(watchRoutes, { assetsDir, publicBaseUrl: '', maxSsePerStream: 3, maxSseTotal: 4, heartbeatMs: 200 });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const base = `http://127.0.0.1:${port}`;
t.teardown(async () => {
  await app.close();
  await store.close();
  rmSync(assetsDir, { recursive: true, force: true });
});

let n = 0;
async function createStream(title: string, ownerId: string | null = null): Promise<{ id: string; key: string }> {
  const key = generateSecret('sk_', 24);
  const id = `s${++n}${Date.now().toString(36)}`;
  await store.createStream({ id, ownerId, title, description: '', streamKeyHash: hashSecret(key), streamKeyPrefix: key.slice(0, 7), state: 'idle', createdAt: Date.now(), startedAt: null, endedAt: null, endReason: null, extra: {} });
  return { id, key };
}

function publisher(): PublisherHandle {
  return { id: `p${Math.random()}`, protocol: 'rtmp', remoteAddress: '127.0.0.1', media: { form: 'packets', tracks: [] }, isAlive: () => true, close: () => {} };
}

/** An open event stream: parsed 'state' events and comment lines as they arrive. */
interface Sse {
  status: number;
  headers: IncomingMessage['headers'];
  states: Array<{ state: string; startedAt: string | null; endedAt: string | null }>;
  comments: number;
  body: string;
  close(): void;
  next(pred: () => boolean, ms?: number): Promise<void>;
}

function openSse(id: string): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/streams/${id}/events`, { headers: { accept: 'text/event-stream' } }, (res) => {
      const sse: Sse = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        states: [],
        comments: 0,
        body: '',
        close: () => req.destroy(),
        next: (pred, ms = 3000) => new Promise<void>((ok, fail) => {
          const start = Date.now();
          const check = (): void => {
            if (pred()) return ok();
            if (Date.now() - start > ms) return fail(new Error(`event stream: condition not met within ${ms} ms; got ${sse.body.slice(-300)}`));
            setTimeout(check, 20);
          };
          check();
        }),
      };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        sse.body += d;
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (block.startsWith(':')) sse.comments++;
          const data = /^data: (.*)$/m.exec(block);
          if (/^event: state$/m.test(block) && data) sse.states.push(JSON.parse(data[1]!));
        }
      });
      res.on('error', () => {});
      resolve(sse);
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('the page: title and creator rendered (escaped), hashed assets, no secrets', async (t) => {
  const creator = await store.createCreator({ id: 'c1', handle: 'alice', displayName: 'Alice <Shop>', tokenHash: hashSecret('x'), disabled: false, createdAt: Date.now() });
  const s = await createStream('Spring <script>alert(1)</script> & "sale"', creator.id);
  const res = await fetch(`${base}/watch/${s.id}`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html/);
  t.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  const html = await res.text();
  t.match(html, '<h1 class="title">Spring &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;sale&quot;</h1>');
  t.match(html, '<p class="creator">Alice &lt;Shop&gt;</p>');
  t.notMatch(html, '<script>alert(1)</script>', 'no raw markup from the title anywhere');
  t.notMatch(html, s.key, 'the stream key never reaches the page');
  t.notMatch(html, hashSecret(s.key), 'nor its hash');
  const cfg = JSON.parse(/<script type="application\/json" id="showcase-config">(.*?)<\/script>/s.exec(html)![1]!);
  t.match(cfg, { id: s.id, state: 'idle', hls: `/hls/${s.id}/master.m3u8`, events: `/v1/streams/${s.id}/events`, creator: { displayName: 'Alice <Shop>', handle: 'alice' } });
  const js = /<script defer src="(\/assets\/watch\/watch-[A-Z0-9]+\.js)"><\/script>/.exec(html)?.[1];
  const css = /<link rel="stylesheet" href="(\/assets\/watch\/watch-[A-Z0-9]+\.css)">/.exec(html)?.[1];
  t.ok(js && css, 'hashed script and stylesheet linked');
  const a = await fetch(base + js!, { headers: { 'accept-encoding': 'br' } });
  t.equal(a.status, 200);
  t.match(a.headers.get('cache-control'), /immutable/);
  t.match(a.headers.get('content-type'), /javascript/);
  t.ok((await a.text()).includes('lowLatencyMode'), 'hls.js bundled in (decompressed by fetch)');
  const plain = await new Promise<{ status: number; enc: string | undefined }>((ok) => request(base + css!, (r) => { r.resume(); ok({ status: r.statusCode!, enc: r.headers['content-encoding'] }); }).end());
  t.same(plain, { status: 200, enc: undefined }, 'identity when no encoding is accepted');
  t.equal((await fetch(`${base}/assets/watch/..%2Fmanifest.json`)).status, 404);
  t.equal((await fetch(`${base}/assets/watch/manifest.json`)).status, 404, 'only the built files are served');
  t.equal((await fetch(`${base}/watch/nope`)).status, 404);
  t.equal((await fetch(`${base}/watch/..%2F..`)).status, 404);
});

t.test('event stream: state at connect, live and ended pushed, heartbeats, cleanup', async (t) => {
  const s = await createStream('Events');
  t.equal((await fetch(`${base}/v1/streams/nope/events`)).status, 404);
  const a = await openSse(s.id);
  t.equal(a.status, 200);
  t.match(a.headers['content-type'], /^text\/event-stream/);
  t.equal(a.headers['cache-control'], 'no-store');
  await a.next(() => a.states.length === 1);
  t.same(a.states[0], { state: 'idle', startedAt: null, endedAt: null }, 'current state at connect');

  const decision = await registry.authorizePublish(s.key, publisher());
  t.ok(decision.ok);
  await a.next(() => a.states.length === 2);
  t.equal(a.states[1]!.state, 'live');
  t.ok(a.states[1]!.startedAt, 'startedAt with the live event');
  const b = await openSse(s.id);
  await b.next(() => b.states.length === 1);
  t.equal(b.states[0]!.state, 'live', 'a late page gets live at connect');
  await a.next(() => a.comments >= 2, 2000);
  t.pass('heartbeat comments arrive');

  registry.end(s.id, 'publisher stopped');
  await a.next(() => a.states.length === 3);
  await b.next(() => b.states.length === 2);
  t.equal(a.states[2]!.state, 'ended');
  t.ok(a.states[2]!.endedAt);
  t.notMatch(a.body, s.key);

  a.close();
  b.close();
  // The server forgets closed clients: the per-stream cap is free again.
  await new Promise((r) => setTimeout(r, 200));
  const again = await Promise.all([openSse(s.id), openSse(s.id), openSse(s.id)]);
  t.same(again.map((x) => x.status), [200, 200, 200], 'closed connections no longer count');
  again.forEach((x) => x.close());
});

t.test('event stream caps: per stream and server-wide, 503 with Retry-After', async (t) => {
  const s1 = await createStream('Cap 1');
  const s2 = await createStream('Cap 2');
  // Let the previous test's closed sockets be seen by the server.
  await new Promise((r) => setTimeout(r, 200));
  const open = [await openSse(s1.id), await openSse(s1.id), await openSse(s1.id)];
  t.same(open.map((x) => x.status), [200, 200, 200]);
  const refused = await fetch(`${base}/v1/streams/${s1.id}/events`);
  t.equal(refused.status, 503, 'fourth connection to one stream refused (cap 3)');
  t.equal(refused.headers.get('retry-after'), '10');
  t.match(await refused.json(), { error: { code: 'SHOWCASE_ERR_UNAVAILABLE' } });
  open.push(await openSse(s2.id));
  t.equal(open[3]!.status, 200);
  const total = await fetch(`${base}/v1/streams/${s2.id}/events`);
  t.equal(total.status, 503, 'fifth connection on the server refused (cap 4)');
  await total.text();
  open[0]!.close();
  await new Promise((r) => setTimeout(r, 200));
  const after = await openSse(s2.id);
  t.equal(after.status, 200, 'a slot frees when a page leaves');
  after.close();
  open.forEach((x) => x.close());
});

t.test('server close ends open event streams instead of hanging', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'showcase-web-'));
  const app2 = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger });
  await provideAll(app2, { config, store, registry });
  await app2.register(watchRoutes, { assetsDir: dir, publicBaseUrl: 'https://cdn.example.com/' });
  await app2.listen({ host: '127.0.0.1', port: 0 });
  const s = await createStream('Closing');
  const p2 = (app2.server.address() as { port: number }).port;
  const ended = new Promise<void>((ok) => {
    request(`http://127.0.0.1:${p2}/v1/streams/${s.id}/events`, (res) => { res.resume(); res.on('end', ok); res.on('close', ok); }).end();
  });
  await new Promise((r) => setTimeout(r, 100));
  const page = await fetch(`http://127.0.0.1:${p2}/watch/${s.id}`);
  t.equal(page.status, 503, 'page not built in this folder: 503, not a crash');
  await page.text();
  const t0 = Date.now();
  await app2.close();
  await ended;
  t.ok(Date.now() - t0 < 3000, 'close did not wait for the event stream');
  rmSync(dir, { recursive: true, force: true });
});

t.test('defaultWebAssetsDir points at dist/web in the project', async (t) => {
  t.equal(defaultWebAssetsDir(), join(root, 'dist', 'web'));
});
