// WHEP playback end to end: a real Chromium page publishes over WHIP through real mediasoup workers
// and other Chromium pages watch over WHEP (fetch + a recvonly RTCPeerConnection); the test reads
// framesDecoded from getStats. Also: coded refusals (unknown stream, not live, broken offers, caps),
// DELETE, a viewer that vanishes, the stream ending, viewers spread to a second worker through
// pipeToRouter past maxConsumersPerWorker, and shutdown. The server is a small fastify with the WHIP
// and WHEP plugins over an in-memory store (the app's wiring is covered by webrtc-ladder).
import t from 'tap';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createLogger } from '../../src/core/logger.js';
import { StreamRegistry } from '../../src/core/stream-registry.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { hashSecret } from '../../src/core/secrets.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { provideAll } from '../../src/http/services.js';
import { loadConfig } from '../../src/config/load-config.js';
import { whipRoutes } from '../../src/ingest/whip/whip-routes.js';
import { whepRoutes } from '../../src/playback/whep/whep-routes.js';
import { WorkerPool } from '../../src/webrtc/worker-pool.js';
import { WhipIngest } from '../../src/ingest/whip/whip-ingest.js';
import { WhepSourceReader } from '../../src/playback/whep/whep-source-reader.js';
import { WhepPlayback } from '../../src/playback/whep/whep-playback.js';
import { LogSink, waitFor } from '../helpers/server.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip, whepWatchFromPage, whipPublishFromPage } from '../helpers/chromium.js';


const skip = webrtcSkip();
if (skip) {
  t.plan(0, skip);
} else {
  await run();
}

type Win = { pc: RTCPeerConnection };

async function run(): Promise<void> {
  const logs = new LogSink();
  const log = createLogger('info', logs);
  const store = openSqliteStore({ file: ':memory:', logger: log });
  const registry = new StreamRegistry({ store, logger: log, reconnectGraceMs: 0 });
  // Two workers: past maxConsumersPerWorker a stream's viewers go to the other one.
  const pool = await WorkerPool.create({ size: 2, logger: log, rtcMinPort: 44000, rtcMaxPort: 44999 });
  const listenInfos = [{ protocol: 'udp' as const, ip: '127.0.0.1' }, { protocol: 'tcp' as const, ip: '127.0.0.1' }];
  const ingest = new WhipIngest({
    registry, pool, logger: log, listenInfos,
    timeouts: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 2000, reconnectGraceMs: 0 },
    iceConsentTimeoutSeconds: 6,
    maxSessions: 4,
  });
  // One audio + one video consumer per viewer: a limit of 2 puts one viewer on each worker.
  const playback = new WhepPlayback({
    pool, logger: log, listenInfos,
    timeouts: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 1000 },
    // A vanished page sends no more consent checks: ICE turns disconnected after this long.
    iceConsentTimeoutSeconds: 6,
    limits: { maxViewers: 20, maxViewersPerStream: 6, maxViewersPerIp: 6, maxConsumersPerWorker: 2 },
    streamExists: async (id) => (await store.getStream(id)) !== undefined,
  });
  // WHEP is a reader of every stream, as the app attaches it: RTP publishers become its sources.
  registry.on('stream', (s) => s.addReader(new WhepSourceReader(playback)));
  const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger });
  installErrorHandling(app);
  await provideAll(app, { config: loadConfig({ env: {} }), whip: ingest, whep: playback });
  await app.register(whipRoutes);
  await app.register(whepRoutes);
  app.get('/', async (_req, reply) => reply.type('text/html').send('<!doctype html><title>whep</title>'));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  t.teardown(async () => {
    await browser.close().catch(() => {});
    playback.close();
    await ingest.close();
    pool.close();
    await app.close();
    await store.close();
  });

  let n = 0;
  const newStream = async (): Promise<{ id: string; key: string }> => {
    const id = `whep${++n}`;
    const key = `sk_test_${n}_${'y'.repeat(20)}`;
    await store.createStream({ id, ownerId: null, title: `whep ${n}`, description: '', streamKeyHash: hashSecret(key), streamKeyPrefix: key.slice(0, 7), state: 'idle', createdAt: Date.now(), startedAt: null, endedAt: null, endReason: null, extra: {} });
    return { id, key };
  };

  /** Publishes from a fresh page (fake camera and microphone, H.264 first) and waits for it to connect. */
  const publish = async (key: string): Promise<{ page: Page; location: string }> => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const r = await whipPublishFromPage(page, key);
    if (r.status !== 201) throw new Error(`WHIP publish failed: ${r.status} ${r.answer}`);
    await waitFor(async () => (await page.evaluate(() => (window as unknown as Win).pc.connectionState)) === 'connected', 'publisher connected', 15000);
    return { page, location: r.location! };
  };

  /** A recvonly offer from a page (audio + video transceivers), without sending it. */
  const viewerOffer = async (page: Page): Promise<string> => page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription!.sdp;
    pc.close();
    return sdp;
  });

  /**
   * Watches a stream over WHEP from a fresh page: POST the offer, apply the answer, then poll getStats
   * (bounded) until video frames are decoded. Returns the time from POST to the first decoded frame.
   */
  const watch = async (streamId: string, wantFrames = true): Promise<{ page: Page; status: number; location: string | null; body: string; firstFrameMs?: number; frames?: number; audioBytes?: number }> => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const r = await whepWatchFromPage(page, streamId, wantFrames);
    return { page, ...r };
  };
  const post = (id: string, body: string, ct = 'application/sdp') => fetch(`${base}/whep/${id}`, { method: 'POST', headers: { 'content-type': ct }, body });
  const consumersOnWorkers = (): number => pool.load().reduce((s, l) => s + l.consumers, 0);

  t.test('refusals are coded: unknown stream 404, not live 409, broken offers 400, unknown session 404', async (t) => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const offer = await viewerOffer(page);
    await page.close();
    let r = await post('nosuchstream', offer);
    t.equal(r.status, 404);
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_NOT_FOUND');
    const idle = await newStream();
    r = await post(idle.id, offer);
    t.equal(r.status, 409, 'a stream that is not live');
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_WHEP_NOT_LIVE');
    r = await post('bad id!', offer);
    t.equal(r.status, 400, 'a malformed stream id');

    const live = await newStream();
    const pub = await publish(live.key);
    t.teardown(() => pub.page.close().catch(() => {}));
    r = await post(live.id, 'v=0\r\nthis is not sdp\r\n');
    t.equal(r.status, 400);
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_BAD_REQUEST');
    r = await post(live.id, offer, 'text/plain');
    t.equal(r.status, 400, 'wrong content type');
    r = await post(live.id, offer.replace(/a=rtcp-mux\r\n/g, ''));
    t.equal(r.status, 400);
    t.match(await r.json(), { error: { code: 'SHOWCASE_ERR_VALIDATION', message: /rtcp-mux/ } });
    r = await post(live.id, offer.replace(/a=recvonly/g, 'a=sendonly'));
    t.equal(r.status, 400, 'an offer that only sends');
    t.match(await r.json(), { error: { code: 'SHOWCASE_ERR_VALIDATION', message: /must receive/ } });
    // Video only, and without the stream's codec (H.264): nothing to play.
    r = await post(live.id, offer.replace(/m=audio[\s\S]*?(?=m=video)/, '').replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 1').replace(/a=rtpmap:\d+ H264[^\r]*\r\n/g, ''));
    t.equal(r.status, 400, 'video only, without the stream\'s codec');
    t.match(await r.json(), { error: { code: 'SHOWCASE_ERR_VALIDATION', message: /cannot receive any/ } });
    r = await fetch(`${base}/whep/nosuchsession`, { method: 'DELETE' });
    t.equal(r.status, 404);
    t.equal((await r.json()).error.code, 'SHOWCASE_ERR_NOT_FOUND');
    t.equal(playback.size, 0, 'no session left behind');
    t.equal(playback.viewers(live.id), 0, 'no reservation left behind');
    t.equal(playback.fanout(live.id)?.edges, 0, 'no edge router left behind');
    registry.end(live.id, 'test over');
    t.notOk(playback.hasSource(live.id), 'the source left with the stream');
  });

  t.test('Chromium watches a WHIP stream over WHEP: frames decoded, audio received; DELETE closes everything', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.teardown(() => pub.page.close().catch(() => {}));
    const before = consumersOnWorkers();
    const v = await watch(id);
    t.teardown(() => v.page.close().catch(() => {}));
    t.equal(v.status, 201, `WHEP answered 201${v.status !== 201 ? `: ${v.body}` : ''}`);
    t.match(v.location, /^\/whep\/[A-Za-z0-9_-]{22}$/);
    t.match(v.body, /a=ice-lite\r\n/);
    t.match(v.body, /a=sendonly\r\n/);
    t.match(v.body, /a=setup:passive\r\n/);
    t.ok((v.frames ?? 0) > 0, `the viewer decoded ${v.frames} frames`);
    t.pass(`WHEP time to first decoded frame: ${v.firstFrameMs} ms (POST to framesDecoded > 0)`);
    const session = playback.get(v.location!.split('/').pop()!)!;
    t.ok(session.connectedAt, 'connected');
    t.same(session.consumers.map((c) => c.kind).sort(), ['audio', 'video']);
    t.ok(session.consumers.every((c) => !c.paused), 'consumers resumed once connected');
    await waitFor(async () => (await v.page.evaluate(async () => { let b = 0; (await (window as unknown as Win).pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') b = s.bytesReceived; }); return b; })) > 1000, 'audio bytes at the viewer', 10000);
    t.equal(consumersOnWorkers() - before, 2 + 2, 'two viewer consumers and two pipe consumers');
    t.equal(playback.viewers(id), 1);

    const del = await fetch(`${base}${v.location}`, { method: 'DELETE' });
    t.equal(del.status, 200, 'DELETE stops watching');
    t.ok(session.closed && session.transport.closed, 'session and transport closed');
    t.ok(session.consumers.every((c) => c.closed), 'consumers closed');
    t.equal(playback.size, 0);
    t.equal(playback.fanout(id)?.edges, 0, 'the edge router closed with its last viewer');
    await waitFor(() => consumersOnWorkers() === before, 'consumers released on the workers', 2000);
    t.equal(registry.get(id)!.state, 'live', 'the stream goes on');
    const again = await fetch(`${base}${v.location}`, { method: 'DELETE' });
    t.equal(again.status, 404, 'a second DELETE finds nothing');
    registry.end(id, 'test over');
  });

  t.test('past maxConsumersPerWorker the next viewer is served from the other worker via pipeToRouter', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.teardown(() => pub.page.close().catch(() => {}));
    const session = ingest.get(pub.location.split('/').pop()!)!;
    const home = pool.slotOf(session.router);
    const a = await watch(id);
    t.teardown(() => a.page.close().catch(() => {}));
    t.equal(a.status, 201);
    const b = await watch(id);
    t.teardown(() => b.page.close().catch(() => {}));
    t.equal(b.status, 201, `second viewer 201${b.status !== 201 ? `: ${b.body}` : ''}`);
    t.ok((a.frames ?? 0) > 0 && (b.frames ?? 0) > 0, `both decode (${a.frames}, ${b.frames} frames; first frame ${a.firstFrameMs} / ${b.firstFrameMs} ms)`);
    const bySlot = playback.fanout(id)!.consumersBySlot();
    t.equal(bySlot.get(home!), 2, 'the first viewer is on the source\'s worker');
    const other = [...bySlot.keys()].find((s) => s !== home);
    t.ok(other !== undefined, 'the second viewer is on another worker');
    t.equal(bySlot.get(other!), 2);
    t.equal(playback.fanout(id)!.edges, 2, 'one edge router per worker');
    // Both workers hold their share now: a third viewer is refused with a code, not squeezed in.
    const c = await watch(id, false);
    t.teardown(() => c.page.close().catch(() => {}));
    t.equal(c.status, 503);
    t.match(JSON.parse(c.body), { error: { code: 'SHOWCASE_ERR_WHEP_FULL', details: { scope: 'workers' } } });
    // The first viewer leaving frees its worker for the next one.
    await fetch(`${base}${a.location}`, { method: 'DELETE' });
    const d = await watch(id);
    t.teardown(() => d.page.close().catch(() => {}));
    t.equal(d.status, 201, 'room again on the source\'s worker');
    t.ok((d.frames ?? 0) > 0, 'and it decodes');
    // The stream ending closes every viewer on both workers.
    registry.end(id, 'test over');
    t.equal(playback.size, 0, 'all viewers closed with the stream');
    t.notOk(playback.hasSource(id));
    await waitFor(() => pool.load().every((l) => l.consumers === 0), 'no consumer left on any worker', 3000);
    t.same(pool.load().map((l) => l.routers), [0, 0], 'no router left on any worker');
  });

  t.test('caps: per address and per stream, coded; a viewer that vanishes is cleaned up', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.teardown(() => pub.page.close().catch(() => {}));
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const offers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => viewerOffer(page)));
    await page.close();
    // A second playback front with tight caps over the same source (the route layer is the same).
    const tight = new WhepPlayback({
      pool, logger: log, listenInfos, timeouts: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 1000 },
      limits: { maxViewers: 100, maxViewersPerStream: 3, maxViewersPerIp: 2, maxConsumersPerWorker: 400 },
    });
    t.teardown(() => tight.close());
    tight.setSource({ streamId: id, router: ingest.get(pub.location.split('/').pop()!)!.router, producers: ingest.get(pub.location.split('/').pop()!)!.producers });
    await tight.play({ streamId: id, offer: offers[0]!, remoteAddress: '192.0.2.1' });
    await tight.play({ streamId: id, offer: offers[1]!, remoteAddress: '192.0.2.1' });
    await t.rejects(tight.play({ streamId: id, offer: offers[2]!, remoteAddress: '192.0.2.1' }), { code: 'SHOWCASE_ERR_WHEP_VIEWER_LIMIT', status: 429 }, 'third from one address');
    await tight.play({ streamId: id, offer: offers[3]!, remoteAddress: '192.0.2.2' });
    await t.rejects(tight.play({ streamId: id, offer: offers[4]!, remoteAddress: '192.0.2.3' }), { code: 'SHOWCASE_ERR_WHEP_FULL', status: 503, details: { scope: 'stream' } }, 'fourth on the stream');
    t.equal(tight.viewers(id), 3);
    tight.close();
    t.equal(tight.size, 0, 'closing the front closes its sessions');
    t.equal(tight.viewers(id), 0);

    // A browser that vanishes (page closed, no DELETE) is noticed by ICE consent and cleaned up.
    const before = consumersOnWorkers();
    const v = await watch(id);
    t.equal(v.status, 201);
    t.ok((v.frames ?? 0) > 0);
    const session = playback.get(v.location!.split('/').pop()!)!;
    await v.page.close();
    const gone = Date.now();
    await waitFor(() => session.closed, 'session closed after the viewer vanished', 15000);
    t.pass(`session closed ${Date.now() - gone} ms after the page vanished: ${session.closeReason}`);
    t.ok(session.transport.closed);
    t.equal(playback.viewers(id), 0);
    t.equal(playback.fanout(id)?.edges, 0, 'its edge router closed');
    await waitFor(() => consumersOnWorkers() <= before, 'its consumers released', 3000);
    registry.end(id, 'test over');
  });

  t.test('shutdown closes viewer sessions and refuses new ones', async (t) => {
    const { id, key } = await newStream();
    const pub = await publish(key);
    t.teardown(() => pub.page.close().catch(() => {}));
    const v = await watch(id, false);
    t.teardown(() => v.page.close().catch(() => {}));
    t.equal(v.status, 201);
    t.equal(playback.size, 1);
    playback.close();
    t.equal(playback.size, 0);
    t.notOk(playback.hasSource(id));
    const page = await browser.newPage();
    const offer = await (async () => { await page.goto(`${base}/`); return viewerOffer(page); })();
    await page.close();
    const late = await post(id, offer);
    t.equal(late.status, 503);
    t.equal((await late.json()).error.code, 'SHOWCASE_ERR_UNAVAILABLE');
    await ingest.close();
    t.same(pool.load().map((l) => l.routers), [0, 0], 'every router closed');
  });
}
