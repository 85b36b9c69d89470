import t from 'tap';
import { ChunkParser, type RtmpMessage } from '../../src/ingest/rtmp/chunk-parser.js';
import { startTestServer, waitUntil } from '../helpers/rtmp-harness.js';
import { recordingProxy, spawnPublisher } from '../helpers/rtmp-ffmpeg.js';

const KEY = 'sk_live_5f2b9c81d4e3a7f0';

/** Parses a recorded client chunk stream (handshake skipped), applying Set Chunk Size as the server does. */
function parseRecorded(bytes: Buffer, slice: number): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  const p: ChunkParser = new ChunkParser({ maxChunkSize: 65536, maxMessageSize: 8 << 20, maxBufferedBytes: 16 << 20, maxChunkStreams: 64 }, (m) => {
    out.push(m);
    if (m.type === 1) p.setChunkSize(m.payload.readUInt32BE(0));
  });
  const stream = bytes.subarray(1 + 1536 * 2);
  for (let i = 0; i < stream.length; i += slice) p.push(stream.subarray(i, i + slice));
  return out;
}

t.test('a real ffmpeg publisher: metadata, sequence headers first, ~90 frames, one close, exit 0', async (t) => {
  const srv = await startTestServer({ keys: [KEY] });
  t.teardown(() => srv.close());
  const proxy = await recordingProxy(srv.port);
  t.teardown(() => proxy.close());
  const events: string[] = [];
  srv.server.on('publish', (req) => events.push(`publish ${req.app}`));
  srv.server.on('unpublish', (_c, reason) => events.push(`unpublish ${reason}`));

  const pub = spawnPublisher(`rtmp://127.0.0.1:${proxy.port}/live/${KEY}`, 3);
  t.teardown(() => pub.kill());
  const code = await pub.done;
  t.equal(code, 0, `ffmpeg exits 0 ${pub.stderr()}`);
  await waitUntil(() => srv.sinks[0]?.closes.length, 'sink close');
  const sink = srv.sinks[0]!;
  t.equal(srv.sinks.length, 1);
  t.equal(sink.request.streamKey, KEY, 'stream key is the publish name');
  t.equal(sink.request.app, 'live');

  t.equal(sink.metadata.length, 1, 'one onMetaData');
  const info = sink.metadata[0]!.info;
  t.match(info, { width: 320, height: 180, frameRate: 30, videoCodec: 'h264', audioCodec: 'aac' });
  t.match(info.encoder, /^Lavf/);

  const video = sink.packets.filter((p) => p.kind === 'video');
  const audio = sink.packets.filter((p) => p.kind === 'audio');
  const firstMedia = sink.packets.findIndex((p) => !p.sequenceHeader);
  const vsh = sink.packets.findIndex((p) => p.kind === 'video' && p.sequenceHeader);
  const ash = sink.packets.findIndex((p) => p.kind === 'audio' && p.sequenceHeader);
  t.ok(vsh >= 0 && vsh < firstMedia, 'video sequence header before any frame');
  t.ok(ash >= 0 && ash < firstMedia, 'audio sequence header before any frame');
  const frames = video.filter((p) => p.packetType === 1);
  const eos = video.filter((p) => p.packetType === 2);
  t.ok(eos.length <= 1 && eos.every((p) => !p.keyframe), 'the end-of-sequence tag is passed on, not as a keyframe');
  t.ok(frames.length >= 85 && frames.length <= 95, `~90 video frames (${frames.length})`);
  t.ok(frames[0]!.keyframe, 'the first frame is a keyframe');
  t.ok(frames.filter((p) => p.keyframe).length >= 2, 'a keyframe every 60 frames');
  t.ok(frames.every((p, i) => i === 0 || p.timestamp > frames[i - 1]!.timestamp), 'video timestamps increase');
  t.ok(Math.abs(frames.at(-1)!.timestamp - frames[0]!.timestamp - 2967) < 100, `3 s of timestamps (${frames.at(-1)!.timestamp})`);
  t.ok(audio.length > 130, `audio packets (${audio.length})`);
  t.same(sink.closes, ['unpublish'], 'onClose exactly once, for FCUnpublish');
  t.same(events, ['publish live', 'unpublish unpublish']);
  await waitUntil(() => srv.server.stats().connections === 0, 'connection gone');
  t.match(srv.server.stats(), { publishing: 0, connections: 0 });
  t.same(srv.server.stats().refusals, {}, 'nothing refused');

  // The recorded chunk stream parses to the same messages byte by byte and in big slices.
  const recorded = proxy.clientBytes();
  const big = parseRecorded(recorded, 64 * 1024);
  const tiny = parseRecorded(recorded, 1);
  const key = (m: RtmpMessage) => `${m.type}/${m.streamId}@${m.timestamp}:${m.payload.length}`;
  t.same(tiny.map(key), big.map(key), `same ${big.length} messages byte by byte`);
  t.ok(tiny.every((m, i) => m.payload.equals(big[i]!.payload)), 'same payloads');
  t.equal(big.filter((m) => m.type === 8 || m.type === 9).length, sink.packets.length, 'every media message reached the sink');
});

t.test('a wrong key, a wrong app and a second publisher on a live key are refused', async (t) => {
  const srv = await startTestServer({ keys: [KEY] });
  t.teardown(() => srv.close());
  const wrongKey = 'sk_live_WRONGWRONGWRONG';
  const bad = spawnPublisher(`rtmp://127.0.0.1:${srv.port}/live/${wrongKey}`, 2);
  const app = spawnPublisher(`rtmp://127.0.0.1:${srv.port}/other/${KEY}`, 2);
  t.teardown(() => (bad.kill(), app.kill()));
  t.not(await bad.done, 0, 'wrong key: ffmpeg fails');
  t.not(await app.done, 0, 'wrong app: ffmpeg fails');
  const refusals = srv.server.stats().refusals;
  t.equal(refusals['bad-key'], 1, 'bad-key counted');
  t.equal(refusals['bad-app'], 1, 'bad-app counted');
  const lines = srv.logs.filter((l) => l.code === 'SHOWCASE_ERR_RTMP_BAD_KEY' && l.msg === 'RTMP publish refused');
  t.equal(lines.length, 1, 'one warn line for the refused key');
  t.equal(lines[0]?.level, 40);
  t.equal(lines[0]?.keyPrefix, 'sk_l…', 'only a short prefix of the key');
  t.notOk(srv.logText().includes(wrongKey), 'the full key is never logged');
  t.equal(srv.sinks.length, 0);

  const first = spawnPublisher(`rtmp://127.0.0.1:${srv.port}/live/${KEY}`, 3);
  t.teardown(() => first.kill());
  await waitUntil(() => srv.sinks[0]?.packets.length, 'first publisher media', 10_000);
  const second = spawnPublisher(`rtmp://127.0.0.1:${srv.port}/live/${KEY}`, 1);
  t.teardown(() => second.kill());
  t.not(await second.done, 0, 'second publisher on a live key fails');
  t.equal(srv.server.stats().refusals['already-publishing'], 1);
  t.equal(await first.done, 0, 'the first publisher is undisturbed');
  t.equal(srv.sinks.length, 1);
});
