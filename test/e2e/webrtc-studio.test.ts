// The creator's /studio page end to end: Debian Chromium with a fake camera opens it, types the
// stream key and taps Go live; mediasoup-client publishes over the WebSocket signaling; the stream
// goes live through the registry and comes out as the same LL-HLS ladder (ffprobe decodes it);
// a second page watches over the signaling's viewer side (mediasoup-client) and decodes frames;
// Stop ends the stream. A wrong key is refused with its code on the page.
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startServer, waitFor, getText, getBytes, logsOnFailure } from '../helpers/server.js';
import { expectIngestMeasured } from '../helpers/ingest-metrics.js';
import { ffprobe } from '../helpers/ffmpeg.js';
import { defaultWebAssetsDir } from '../../src/http/watch-routes.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip } from '../helpers/chromium.js';

const built = existsSync(join(defaultWebAssetsDir(), 'studio.html'));
const skip = webrtcSkip() || (!built ? 'studio page not built (npm run build)' : false);

type Hook = { state: string; streamId: string | null; error: { code: string; message: string } | null; codecs: string[]; goLiveMs: number | null; framesEncoded: number;
  camera: { label: string; count: number; switches: number; switching: boolean }; reconnects: number;
  monitor: { state: string; framesDecoded: number; setupMs: number | null; firstFrameMs: number | null } };
const hook = (page: Page): Promise<Hook> => page.evaluate(() => (window as unknown as { __studio: Hook }).__studio);

t.test('the /studio page publishes over the signaling and a second page watches', { skip }, async (t) => {
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 47500, rtcMaxPort: 47999, bridgeMinPort: 34500, bridgeMaxPort: 34999, iceConsentTimeoutSeconds: 6 } });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const { id, streamKey } = await srv.createStream('Studio live');
  // Three fake cameras (a desktop's: they report no facing mode, so Flip goes to the next one).
  // Chromium's fake_device_1 delivers Y16 (depth) frames, which no encoder takes: the test flips
  // past it to fake_device_2 (MJPEG, like a USB webcam).
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS.map((a) => (a === '--use-fake-device-for-media-stream' ? `${a}=device-count=3` : a)) });
  t.teardown(() => browser.close());

  const res = await fetch(`${srv.base}/studio`);
  t.equal(res.status, 200, 'GET /studio');
  t.match(res.headers.get('content-security-policy') ?? '', /connect-src 'self' ws:\/\/127\.0\.0\.1:\d+\/v1\/signal/, 'CSP allows the signaling socket');
  t.match(await res.text(), /name="viewport"[^>]+width=device-width/, 'mobile viewport');

  // A wrong key: refused with its code, the page says so and stays usable.
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('pageerror', (err) => t.fail(`studio page error: ${err.message}`));
  await page.goto(`${srv.base}/studio`);
  await waitFor(async () => (await hook(page)).state === 'preview', 'camera preview', 10000);
  await page.fill('#key', 'sk_wrong');
  await page.click('#go');
  const refused = await waitFor(async () => { const h = await hook(page); return h.state === 'error' ? h : undefined; }, 'bad key refused', 10000);
  t.equal(refused.error?.code, 'SHOWCASE_ERR_RTMP_BAD_KEY', 'an invalid key is refused with its code');
  t.match(await page.textContent('#status'), /not valid/);
  t.equal(srv.app.webrtcPool!.load()[0]!.routers, 0, 'nothing held for the refused key');

  // The right key: Go live. The test keeps the server side of the page's signaling socket, to cut it later.
  let publisherSocket: import('node:net').Socket | undefined;
  srv.app.http.server.on('upgrade', (req: import('node:http').IncomingMessage, sock: import('node:net').Socket) => {
    if (req.url?.startsWith('/v1/signal') && !publisherSocket) publisherSocket = sock;
  });
  await page.fill('#key', streamKey);
  const clicked = Date.now();
  await page.click('#go');
  const live = await waitFor(async () => { const h = await hook(page); return h.state === 'live' ? h : h.state === 'error' ? Promise.reject(new Error(JSON.stringify(h.error))) : undefined; }, 'studio live', 20000);
  t.equal(live.streamId, id, 'the page learns its stream id');
  t.ok(live.codecs.includes('video/H264') || live.codecs.includes('video/VP8'), `video codec ${live.codecs.join(',')}`);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'API says live', 10000);
  const liveMs = Date.now() - clicked;
  t.equal(srv.app.registry.get(id)?.publisher?.protocol, 'webrtc');
  await expectIngestMeasured(t, srv, id, 'studio', { minFps: 5, maxFps: 61, maxKeyframeSeconds: 120 });
  t.equal(srv.app.whip!.size, 1, 'one WebRTC publisher session (shared with WHIP)');
  t.equal(await page.textContent('#share-link'), `${srv.base}/watch/${id}`, 'the page shows the watch link');

  const firstPart = await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return x.status === 200 && /#EXT-X-PART:/.test(x.text) ? Date.now() : undefined;
  }, 'first LL-HLS part', 30000, 50);
  // As a player does: retry a 503 (every rung described by real media yet?) until it is there.
  const master = await waitFor(async () => {
    const m = await getText(`${srv.base}/hls/${id}/master.m3u8`);
    return m.status === 200 ? m : undefined;
  }, 'multivariant playlist', 30000);
  t.equal(master.status, 200, 'multivariant playlist');
  t.match(master.text, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/, 'the same ladder as RTMP and WHIP');
  const pl = await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /\ns\d+\.m4s/.test(x.text) ? x.text : undefined;
  }, 'a complete segment', 45000);
  const seg = /\n(s\d+\.m4s)/.exec(pl)![1]!;
  // The init segment of the run that segment belongs to (the last EXT-X-MAP above it).
  const init = [...pl.slice(0, pl.indexOf(`\n${seg}`)).matchAll(/#EXT-X-MAP:URI="(init\d+\.mp4)"/g)].pop()![1]!;
  const dir = mkdtempSync(join(tmpdir(), 'showcase-studio-'));
  const file = join(dir, 'seg.mp4');
  writeFileSync(file, Buffer.concat([(await getBytes(`${srv.base}/hls/${id}/180p/${init}`)).body, (await getBytes(`${srv.base}/hls/${id}/180p/${seg}`)).body]));
  const probe = await ffprobe(file);
  t.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264', 'ffprobe decodes the video');
  t.equal(probe.streams.find((s) => s.codec_type === 'video')?.height, 180);
  t.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', 'and the audio');

  // A second page watches over the signaling's viewer side.
  const viewer = await browser.newPage();
  viewer.on('pageerror', (err) => t.fail(`monitor page error: ${err.message}`));
  const joinAt = Date.now();
  await viewer.goto(`${srv.base}/studio?view=${id}`);
  const watching = await waitFor(async () => { const h = await hook(viewer); return h.monitor.framesDecoded > 0 ? h : h.monitor.state === 'error' ? Promise.reject(new Error(JSON.stringify(h.error))) : undefined; }, 'viewer decoding frames', 20000, 50);
  const viewerMs = Date.now() - joinAt;
  t.ok(watching.monitor.framesDecoded > 0, `framesDecoded ${watching.monitor.framesDecoded}`);
  t.equal(srv.app.whep!.viewers(id), 1, 'counted against the WebRTC viewer caps');
  t.equal(srv.app.signaling!.counts().viewers, 1);
  await waitFor(() => srv.app.ticker.snapshot(id)?.viewers.webrtc.live === 1, 'the signaling viewer counted as a WebRTC viewer', 5000);
  const tc = srv.app.transcoders.get(id)!;
  if (tc.restarts > 0) t.comment(`studio: the transcoder restarted ${tc.restarts} time(s), ${tc.stalls} of them stalls`);
  t.comment(`studio: Go live click -> API live ${liveMs} ms (page: ${live.goLiveMs} ms), -> first LL-HLS part ${firstPart - clicked} ms; viewer: page open -> framesDecoded>0 ${viewerMs} ms (signaling setup ${watching.monitor.setupMs} ms, first frame ${watching.monitor.firstFrameMs ?? '?'} ms)`);

  // Flip the camera while live: the same producer sends the other camera; the stream, its ONE
  // ffmpeg run and the WebRTC viewer carry on (no renegotiation, no restart).
  const before = await hook(page);
  t.equal(before.camera.count, 3, 'the page sees the cameras');
  t.ok(await page.isVisible('#flip'), 'and offers the switch');
  const pid = tc.pid;
  const edgeBefore = srv.app.origin.get(id)!.timelines.get('180p')!.edge();
  const decodedBefore = (await hook(viewer)).monitor.framesDecoded;
  for (let n = 1; n <= 2; n++) {
    await page.click('#flip');
    await waitFor(async () => { const h = await hook(page); return h.camera.switches === n && !h.camera.switching ? h : undefined; }, `camera switch ${n}`, 10000);
  }
  const flipped = await hook(page);
  t.equal(flipped.camera.label, 'fake_device_2', `now sending "${flipped.camera.label}" (was "${before.camera.label}")`);
  t.equal(flipped.state, 'live', 'still live');
  await waitFor(async () => (await hook(page)).framesEncoded > flipped.framesEncoded + 15, 'the new camera is encoded and sent', 10000);
  await waitFor(() => { const e = srv.app.origin.get(id)!.timelines.get('180p')!.edge(); return e.msn > edgeBefore.msn + 1 ? e : undefined; }, 'the ladder goes on after the switch', 15000);
  await waitFor(async () => (await hook(viewer)).monitor.framesDecoded > decodedBefore + 15, 'the WebRTC viewer keeps decoding', 10000);
  t.equal(tc.pid, pid, 'the same ffmpeg run');
  t.equal(tc.restarts, 0, 'no transcoder restart');
  t.equal(srv.app.whip!.size, 1, 'the same publisher session');

  // The phone's connection drops (a tunnel): its signaling socket dies without a goodbye. The
  // server holds the stream for its reconnect grace, the page goes live again by itself, and the
  // same stream continues: a new transcoder run after a discontinuity, the same playlists.
  const dropAt = Date.now();
  publisherSocket!.destroy();
  await waitFor(async () => (await hook(page)).state === 'reconnecting', 'the page says it is reconnecting', 10000, 50);
  const back = await waitFor(async () => { const h = await hook(page); return h.state === 'live' && h.reconnects === 1 ? h : h.state === 'error' ? Promise.reject(new Error(JSON.stringify(h.error))) : undefined; }, 'live again', 20000, 50);
  const backMs = Date.now() - dropAt;
  t.equal(back.streamId, id, 'the same stream');
  t.equal((await srv.api('GET', `/v1/streams/${id}`)).json.state, 'live', 'live throughout');
  t.equal(srv.app.whip!.size, 1, 'one publisher session again');
  const continued = await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init\d+\.mp4"[\s\S]*#EXT-X-PART:/.test(x.text) ? x.text : undefined;
  }, 'the same playlist continues after a discontinuity', 30000);
  t.notMatch(continued, /ENDLIST/, 'no ENDLIST');
  t.comment(`studio: connection dropped -> live again in ${backMs} ms`);

  // Stop: the stream ends at once (no reconnect grace), the viewer is told, the playlists end.
  await page.click('#stop');
  await waitFor(async () => (await hook(page)).state === 'stopped', 'page stopped', 10000);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'ended', 'stream ended', 10000);
  await waitFor(async () => (await hook(viewer)).monitor.state === 'ended', 'the viewer is told', 10000);
  await waitFor(async () => (await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).text.includes('#EXT-X-ENDLIST'), 'ENDLIST', 15000);
  await waitFor(() => srv.app.whep!.viewers(id) === 0 && srv.app.whip!.size === 0, 'viewer place and publisher released', 5000);
  await waitFor(() => (srv.app.ticker.snapshot(id)?.viewers.webrtc.live ?? 0) === 0, 'no longer counted once it left', 5000);
  t.match(await page.textContent('#status'), /Stream ended/);
});
