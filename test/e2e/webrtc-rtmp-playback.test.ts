// RTMP-published streams watched over WebRTC, the whole app: a real ffmpeg publishes RTMP, a Debian
// Chromium page POSTs /whep/<id>; the stream's WebRTC feed (a second ffmpeg: FLV in, H.264 baseline +
// Opus RTP out, into mediasoup PlainTransports) starts on that first viewer. The test reads
// framesDecoded and audio bytes from getStats, checks the HLS ladder still decodes, that the feed's
// ffmpeg stops after the idle grace once the viewer left, and that the stream ending closes viewers.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, waitFor, getText, getBytes } from '../helpers/server.js';
import { publishRtmp, decodeFrames, processAlive } from '../helpers/ffmpeg.js';
import type { Config } from '../../src/config/schema.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip, whepWatchFromPage } from '../helpers/chromium.js';
import { processCpuSeconds } from '../../src/core/proc-stat.js';

const skip = webrtcSkip();
const IDLE_STOP_MS = 1500;

type Win = { pc: RTCPeerConnection };


t.test('RTMP streams play over WHEP through an on-demand RTP encode', { skip }, async (t) => {
  const srv = await startServer({
    streams: { reconnectGraceMs: 0 },
    webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 45000, rtcMaxPort: 45999, bridgeMinPort: 32000, bridgeMaxPort: 32999, iceConsentTimeoutSeconds: 6,
      rtmpPlayback: { idleStopMs: IDLE_STOP_MS, x264Preset: 'ultrafast' } as Config['webrtc']['rtmpPlayback'] },
  });
  t.teardown(() => srv.close());
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  t.teardown(() => browser.close());
  const whep = srv.app.whep!;
  const feeds = srv.app.rtmpFeeds!;
  t.ok(feeds, 'RTMP playback is on by default');

  /** Watches a stream from a fresh page; resolves once frames decode (or with the refusal). */
  const watch = async (id: string): Promise<{ page: Page; status: number; location: string | null; body: string; firstFrameMs?: number }> => {
    const page = await browser.newPage();
    await page.goto(`${srv.base}/healthz`);
    const r = await whepWatchFromPage(page, id);
    return { page, ...r };
  };
  const audioBytes = (page: Page): Promise<number> => page.evaluate(async () => {
    let b = 0;
    (await (window as unknown as Win).pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') b = s.bytesReceived; });
    return b;
  });

  const { id, streamKey } = await srv.createStream('RTMP to WebRTC');
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 120);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).status === 200, 'the HLS ladder running', 30000);
  const transcoder = srv.app.transcoders.get(id)!;
  const hlsPid = await waitFor(() => transcoder.pid, 'the ladder\'s ffmpeg pid');
  t.equal(feeds.size, 0, 'no WebRTC encode before anyone watches over WebRTC');

  const v = await watch(id);
  t.teardown(() => v.page.close().catch(() => {}));
  t.equal(v.status, 201, `WHEP answered 201${v.status !== 201 ? `: ${v.body}` : ''}`);
  t.match(v.body, /a=rtpmap:\d+ H264\/90000/, 'H.264 offered to the viewer');
  t.match(v.body, /a=rtpmap:\d+ opus\/48000\/2/, 'and Opus');
  t.ok(v.firstFrameMs !== undefined, 'the viewer decodes frames');
  t.pass(`RTMP stream over WHEP, cold start (feed not running): POST to first decoded frame ${v.firstFrameMs} ms`);
  await waitFor(async () => (await audioBytes(v.page)) > 1000, 'audio bytes at the viewer', 10000);
  const feed = feeds.feed(id)!;
  t.ok(feed, 'a feed runs for the stream');
  const rtpPid = await waitFor(() => feed.pid, 'the RTP encode pid');
  t.not(rtpPid, hlsPid, 'a second ffmpeg, beside the ladder\'s');

  // What the second encode costs: its CPU over a few seconds, beside the ladder's.
  const c0 = [processCpuSeconds(rtpPid), processCpuSeconds(hlsPid)];
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  const wall = (Date.now() - w0) / 1000;
  const rtpCpu = (processCpuSeconds(rtpPid) - c0[0]!) / wall;
  const hlsCpu = (processCpuSeconds(hlsPid) - c0[1]!) / wall;
  t.pass(`CPU of the RTP encode (320x180 source, ultrafast): ${(rtpCpu * 100).toFixed(1)} % of a core; the HLS ladder's ffmpeg: ${(hlsCpu * 100).toFixed(1)} %`);

  // The HLS ladder is unaffected: same ffmpeg run, and a complete segment decodes.
  t.equal(transcoder.pid, hlsPid, 'the ladder\'s ffmpeg was not restarted');
  t.equal(transcoder.restarts, 0);
  const pl = await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /\ns\d+\.m4s/.test(x.text) ? x.text : undefined;
  }, 'a complete HLS segment', 30000);
  const seg = /\n(s\d+\.m4s)/.exec(pl)![1]!;
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(pl)![1]!;
  const file = join(mkdtempSync(join(tmpdir(), 'showcase-rtmp-webrtc-')), 'seg.mp4');
  writeFileSync(file, Buffer.concat([(await getBytes(`${srv.base}/hls/${id}/180p/${init}`)).body, (await getBytes(`${srv.base}/hls/${id}/180p/${seg}`)).body]));
  t.ok(await decodeFrames(file) > 0, 'an HLS segment decodes');

  // A second viewer joins the running feed (warm start): same encode.
  const v2 = await watch(id);
  t.equal(v2.status, 201);
  t.ok(v2.firstFrameMs !== undefined, 'the second viewer decodes');
  t.pass(`warm start (feed running): POST to first decoded frame ${v2.firstFrameMs} ms`);
  t.equal(feed.pid, rtpPid, 'one encode serves both viewers');
  t.equal((await fetch(`${srv.base}${v2.location}`, { method: 'DELETE' })).status, 200);
  await v2.page.close();
  await new Promise((r) => setTimeout(r, IDLE_STOP_MS / 2));
  t.equal(feed.pid, rtpPid, 'one viewer leaving while another watches: the encode goes on');

  // Everyone leaves: the encode stops after the idle grace, and its router closes.
  const del = await fetch(`${srv.base}${v.location}`, { method: 'DELETE' });
  t.equal(del.status, 200, 'DELETE stops watching');
  const left = Date.now();
  await waitFor(() => feeds.feed(id) === undefined && !processAlive(rtpPid), 'the RTP encode stopped after the last viewer left', IDLE_STOP_MS + 5000);
  const stoppedAfter = Date.now() - left;
  t.ok(stoppedAfter >= IDLE_STOP_MS - 100, `stopped ${stoppedAfter} ms after the last viewer left (grace ${IDLE_STOP_MS} ms)`);
  t.ok(feed.router.closed, 'its router closed');
  t.notOk(whep.hasSource(id), 'WHEP forgot the source');
  t.equal(whep.size, 0);
  t.equal(srv.app.registry.get(id)?.state, 'live', 'the stream goes on');
  t.equal(transcoder.pid, hlsPid, 'the ladder still runs the same ffmpeg');

  // A new viewer starts a new feed; the stream ending closes it and its viewer.
  const v3 = await watch(id);
  t.teardown(() => v3.page.close().catch(() => {}));
  t.equal(v3.status, 201);
  t.ok(v3.firstFrameMs !== undefined, `a new feed starts for a new viewer (first frame ${v3.firstFrameMs} ms)`);
  const feed3 = feeds.feed(id)!;
  const pid3 = await waitFor(() => feed3.pid, 'the new encode pid');
  t.equal(whep.size, 1);
  pub.kill('SIGKILL');
  await waitFor(() => srv.app.registry.get(id)?.state !== 'live', 'the stream ended', 15000);
  await waitFor(() => whep.size === 0, 'the viewer closed with the stream', 5000);
  await waitFor(() => feed3.closed && !processAlive(pid3), 'the encode stopped with the stream', 10000);
  t.equal(feeds.size, 0, 'no feed left');
  t.notOk(whep.hasSource(id));
  await waitFor(() => srv.app.webrtcPool!.load().every((l) => l.routers === 0 && l.consumers === 0), 'nothing left on the worker', 5000);

  // A stream that is not live has nothing to play.
  const r = await fetch(`${srv.base}/whep/${id}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: v3.body.replace(/sendonly/g, 'recvonly') });
  t.equal(r.status, 409, 'an ended stream is not live over WebRTC');
});
