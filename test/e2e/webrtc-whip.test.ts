// WHIP ingest end to end: a real Chromium (fake camera and microphone) publishes through a real
// mediasoup worker; the stream goes live through the registry as with RTMP; the producer counts
// bytes; a real ffmpeg reads the RTP bridge's SDP and decodes video frames; bad keys and broken
// offers get coded errors; DELETE ends the stream; a vanished phone leaves it reconnecting; shutdown
// closes every session. The server is a small fastify with only the WHIP plugin and a registry over
// an in-memory store (the app's wiring is tested elsewhere).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { chromium, type Page } from 'playwright-core';
import { createLogger } from '../../src/core/logger.js';
import { StreamRegistry } from '../../src/core/stream-registry.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { hashSecret } from '../../src/core/secrets.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { provideAll } from '../../src/http/services.js';
import { loadConfig } from '../../src/config/load-config.js';
import { whipRoutes } from '../../src/ingest/whip/whip-routes.js';
import { WorkerPool } from '../../src/webrtc/worker-pool.js';
import { WhipIngest } from '../../src/ingest/whip/whip-ingest.js';
import { LogSink, waitFor } from '../helpers/server.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip, whipPublishFromPage } from '../helpers/chromium.js';


const skip = webrtcSkip();
if (skip) {
  t.plan(0, skip);
} else {
  await run();
}

async function run(): Promise<void> {
  const logs = new LogSink();
  const log = createLogger('info', logs);
  const store = openSqliteStore({ file: ':memory:', logger: log });
  const registry = new StreamRegistry({ store, logger: log, reconnectGraceMs: 20_000 });
  const pool = await WorkerPool.create({ size: 1, logger: log, rtcMinPort: 42000, rtcMaxPort: 42999 });
  const ingest = new WhipIngest({
    registry, pool, logger: log,
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }, { protocol: 'tcp', ip: '127.0.0.1' }],
    timeouts: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 2000, reconnectGraceMs: 20_000 },
    // A vanished page sends nothing more: ICE consent expires after this long without checks.
    iceConsentTimeoutSeconds: 6,
    maxSessions: 4,
    keyExists: async (key) => (await store.getStreamByKeyHash(hashSecret(key))) !== undefined,
  });
  const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger });
  installErrorHandling(app);
  await provideAll(app, { config: loadConfig({ env: {} }), whip: ingest });
  await app.register(whipRoutes);
  app.get('/', async (_req, reply) => reply.type('text/html').send('<!doctype html><title>publisher</title>'));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  const dir = mkdtempSync(join(tmpdir(), 'showcase-whip-'));
  t.teardown(async () => {
    await browser.close().catch(() => {});
    await ingest.close();
    pool.close();
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const newStream = async (): Promise<{ id: string; key: string }> => {
    const id = `whip${++n}`;
    const key = `sk_test_${n}_${'x'.repeat(20)}`;
    await store.createStream({ id, ownerId: null, title: `whip ${n}`, description: '', streamKeyHash: hashSecret(key), streamKeyPrefix: key.slice(0, 7), state: 'idle', createdAt: Date.now(), startedAt: null, endedAt: null, endReason: null, extra: {} });
    return { id, key };
  };

  /** Publishes from a fresh page: getUserMedia (fake devices), H.264 first, WHIP POST, answer applied. */
  const publish = async (key: string): Promise<{ page: Page; status: number; location: string | null; answer: string }> => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const r = await whipPublishFromPage(page, key);
    return { page, ...r };
  };
  const pcState = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.connectionState);
  const post = (body: string, headers: Record<string, string>) => fetch(`${base}/whip`, { method: 'POST', headers, body });

  t.test('refusals: no key 401, unknown key 403, broken offer 400, all coded', async (t) => {
    const { key } = await newStream();
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const offer = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio', { direction: 'sendonly' });
      pc.addTransceiver('video', { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription!.sdp;
    });
    await page.close();
    const sdp = { 'content-type': 'application/sdp' };
    let r = await post(offer, sdp);
    t.equal(r.status, 401);
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_UNAUTHORIZED');
    r = await post(offer, { ...sdp, authorization: 'Bearer sk_not_a_key_at_all' });
    t.equal(r.status, 403);
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_RTMP_BAD_KEY');
    r = await post('v=0\r\nthis is not sdp\r\n', { ...sdp, authorization: `Bearer ${key}` });
    t.equal(r.status, 400);
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_BAD_REQUEST');
    r = await post(offer.replace(/a=rtcp-mux\r\n/g, ''), { ...sdp, authorization: `Bearer ${key}` });
    t.equal(r.status, 400);
    t.match(await r.json(), { error: { code: 'SHOWCASE_ERR_VALIDATION', message: /rtcp-mux/ } });
    r = await post(offer, { 'content-type': 'text/plain', authorization: `Bearer ${key}` });
    t.equal(r.status, 400, 'wrong content type');
    r = await fetch(`${base}/whip/nosuchsession`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
    t.equal(r.status, 404);
    t.equal(ingest.size, 0, 'no session was left behind');
    t.same(pool.load().map((l) => l.routers), [0], 'no router was left behind');
  });

  t.test('Chromium publishes H.264 + Opus over WHIP; ffmpeg decodes the bridged RTP; DELETE ends the stream', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.teardown(() => pub.page.close().catch(() => {}));
    t.equal(pub.status, 201, `WHIP answered 201${pub.status !== 201 ? `: ${pub.answer}` : ''}`);
    t.match(pub.location, /^\/whip\/[A-Za-z0-9_-]{22}$/);
    t.match(pub.answer, /a=ice-lite\r\n/);
    t.match(pub.answer, /a=setup:passive\r\n/);
    const stream = registry.get(id)!;
    t.equal(stream.state, 'live', 'the stream went live through the registry');
    t.equal(stream.publisher?.protocol, 'webrtc');
    t.equal((await store.getStream(id))!.state, 'live', 'state persisted');
    await waitFor(async () => (await pcState(pub.page)) === 'connected', 'browser connected', 15000);
    const session = ingest.get(pub.location!.split('/').pop()!)!;
    t.ok(session.handle.isAlive(), 'publisher handle alive once ICE and DTLS connect');
    t.same(session.producers.map((p) => p.kind).sort(), ['audio', 'video']);
    t.equal(session.producers.find((p) => p.kind === 'video')!.rtpParameters.codecs[0]!.mimeType, 'video/H264', 'H.264 chosen');
    const videoBytes = await waitFor(async () => {
      const s = await session.producers.find((p) => p.kind === 'video')!.getStats();
      const b = s.reduce((n, x) => n + (x.byteCount ?? 0), 0);
      return b > 20_000 ? b : undefined;
    }, 'video bytes at the producer', 15000);
    t.ok(videoBytes > 20_000, `producer received ${videoBytes} video bytes`);
    const media = stream.media!;
    t.equal(media.form, 'rtp', 'the publisher declares RTP media');
    t.same(media.tracks, [{ kind: 'video', codec: 'h264' }, { kind: 'audio', codec: 'opus' }], 'and its tracks');
    const input = media.form === 'rtp' ? media.rtp : undefined!;
    t.equal(input.router, session.router, 'on the session\'s router');
    t.same(input.producers.map((p) => p.id).sort(), session.producers.map((p) => p.id).sort(), 'with its producers');
    t.match(input.sdp, /m=video \d+ RTP\/AVP \d+\na=rtcp:\d+\na=rtpmap:\d+ H264\/90000\n/);
    t.match(input.sdp, /m=audio \d+ RTP\/AVP \d+\na=rtcp:\d+\na=rtpmap:\d+ opus\/48000\/2\n/);

    // ffmpeg reads the bridge's SDP from a file, as the transcoder would (it uses stdin).
    const sdpFile = join(dir, 'stream.sdp');
    writeFileSync(sdpFile, input.sdp);
    const ff = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, '-map', '0:v', '-map', '0:a', '-frames:v', '45', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ff.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    t.teardown(() => ff.kill('SIGKILL'));
    const ask = setInterval(() => input.requestKeyFrame(), 500);
    input.requestKeyFrame();
    const started = Date.now();
    const code = await new Promise<number | null>((res) => {
      const timer = setTimeout(() => { ff.kill('SIGKILL'); }, 30_000);
      ff.on('exit', (c) => { clearTimeout(timer); res(c); });
    });
    clearInterval(ask);
    const frames = Math.max(0, ...[...err.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1])));
    t.equal(code, 0, `ffmpeg exited cleanly${code !== 0 ? `: ${err.slice(-800)}` : ''}`);
    t.ok(frames >= 45, `ffmpeg decoded ${frames} video frames in ${Date.now() - started} ms`);
    t.match(err, /Video: h264/, 'ffmpeg sees H.264');
    t.match(err, /Audio: opus/, 'and Opus');

    const del = await fetch(`${base}${pub.location}`, { method: 'DELETE', headers: { authorization: 'Bearer sk_wrong_key_xxxxxxxxxxxxxxxx' } });
    t.equal(del.status, 404, 'DELETE with another key is refused');
    const ok = await fetch(`${base}${pub.location}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
    t.equal(ok.status, 200, 'DELETE with the key stops publishing');
    t.equal(stream.state, 'ended', 'the stream ended, as with an RTMP unpublish');
    t.equal((await store.getStream(id))!.state, 'ended');
    t.equal(stream.media, undefined, 'the RTP media is withdrawn with the publisher');
    t.ok(session.closed && session.transport.closed && session.router.closed, 'session, transport and router closed');
    t.equal(ingest.size, 0);
  });

  t.test('a second publisher is refused while the first is alive; a vanished phone leaves the stream reconnecting', async (t) => {
    const { id, key } = await newStream();
    const first = await publish(key);
    t.equal(first.status, 201);
    await waitFor(async () => (await pcState(first.page)) === 'connected', 'browser connected', 15000);
    const second = await publish(key);
    t.equal(second.status, 409, 'already publishing');
    t.match(JSON.parse(second.answer), { error: { code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' } });
    await second.page.close();
    const session = ingest.get(first.location!.split('/').pop()!)!;
    await first.page.close();
    const gone = Date.now();
    await waitFor(() => session.closed, 'session closed after the page vanished', 20000);
    t.pass(`session closed ${Date.now() - gone} ms after the page vanished: ${session.closeReason}`);
    const stream = registry.get(id)!;
    t.equal(stream.publisher, undefined, 'publisher detached');
    t.equal(stream.state, 'live', 'the stream waits for a reconnect');
    t.ok(stream.reconnectDeadline, 'within the reconnect grace');
    // The phone comes back within the grace period: the same stream continues.
    const again = await publish(key);
    t.equal(again.status, 201, 'reconnect accepted');
    t.equal(registry.get(id)!.publisher?.protocol, 'webrtc');
    t.equal(registry.get(id)!.state, 'live');
    // Shutdown closes every session and the stream ends.
    registry.end(id, 'server stopping');
    t.equal(ingest.size, 0, 'ending the stream closed its session');
    await again.page.close();
  });

  t.test('a worker that dies takes its sessions down; the stream waits, and a re-POST lands on the replacement', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.equal(pub.status, 201);
    await waitFor(async () => (await pcState(pub.page)) === 'connected', 'browser connected', 15000);
    const session = ingest.get(pub.location!.split('/').pop()!)!;
    const replaced = new Promise<{ pid: number }>((res) => pool.once('workerreplaced', res));
    const pid = pool.load()[0]!.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => session.closed, 'session closed with its worker', 5000);
    t.match(session.closeReason, /died/, `session closed: ${session.closeReason}`);
    t.equal(registry.get(id)!.state, 'live', 'the stream waits for the phone to reconnect');
    t.equal(registry.get(id)!.publisher, undefined);
    const next = await replaced;
    t.not(next.pid, pid, 'a new worker runs');
    await pub.page.close();
    const again = await publish(key);
    t.equal(again.status, 201, 'the phone re-publishes on the new worker');
    await waitFor(async () => (await pcState(again.page)) === 'connected', 'browser connected again', 15000);
    registry.end(id, 'test over');
    t.equal(ingest.size, 0);
    await again.page.close();
  });

  t.test('shutdown closes live sessions', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.equal(pub.status, 201);
    t.equal(ingest.size, 1);
    await ingest.close();
    t.equal(ingest.size, 0);
    t.equal(registry.get(id)!.state, 'ended');
    const late = await post(pub.answer, { 'content-type': 'application/sdp', authorization: `Bearer ${key}` });
    t.equal(late.status, 503, 'after close new offers are refused');
    t.equal((await late.json()).error.code, 'SHOWCASE_ERR_UNAVAILABLE');
    await pub.page.close();
    t.same(pool.load().map((l) => l.routers), [0], 'every router closed');
  });
}
