import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startServer, waitFor, getText, getBytes } from '../helpers/server.js';
import { ffprobe } from '../helpers/ffmpeg.js';
import { writeFileSync } from 'node:fs';
import type { PublisherHandle } from '../../src/core/live-stream.js';

/** A free even UDP-ish port pair base (RTP even, RTCP odd), found via a TCP probe on loopback. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p - (p % 2)));
    });
  });
}

// What a WebRTC publisher looks like once mediasoup forwards it to a PlainTransport: H.264 and Opus
// over RTP described by an SDP. Here a real ffmpeg plays the phone; the stream must come out as the
// same LL-HLS ladder as RTMP.
t.test('RTP media described by an SDP (the WebRTC path) feeds the same ladder', async (t) => {
  const srv = await startServer();
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const dir = mkdtempSync(join(tmpdir(), 'showcase-rtp-'));
  const vport = await freePort();
  let aport = await freePort();
  if (aport === vport) aport = vport + 2;
  const sdpFile = join(dir, 'in.sdp');
  const sender = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '12',
    '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-g', '30', '-pix_fmt', 'yuv420p', '-f', 'rtp', `rtp://127.0.0.1:${vport}`,
    '-map', '1:a', '-c:a', 'libopus', '-b:a', '48k', '-f', 'rtp', `rtp://127.0.0.1:${aport}`, '-sdp_file', sdpFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.teardown(() => sender.kill('SIGKILL'));
  await waitFor(() => existsSync(sdpFile) && readFileSync(sdpFile, 'utf8').includes('m=audio'), 'sender SDP');
  const sdp = readFileSync(sdpFile, 'utf8');
  let keyframeRequests = 0;
  // An RTP publisher from outside mediasoup: no producers, only the plain RTP and its SDP.
  const handle: PublisherHandle = {
    id: 'webrtc-test', protocol: 'webrtc', remoteAddress: '127.0.0.1', isAlive: () => true, close: () => sender.kill('SIGKILL'),
    media: { form: 'rtp', tracks: [{ kind: 'video', codec: 'h264' }, { kind: 'audio', codec: 'opus' }], rtp: { producers: [], sdp, height: 180, requestKeyFrame: () => keyframeRequests++ } },
  };
  const decision = await srv.app.registry.authorizePublish(streamKey, handle, () => false);
  t.ok(decision.ok, 'publish accepted');
  const master = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/master.m3u8`);
    return r.status === 200 ? r.text : undefined;
  }, 'multivariant from RTP input', 20000);
  t.match(master, /RESOLUTION=320x180/);
  t.match(master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/, 'Opus in, AAC out, same ladder');
  t.ok(keyframeRequests >= 1, 'a keyframe was requested when ffmpeg started');
  const pl = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /\ns\d+\.m4s/.test(r.text) ? r.text : undefined;
  }, 'a complete segment', 15000);
  const seg = /\n(s\d+\.m4s)/.exec(pl)![1]!;
  const file = join(dir, 'seg.mp4');
  writeFileSync(file, Buffer.concat([(await getBytes(`${srv.base}/hls/${id}/180p/init1.mp4`)).body, (await getBytes(`${srv.base}/hls/${id}/180p/${seg}`)).body]));
  const probe = await ffprobe(file);
  t.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  t.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  // The phone hangs up: the stream ends and the playlists get ENDLIST.
  srv.app.registry.get(id)!.detachPublisher(handle, 'unpublish', true, 0);
  await waitFor(async () => (await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).text.includes('#EXT-X-ENDLIST'), 'ENDLIST', 10000);
});
