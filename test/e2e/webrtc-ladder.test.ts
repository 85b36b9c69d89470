// The whole app, phone path: Debian Chromium (fake camera) publishes over WHIP with the stream key
// from the API; mediasoup forwards it to the stream's ONE ffmpeg over RTP; the same LL-HLS ladder as
// RTMP comes out and ffprobe decodes it; a second page watches over WHEP and counts as a WebRTC viewer.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, waitFor, getText, getBytes } from '../helpers/server.js';
import { ffprobe } from '../helpers/ffmpeg.js';
import { expectIngestMeasured } from '../helpers/ingest-metrics.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip, whepWatchFromPage, whipPublishFromPage } from '../helpers/chromium.js';

/** promtool, unpacked by scripts/setup.sh from Debian's prometheus package. */
const promtool = process.env.PROMTOOL ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'showcase-tools', 'promtool');
const skip = webrtcSkip();

t.test('a phone publishing over WHIP becomes the same LL-HLS ladder', { skip }, async (t) => {
  // WebRTC on its default network settings: Chromium reaches the host's own announced addresses.
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, rtcMinPort: 43000, rtcMaxPort: 43999, bridgeMinPort: 31000, bridgeMaxPort: 31999, iceConsentTimeoutSeconds: 6 }, transcode: { stallTimeoutMs: 4000 } });
  t.teardown(() => srv.close());
  const { id, streamKey, json } = await srv.createStream('Phone live');
  t.equal(json.ingest.whipUrl, `${srv.base}/whip`, 'the API hands out the WHIP URL');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${srv.base}/healthz`);
  const r = await whipPublishFromPage(page, streamKey, { width: 320, height: 180 });
  t.equal(r.status, 201, `WHIP 201 ${r.status === 201 ? '' : r.answer}`);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'live');
  const master = await waitFor(async () => {
    const m = await getText(`${srv.base}/hls/${id}/master.m3u8`);
    return m.status === 200 ? m.text : undefined;
  }, 'multivariant from the WebRTC publish', 30000);
  t.match(master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/, 'H.264 video and (Opus transcoded to) AAC audio');
  const pl = await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /\ns\d+\.m4s/.test(x.text) ? x.text : undefined;
  }, 'a complete segment', 45000);
  t.match(pl, /#EXT-X-PART:DURATION=[\d.]+,URI="p\d+\.0\.m4s",INDEPENDENT=YES/);
  const seg = /\n(s\d+\.m4s)/.exec(pl)![1]!;
  const dir = mkdtempSync(join(tmpdir(), 'showcase-webrtc-'));
  const file = join(dir, 'seg.mp4');
  writeFileSync(file, Buffer.concat([(await getBytes(`${srv.base}/hls/${id}/180p/init1.mp4`)).body, (await getBytes(`${srv.base}/hls/${id}/180p/${seg}`)).body]));
  const probe = await ffprobe(file);
  const v = probe.streams.find((s) => s.codec_type === 'video')!;
  t.equal(v.codec_name, 'h264');
  t.equal(v.height, 180);
  t.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  // Ingest measured from mediasoup's view of the phone's RTP (Chromium sends keyframes when asked:
  // the transcoder's requests space them, not a fixed GOP).
  await expectIngestMeasured(t, srv, id, 'WHIP', { minFps: 5, maxFps: 61, maxKeyframeSeconds: 120 });
  // A shopper watches the phone's stream over WHEP: counted as a WebRTC viewer while connected.
  const viewer = await browser.newPage();
  await viewer.goto(`${srv.base}/healthz`);
  const w = await whepWatchFromPage(viewer, id);
  t.equal(w.status, 201, `WHEP 201 ${w.status === 201 ? '' : w.body}`);
  t.ok((w.frames ?? 0) > 0, `WHEP viewer decoding frames (${w.frames ?? 0} within 20 s)`);
  // (The test's own playlist GETs above were HLS viewer sessions: only the webrtc count is the WHEP page.)
  const watching = await waitFor(() => {
    const snap = srv.app.ticker.snapshot(id);
    return snap && snap.viewers.webrtc.live === 1 && snap.watchSeconds.webrtc.live >= 2 ? snap : undefined;
  }, 'the WHEP viewer counted', 10000);
  t.equal(watching.viewers.webrtc.replay, 0, 'counted as live viewing');
  const metrics = (await getText(`${srv.base}/metrics`)).text;
  t.match(metrics, new RegExp(`showcase_stream_viewers\\{stream="${id}",protocol="webrtc"\\} 1\n`), '/metrics shows the WebRTC viewer');
  t.match(metrics, /showcase_webrtc_sessions\{kind="whep"\} 1\n/);
  t.match(metrics, /showcase_webrtc_workers 1\n/);
  t.match(metrics, /showcase_webrtc_worker_resident_memory_bytes\{worker="0"\} [1-9]/);
  const check = spawnSync(promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics passes with the WebRTC series: ${(check.stdout + check.stderr).trim().slice(0, 500)}`);
  const stopped = await fetch(`${srv.base}${w.location}`, { method: 'DELETE' });
  t.ok(stopped.status === 200 || stopped.status === 204, `WHEP DELETE ${stopped.status}`);
  await waitFor(() => srv.app.ticker.snapshot(id)?.viewers.webrtc.live === 0, 'the viewer no longer counted', 5000);

  // ffmpeg hangs while the phone's RTP keeps flowing (seen through the bridge's byte counters): the
  // watchdog kills it, the restart asks the phone for a keyframe, and the ladder goes on.
  const tc = srv.app.transcoders.get(id)!;
  const hungPid = tc.pid!;
  const restarted = new Promise<number>((resolve) => tc.on('run', (x) => x.restart && resolve(Date.now())));
  const hungAt = Date.now();
  process.kill(hungPid, 'SIGSTOP');
  t.teardown(() => { try { process.kill(hungPid, 'SIGKILL'); } catch { /* gone */ } });
  const at = await restarted;
  t.ok(at - hungAt >= 4000 && at - hungAt < 12000, `RTP run restarted ${at - hungAt} ms after the hang (watchdog 4000 ms)`);
  t.equal(tc.stalls, 1, 'one stall');
  t.match(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_TRANSCODER_STALLED'), { input: 'rtp' }, 'logged with its code');
  await waitFor(async () => /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"[\s\S]*#EXT-X-PART:/.test((await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).text), 'the phone\'s media again after the restart', 20000);

  // The phone stops: DELETE on the WHIP session ends the stream and the playlists.
  const del = await fetch(`${srv.base}${r.location}`, { method: 'DELETE', headers: { authorization: `Bearer ${streamKey}` } });
  t.ok(del.status === 200 || del.status === 204, `DELETE ${del.status}`);
  await waitFor(async () => (await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).text.includes('#EXT-X-ENDLIST'), 'ENDLIST', 15000);
  t.equal((await srv.api('GET', `/v1/streams/${id}`)).json.state, 'ended');
});
