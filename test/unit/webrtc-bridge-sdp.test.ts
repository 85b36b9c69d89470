// The RTP bridge's pure parts: the SDP ffmpeg reads, free port pairs, and where the worker binary
// is looked for (the same order as scripts/test.sh).
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { ffmpegSdp, freePortPair } from '../../src/webrtc/rtp-bridge.js';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';

t.test('ffmpeg SDP: one m-line per track, RTCP on its own port, codec and fmtp from the consumer', async (t) => {
  const sdp = ffmpegSdp([
    { kind: 'video', rtpPort: 30000, rtcpPort: 30001, consumer: { rtpParameters: { codecs: [{ mimeType: 'video/H264', payloadType: 107, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } }] } } },
    { kind: 'audio', rtpPort: 30002, rtcpPort: 30003, consumer: { rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {} }] } } },
  ], '127.0.0.1', 'showcase whip abc\r\nx');
  t.equal(sdp, [
    'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=showcase whip abc  x', 'c=IN IP4 127.0.0.1', 't=0 0',
    'm=video 30000 RTP/AVP 107', 'a=rtcp:30001', 'a=rtpmap:107 H264/90000', 'a=fmtp:107 packetization-mode=1;profile-level-id=42e01f', 'a=recvonly',
    'm=audio 30002 RTP/AVP 100', 'a=rtcp:30003', 'a=rtpmap:100 opus/48000/2', 'a=recvonly', '',
  ].join('\n'));
});

t.test('free port pairs are even, distinct, both bindable, and inside a range when given', async (t) => {
  const taken = new Set<number>();
  const a = await freePortPair('127.0.0.1', taken);
  const b = await freePortPair('127.0.0.1', taken);
  t.ok(a % 2 === 0 && b % 2 === 0 && a !== b, `${a}, ${b}`);
  const r = await freePortPair('127.0.0.1', new Set(), { min: 31000, max: 31100 });
  t.ok(r >= 31000 && r < 31100 && r % 2 === 0, `in range: ${r}`);
  // A pair whose RTCP neighbour is busy is never handed out.
  const busy = createSocket('udp4');
  await new Promise<void>((res) => busy.bind(31201, '127.0.0.1', res));
  t.teardown(() => busy.close());
  const p = await freePortPair('127.0.0.1', new Set(), { min: 31200, max: 31204 });
  t.equal(p, 31202, 'skips 31200 because 31201 is taken');
});

t.test('worker binary: env first, then the native cache, then native/mediasoup/out', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'showcase-wb-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'native', 'mediasoup', 'out', '9.9.9'), { recursive: true });
  writeFileSync(join(root, 'native', 'mediasoup', 'VERSION'), '9.9.9\n');
  const exe = (p: string) => { mkdirSync(join(p, '..'), { recursive: true }); writeFileSync(p, '#!/bin/sh\n'); chmodSync(p, 0o755); return p; };
  t.equal(resolveWorkerBinary({ MEDIASOUP_WORKER_BIN: '/x/worker' }, root), '/x/worker');
  t.equal(resolveWorkerBinary({ HOME: join(root, 'home') }, root), undefined, 'nothing built');
  const out = exe(join(root, 'native', 'mediasoup', 'out', '9.9.9', 'mediasoup-worker'));
  t.equal(resolveWorkerBinary({ HOME: join(root, 'home') }, root), out);
  const cached = exe(join(root, 'home', '.cache', 'showcase-native', '9.9.9', 'mediasoup-worker'));
  t.equal(resolveWorkerBinary({ HOME: join(root, 'home') }, root), cached, '~/.cache wins over the build dir');
  const xdg = exe(join(root, 'xdg', 'showcase-native', '9.9.9', 'mediasoup-worker'));
  t.equal(resolveWorkerBinary({ HOME: join(root, 'home'), XDG_CACHE_HOME: join(root, 'xdg') }, root), xdg);
  const own = exe(join(root, 'own', '9.9.9', 'mediasoup-worker'));
  t.equal(resolveWorkerBinary({ HOME: join(root, 'home'), SHOWCASE_NATIVE_CACHE: join(root, 'own') }, root), own);
});
