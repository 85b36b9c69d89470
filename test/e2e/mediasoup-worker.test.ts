// The mediasoup worker built by native/mediasoup/build.sh, driven by the real mediasoup npm module:
// routers and transports, media from ffmpeg through SRTP (router piping and every SRTP suite on
// plain transports), and a real ICE + DTLS-SRTP session with an independent client (openssl
// s_client behind a STUN-speaking UDP relay) whose SRTP this test decrypts itself. The DTLS part is
// the one that catches the BIO-callback bug (see native/README.md); the SRTP parts cover the
// libsrtp3-on-libsrtp2 compatibility header.
//
// Needs MEDIASOUP_WORKER_BIN (scripts/test.sh sets it when the built binary exists) and the
// mediasoup package; skips itself, saying why, when either is missing.
import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// ---- minimal view of the mediasoup API used here (the package is optional, so no static import)

type Stats = Array<Record<string, unknown> & { type: string }>;
interface RtpCodec { kind: string; mimeType: string; clockRate: number; channels?: number; preferredPayloadType?: number; parameters?: Record<string, unknown>; rtcpFeedback?: unknown[] }
interface RtpCapabilities { codecs?: RtpCodec[]; headerExtensions?: unknown[] }
interface RtpParameters { codecs: Array<{ mimeType: string; payloadType: number }>; encodings?: Array<{ ssrc?: number }>; [k: string]: unknown }
interface SrtpParameters { cryptoSuite: string; keyBase64: string }
interface Producer { id: string; getStats(): Promise<Stats>; close(): void }
interface Consumer { id: string; kind: string; rtpParameters: RtpParameters; getStats(): Promise<Stats>; close(): void }
interface Transport {
  id: string;
  closed: boolean;
  getStats(): Promise<Stats>;
  produce(o: { kind: string; rtpParameters: unknown }): Promise<Producer>;
  consume(o: { producerId: string; rtpCapabilities: RtpCapabilities; paused?: boolean }): Promise<Consumer>;
  close(): void;
}
interface PlainTransport extends Transport {
  tuple: { localAddress?: string; localIp?: string; localPort: number };
  rtcpTuple?: { localPort: number };
  srtpParameters?: SrtpParameters;
  connect(o: { ip?: string; port?: number; srtpParameters?: SrtpParameters }): Promise<void>;
}
interface WebRtcTransport extends Transport {
  iceParameters: { usernameFragment: string; password: string; iceLite?: boolean };
  iceCandidates: Array<{ ip: string; address?: string; port: number; protocol: string }>;
  dtlsParameters: { fingerprints: Array<{ algorithm: string; value: string }> };
  iceState: string;
  dtlsState: string;
  connect(o: { dtlsParameters: { role: string; fingerprints: Array<{ algorithm: string; value: string }> } }): Promise<void>;
  on(ev: 'icestatechange' | 'dtlsstatechange', cb: (state: string) => void): void;
}
interface Router {
  id: string;
  rtpCapabilities: RtpCapabilities;
  createWebRtcTransport(o: Record<string, unknown>): Promise<WebRtcTransport>;
  createPlainTransport(o: Record<string, unknown>): Promise<PlainTransport>;
  pipeToRouter(o: { producerId: string; router: Router; enableSrtp?: boolean }): Promise<{ pipeConsumer?: Consumer; pipeProducer?: Producer }>;
  canConsume(o: { producerId: string; rtpCapabilities: RtpCapabilities }): boolean;
  close(): void;
}
interface Worker {
  pid: number;
  died: boolean;
  createRouter(o: { mediaCodecs: RtpCodec[] }): Promise<Router>;
  getResourceUsage(): Promise<Record<string, number>>;
  on(ev: 'died', cb: (err: Error) => void): void;
  close(): void;
}
interface Mediasoup { version: string; createWorker(o: Record<string, unknown>): Promise<Worker> }

// ---- what is available

const workerBin = process.env.MEDIASOUP_WORKER_BIN;
const require = createRequire(import.meta.url);
function resolvable(id: string): boolean {
  try { require.resolve(id); return true; } catch { return false; }
}
function hasCommand(cmd: string, args: string[]): boolean {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}
const skipAll: string | false =
  !workerBin ? 'MEDIASOUP_WORKER_BIN is not set (build the worker: bash native/mediasoup/build.sh)'
  : !resolvable('mediasoup') ? 'the mediasoup npm package is not installed'
  : false;
const skipMedia: string | false = skipAll || (!hasCommand('ffmpeg', ['-version']) && 'ffmpeg is not installed');
const skipDtls: string | false = skipMedia || (!hasCommand('openssl', ['version']) && 'the openssl command is not installed');

// ---- small helpers

async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    if (workerDeath) throw new Error(`worker died while waiting for ${what}: ${workerDeath.message}`);
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stat(stats: Stats, type: string, key: string): number {
  const s = stats.find((x) => x.type === type);
  return typeof s?.[key] === 'number' ? (s[key] as number) : 0;
}

interface Rtp { pt: number; seq: number; ts: number; ssrc: number; headerLen: number; payload: Buffer }
function isRtcp(b: Buffer): boolean { return b.length >= 2 && b[1]! >= 192 && b[1]! <= 223; }
function parseRtpHeader(b: Buffer): Omit<Rtp, 'payload'> | undefined {
  if (b.length < 12 || b[0]! >> 6 !== 2 || isRtcp(b)) return undefined;
  let headerLen = 12 + 4 * (b[0]! & 0x0f);
  if (b[0]! & 0x10) {
    if (b.length < headerLen + 4) return undefined;
    headerLen += 4 + 4 * b.readUInt16BE(headerLen + 2);
  }
  if (b.length < headerLen) return undefined;
  return { pt: b[1]! & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), headerLen };
}
function rtpPayload(packet: Buffer, headerLen: number): Buffer {
  const pad = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  return packet.subarray(headerLen, packet.length - pad);
}

/** Packet types of a compound RTCP packet, or undefined unless its length fields tile it exactly. */
function rtcpCompound(b: Buffer): number[] | undefined {
  const types: number[] = [];
  for (let i = 0; i < b.length;) {
    if (b.length - i < 4 || b[i]! >> 6 !== 2) return undefined;
    types.push(b[i + 1]!);
    i += 4 * (b.readUInt16BE(i + 2) + 1);
    if (i > b.length) return undefined;
  }
  return types.length ? types : undefined;
}

/** H.264 NAL unit types carried by one RTP payload (RFC 6184: single NAL, STAP-A, FU-A start), plus SPS profile_idc. */
function h264Nals(payload: Buffer, into: { types: Set<number>; spsProfile?: number }): void {
  if (payload.length < 2) return;
  const type = payload[0]! & 0x1f;
  const one = (nal: Buffer): void => {
    into.types.add(nal[0]! & 0x1f);
    if ((nal[0]! & 0x1f) === 7 && nal.length > 1) into.spsProfile = nal[1];
  };
  if (type >= 1 && type <= 23) one(payload);
  else if (type === 24) {
    for (let i = 1; i + 2 <= payload.length;) {
      const n = payload.readUInt16BE(i);
      if (n === 0 || i + 2 + n > payload.length) break;
      one(payload.subarray(i + 2, i + 2 + n));
      i += 2 + n;
    }
  } else if (type === 28 && payload[1]! & 0x80) into.types.add(payload[1]! & 0x1f);
}

/** A UDP socket on 127.0.0.1 that keeps the RTP it receives from one SSRC and what H.264 it carries. */
async function rtpSink(): Promise<{ socket: Socket; port: number; packets: Rtp[]; h264: { types: Set<number>; spsProfile?: number }; close(): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const packets: Rtp[] = [];
  const h264 = { types: new Set<number>() } as { types: Set<number>; spsProfile?: number };
  socket.on('message', (msg: Buffer) => {
    const h = parseRtpHeader(msg);
    if (!h) return;
    const payload = rtpPayload(msg, h.headerLen);
    packets.push({ ...h, payload });
    h264Nals(payload, h264);
  });
  return { socket, port: socket.address().port, packets, h264, close: () => socket.close() };
}

function tmpDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'showcase-ms-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---- SRTP (RFC 3711, AES_CM_128_HMAC_SHA1_80), written here independently of libsrtp

function aesCm(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}
function srtpKdf(masterKey: Buffer, masterSalt: Buffer, label: number, len: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7]! ^= label; // key_id = label || index DIV kdr (0), right-aligned in the 112-bit salt
  return aesCm(masterKey, iv, Buffer.alloc(len));
}
class SrtpReceiver {
  private readonly encKey: Buffer;
  private readonly authKey: Buffer;
  private readonly salt: Buffer;
  private readonly rtcpEncKey: Buffer;
  private readonly rtcpAuthKey: Buffer;
  private readonly rtcpSalt: Buffer;
  private readonly roc = new Map<number, { roc: number; highest: number }>();
  constructor(masterKey: Buffer, masterSalt: Buffer) {
    this.encKey = srtpKdf(masterKey, masterSalt, 0, 16);
    this.authKey = srtpKdf(masterKey, masterSalt, 1, 20);
    this.salt = srtpKdf(masterKey, masterSalt, 2, 14);
    this.rtcpEncKey = srtpKdf(masterKey, masterSalt, 3, 16);
    this.rtcpAuthKey = srtpKdf(masterKey, masterSalt, 4, 20);
    this.rtcpSalt = srtpKdf(masterKey, masterSalt, 5, 14);
  }
  private static iv(salt: Buffer, ssrc: Buffer, index: Buffer): Buffer {
    const iv = Buffer.alloc(16);
    salt.copy(iv, 0);
    for (let i = 0; i < 4; i++) iv[4 + i]! ^= ssrc[i]!;
    for (let i = 0; i < index.length; i++) iv[14 - index.length + i]! ^= index[i]!;
    return iv;
  }
  /** The decrypted compound RTCP packet, or undefined when the authentication tag does not verify. */
  unprotectRtcp(packet: Buffer): Buffer | undefined {
    if (packet.length < 8 + 4 + 10) return undefined;
    const body = packet.subarray(0, packet.length - 10);
    const tag = createHmac('sha1', this.rtcpAuthKey).update(body).digest().subarray(0, 10);
    if (!timingSafeEqual(tag, packet.subarray(packet.length - 10))) return undefined;
    const eIndex = body.readUInt32BE(body.length - 4);
    const encrypted = body.subarray(8, body.length - 4);
    if (!(eIndex >>> 31)) return Buffer.from(body.subarray(0, body.length - 4));
    const index = Buffer.alloc(4);
    index.writeUInt32BE(eIndex & 0x7fffffff);
    const iv = SrtpReceiver.iv(this.rtcpSalt, body.subarray(4, 8), index);
    return Buffer.concat([body.subarray(0, 8), aesCm(this.rtcpEncKey, iv, encrypted)]);
  }
  /** The decrypted RTP packet, or undefined when the authentication tag does not verify. */
  unprotect(packet: Buffer): Buffer | undefined {
    if (packet.length < 12 + 10) return undefined;
    const body = packet.subarray(0, packet.length - 10);
    const h = parseRtpHeader(body);
    if (!h) return undefined;
    const state = this.roc.get(h.ssrc) ?? { roc: 0, highest: h.seq };
    // RFC 3711 3.3.1 index estimate.
    let roc = state.roc;
    if (h.seq - state.highest > 0x8000) roc = state.roc - 1;
    else if (state.highest - h.seq > 0x8000) roc = state.roc + 1;
    if (roc < 0) return undefined;
    const rocBuf = Buffer.alloc(4);
    rocBuf.writeUInt32BE(roc);
    const tag = createHmac('sha1', this.authKey).update(body).update(rocBuf).digest().subarray(0, 10);
    if (!timingSafeEqual(tag, packet.subarray(packet.length - 10))) return undefined;
    if (roc > state.roc || (roc === state.roc && h.seq > state.highest)) this.roc.set(h.ssrc, { roc, highest: h.seq });
    else if (!this.roc.has(h.ssrc)) this.roc.set(h.ssrc, state);
    const index = Buffer.alloc(6);
    index.writeUIntBE(roc * 0x10000 + h.seq, 0, 6);
    const iv = SrtpReceiver.iv(this.salt, body.subarray(8, 12), index);
    return Buffer.concat([body.subarray(0, h.headerLen), aesCm(this.encKey, iv, body.subarray(h.headerLen))]);
  }
}

// ---- STUN (RFC 5389) Binding request as an ICE-controlling peer would send it

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function stunBindingRequest(remoteUfrag: string, remotePwd: string, localUfrag: string): Buffer {
  const tid = randomBytes(12);
  const attr = (type: number, value: Buffer): Buffer => {
    const b = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
    b.writeUInt16BE(type, 0);
    b.writeUInt16BE(value.length, 2);
    value.copy(b, 4);
    return b;
  };
  const header = (len: number): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(0x0001, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(0x2112a442, 4);
    tid.copy(h, 8);
    return h;
  };
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e7f1eff);
  let body = Buffer.concat([
    attr(0x0006, Buffer.from(`${remoteUfrag}:${localUfrag}`)), // USERNAME
    attr(0x0024, priority), // PRIORITY
    attr(0x802a, randomBytes(8)), // ICE-CONTROLLING
    attr(0x0025, Buffer.alloc(0)), // USE-CANDIDATE
  ]);
  const mi = createHmac('sha1', remotePwd).update(Buffer.concat([header(body.length + 24), body])).digest();
  body = Buffer.concat([body, attr(0x0008, mi)]); // MESSAGE-INTEGRITY
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0);
  body = Buffer.concat([body, attr(0x8028, fp)]); // FINGERPRINT
  return Buffer.concat([header(body.length), body]);
}

// ---- the worker

const H264_PT = 102;
const H264_SSRC = 22222222;
const mediaCodecs: RtpCodec[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } },
];
const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };

let mediasoup: Mediasoup | undefined;
let worker: Worker | undefined;
// Routers on a second worker receive piped media: pipeToRouter keeps the producer id, and ids are
// unique per worker, so it pipes between workers (as an app spreading rooms over cores does).
let worker2: Worker | undefined;
let workerDeath: Error | undefined;
if (!skipAll) {
  if (!existsSync(workerBin!)) throw new Error(`MEDIASOUP_WORKER_BIN=${workerBin} does not exist`);
  accessSync(workerBin!, constants.X_OK);
  // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded: it is set, so import now.
  const specifier: string = 'mediasoup';
  const mod = (await import(specifier)) as Mediasoup & { default?: Mediasoup };
  mediasoup = mod.default ?? mod;
  worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  worker2 = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  for (const w of [worker, worker2]) w.on('died', (err) => { workerDeath = err; });
  t.teardown(() => { worker?.close(); worker2?.close(); });
}

/** The workers must still be alive after each test (the DTLS bug killed the worker with SIGSEGV). */
function checkAlive(tt: Test): void {
  tt.ok(!worker!.died && !worker2!.died, `workers still alive${workerDeath ? ` (died: ${workerDeath.message})` : ''}`);
}

// One ffmpeg H.264 test pattern sent as plain RTP to a PlainTransport on the source router; every
// media test consumes it. -g 30: a key frame every second, as mediasoup only forwards video to a new
// consumer from a key frame (ffmpeg's RTP muxer does not answer PLI).
let source: { router: Router; producer: Producer; ffmpeg: ChildProcess } | undefined;
async function mediaSource(): Promise<{ router: Router; producer: Producer }> {
  if (source) return source;
  const router = await worker!.createRouter({ mediaCodecs });
  // ffmpeg sends RTCP from another socket than RTP: no RTCP mux, so comedia learns each tuple.
  const ingest = await router.createPlainTransport({ listenInfo, rtcpMux: false, comedia: true });
  const producer = await ingest.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/H264', payloadType: H264_PT, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } }],
      encodings: [{ ssrc: H264_SSRC }],
    },
  });
  const port = ingest.tuple.localPort;
  const rtcpPort = ingest.rtcpTuple!.localPort;
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-t', '180', '-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-payload_type', String(H264_PT), '-ssrc', String(H264_SSRC), '-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}&pkt_size=1200`],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  t.teardown(() => { ffmpeg.kill('SIGKILL'); });
  source = { router, producer, ffmpeg };
  await waitFor(async () => stat(await producer.getStats(), 'inbound-rtp', 'packetCount') > 30, 'RTP from ffmpeg at the producer');
  return source;
}

/** Consumes `producerId` on `router` into a fresh RTP sink through a plain (unencrypted) transport. */
async function consumeToSink(router: Router, producerId: string) {
  const sink = await rtpSink();
  t.teardown(() => sink.close());
  const out = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false });
  await out.connect({ ip: '127.0.0.1', port: sink.port });
  const consumer = await out.consume({ producerId, rtpCapabilities: router.rtpCapabilities, paused: false });
  return { sink, consumer, transport: out };
}

/** Waits for real H.264 key frames (SPS with baseline profile 66, IDR) from the consumer's SSRC. */
async function expectH264(tt: Test, sink: Awaited<ReturnType<typeof rtpSink>>, consumer: Consumer, what: string): Promise<void> {
  const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
  await waitFor(() => sink.packets.filter((p) => p.ssrc === ssrc).length >= 60 && sink.h264.types.has(5) && sink.h264.spsProfile !== undefined, `H.264 via ${what}`);
  const mine = sink.packets.filter((p) => p.ssrc === ssrc);
  tt.ok(mine.length >= 60, `${mine.length} RTP packets received via ${what}`);
  tt.equal(mine[0]!.pt, consumer.rtpParameters.codecs[0]!.payloadType, 'negotiated payload type');
  tt.ok(sink.h264.types.has(7) && sink.h264.types.has(8) && sink.h264.types.has(5), `SPS, PPS and IDR slices arrive (NAL types ${[...sink.h264.types].sort((a, b) => a - b).join(',')})`);
  tt.equal(sink.h264.spsProfile, 66, 'SPS says constrained baseline (profile_idc 66), as encoded');
  tt.ok(stat(await consumer.getStats(), 'outbound-rtp', 'byteCount') > 10000, 'consumer stats count the bytes sent');
}

t.test('worker, router (opus, VP8, H264), WebRTC and plain transports', { skip: skipAll }, async (t) => {
  const pinned = readFileSync(new URL('../../native/mediasoup/VERSION', import.meta.url), 'utf8').trim();
  t.equal(mediasoup!.version, pinned, `the npm module is the version the worker was built from (${pinned})`);
  t.equal(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).dependencies.mediasoup, pinned, 'package.json pins it exactly');
  t.ok(worker!.pid > 0, 'worker process running');
  const usage = await worker!.getResourceUsage();
  t.type(usage.ru_maxrss, 'number', 'worker answers requests over its channel');
  const router = await worker!.createRouter({ mediaCodecs });
  t.teardown(() => router.close());
  const mimes = (router.rtpCapabilities.codecs ?? []).map((c) => c.mimeType);
  for (const m of ['audio/opus', 'video/VP8', 'video/H264', 'video/rtx']) t.ok(mimes.includes(m), `router capabilities include ${m}`);

  const webrtc = await router.createWebRtcTransport({ listenInfos: [listenInfo], enableUdp: true });
  t.equal(webrtc.iceParameters.iceLite, true, 'ICE-lite server');
  t.match(webrtc.iceCandidates[0], { ip: '127.0.0.1', protocol: 'udp', port: Number });
  t.ok(webrtc.dtlsParameters.fingerprints.some((f) => f.algorithm === 'sha-256' && /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(f.value)), 'DTLS sha-256 fingerprint');
  t.equal(webrtc.iceState, 'new');
  t.equal(webrtc.dtlsState, 'new');

  const plain = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: true, enableSrtp: true });
  t.ok(plain.tuple.localPort > 0, 'plain transport bound a UDP port');
  t.equal(plain.srtpParameters?.cryptoSuite, 'AES_CM_128_HMAC_SHA1_80', 'default SRTP suite');
  t.equal(Buffer.from(plain.srtpParameters!.keyBase64, 'base64').length, 30, 'SRTP master key + salt');

  const opus = await plain.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] } });
  const other = await worker2!.createRouter({ mediaCodecs });
  t.teardown(() => other.close());
  const { pipeConsumer, pipeProducer } = await router.pipeToRouter({ producerId: opus.id, router: other });
  t.ok(pipeConsumer && pipeProducer, 'pipeToRouter created the pipe consumer and producer');
  t.equal(pipeProducer!.id, opus.id, 'piped producer keeps its id');
  t.ok(other.canConsume({ producerId: opus.id, rtpCapabilities: other.rtpCapabilities }), 'consumable on the other router');
  checkAlive(t);
});

t.test('router to router over SRTP (pipeToRouter enableSrtp): H.264 from ffmpeg arrives intact', { skip: skipMedia }, async (t) => {
  const { router, producer } = await mediaSource();
  const other = await worker2!.createRouter({ mediaCodecs });
  t.teardown(() => other.close());
  const { pipeConsumer, pipeProducer } = await router.pipeToRouter({ producerId: producer.id, router: other, enableSrtp: true });
  t.ok(pipeConsumer && pipeProducer);
  const { sink, consumer } = await consumeToSink(other, producer.id);
  await expectH264(t, sink, consumer, 'an SRTP pipe');
  t.ok(stat(await pipeProducer!.getStats(), 'inbound-rtp', 'packetCount') > 30, 'pipe producer decrypted and counted packets');
  checkAlive(t);
});

for (const suite of ['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']) {
  t.test(`SRTP ${suite} between plain transports: media flows, RTCP comes back`, { skip: skipMedia }, async (t) => {
    const { router, producer } = await mediaSource();
    const other = await worker2!.createRouter({ mediaCodecs });
    t.teardown(() => other.close());
    const a = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite: suite });
    const b = await other.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite: suite });
    t.equal(a.srtpParameters?.cryptoSuite, suite);
    await a.connect({ ip: '127.0.0.1', port: b.tuple.localPort, srtpParameters: b.srtpParameters });
    await b.connect({ ip: '127.0.0.1', port: a.tuple.localPort, srtpParameters: a.srtpParameters });
    const out = await a.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: false });
    const { mid: _mid, ...rtpParameters } = out.rtpParameters;
    const inbound = await b.produce({ kind: 'video', rtpParameters });
    const { sink, consumer } = await consumeToSink(other, inbound.id);
    await expectH264(t, sink, consumer, `SRTP ${suite}`);
    t.ok(stat(await b.getStats(), 'plain-rtp-transport', 'rtpBytesReceived') > 10000, 'receiving transport decrypted RTP');
    // Receiver reports from b's producer go back to a's consumer as SRTCP; a decrypts them.
    await waitFor(async () => stat(await a.getStats(), 'plain-rtp-transport', 'bytesReceived') > 0, 'SRTCP back to the sender', 10000);
    t.pass('SRTCP receiver reports decrypted by the sending side');
    checkAlive(t);
  });
}

t.test('real ICE + DTLS-SRTP with an independent client (openssl s_client) and SRTP decrypted here', { skip: skipDtls }, async (t) => {
  const { router, producer } = await mediaSource();
  const dir = tmpDir();
  const key = join(dir, 'client.key');
  const cert = join(dir, 'client.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=showcase-test',
    '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const fingerprint = /Fingerprint=([0-9A-F:]+)/.exec(execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).toString())![1]!;

  const transport = await router.createWebRtcTransport({ listenInfos: [listenInfo], enableUdp: true });
  t.teardown(() => transport.close());
  const states: string[] = [];
  transport.on('dtlsstatechange', (s) => states.push(s));
  await transport.connect({ dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fingerprint }] } });
  const cand = transport.iceCandidates[0]!;

  // One UDP socket is the "browser" tuple: it speaks STUN itself, relays DTLS between s_client and
  // the worker, and keeps the SRTP the worker sends.
  const relay = createSocket('udp4');
  await new Promise<void>((r) => relay.bind(0, '127.0.0.1', r));
  t.teardown(() => relay.close());
  let client: RemoteInfo | undefined;
  let stunOk = false;
  const srtp: Buffer[] = [];
  const srtcp: Buffer[] = [];
  relay.on('message', (msg: Buffer, from: RemoteInfo) => {
    if (from.port === cand.port) {
      const b = msg[0]!;
      if (b < 4) stunOk ||= msg.readUInt16BE(0) === 0x0101; // Binding success response
      else if (b >= 20 && b <= 63) { if (client) relay.send(msg, client.port, client.address); }
      else if (b >= 128 && b <= 191) (isRtcp(msg) ? srtcp : srtp).push(msg);
    } else {
      client = from;
      relay.send(msg, cand.port, '127.0.0.1');
    }
  });
  const stun = stunBindingRequest(transport.iceParameters.usernameFragment, transport.iceParameters.password, 'showcase');
  await waitFor(() => { if (!stunOk) relay.send(stun, cand.port, '127.0.0.1'); return stunOk; }, 'STUN binding success', 5000);
  await waitFor(() => ['connected', 'completed'].includes(transport.iceState) && transport.iceState, 'ICE connected', 5000);
  t.pass(`ICE ${transport.iceState} after a Binding request with USE-CANDIDATE`);

  const sClient = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${relay.address().port}`, '-cert', cert, '-key', key,
    '-use_srtp', 'SRTP_AES128_CM_SHA1_80', '-keymatexport', 'EXTRACTOR-dtls_srtp', '-keymatexportlen', '60'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => { sClient.kill('SIGKILL'); });
  let clientOut = '';
  sClient.stdout!.on('data', (d: Buffer) => { clientOut += d.toString(); });
  sClient.stderr!.on('data', (d: Buffer) => { clientOut += d.toString(); });
  const material = await waitFor(() => /Keying material: ([0-9A-F]{120})/.exec(clientOut)?.[1], `DTLS handshake (s_client said: ${clientOut.slice(-500)})`);
  await waitFor(() => transport.dtlsState === 'connected', 'worker DTLS connected', 5000);
  t.ok(states.includes('connected') && !states.includes('failed') && !states.includes('closed'), `worker DTLS states: ${states.join(' -> ')}`);
  t.match(clientOut, /SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80/, 'use_srtp negotiated');
  checkAlive(t);

  // RFC 5764: client key | server key | client salt | server salt. The worker is the DTLS server.
  const km = Buffer.from(material, 'hex');
  const rx = new SrtpReceiver(km.subarray(16, 32), km.subarray(46, 60));
  const caps = router.rtpCapabilities;
  const consumer = await transport.consume({
    producerId: producer.id,
    rtpCapabilities: { codecs: (caps.codecs ?? []).filter((c) => c.mimeType === 'video/H264'), headerExtensions: [] },
    paused: false,
  });
  const ssrc = consumer.rtpParameters.encodings![0]!.ssrc!;
  const h264 = { types: new Set<number>() } as { types: Set<number>; spsProfile?: number };
  let ok = 0;
  let bad = 0;
  let seen = 0;
  await waitFor(() => {
    for (; seen < srtp.length; seen++) {
      const h = parseRtpHeader(srtp[seen]!);
      if (!h || h.ssrc !== ssrc) continue;
      const plain = rx.unprotect(srtp[seen]!);
      if (!plain) { bad++; continue; }
      ok++;
      h264Nals(rtpPayload(plain, parseRtpHeader(plain)!.headerLen), h264);
    }
    return ok >= 60 && h264.types.has(5) && h264.spsProfile !== undefined;
  }, `decryptable SRTP H.264 (ok ${ok}, bad ${bad})`);
  t.ok(ok >= 60, `${ok} SRTP packets authenticated and decrypted with the DTLS-exported keys`);
  t.equal(bad, 0, 'no packet failed SRTP authentication');
  t.ok(h264.types.has(7) && h264.types.has(8) && h264.types.has(5), `decrypted payload is H.264 with SPS, PPS, IDR (NAL types ${[...h264.types].sort((a, b) => a - b).join(',')})`);
  t.equal(h264.spsProfile, 66, 'decrypted SPS says constrained baseline (profile_idc 66)');
  t.ok(stat(await consumer.getStats(), 'outbound-rtp', 'packetCount') >= ok, 'consumer stats count what was sent');
  t.ok(stat(await transport.getStats(), 'webrtc-transport', 'bytesSent') > 10000, 'WebRTC transport stats count bytes sent');

  // SRTCP: sender reports for the consumer's stream, decrypted with the RTCP keys from the same DTLS export.
  const reports = await waitFor(() => {
    const sr = srtcp.map((p) => rx.unprotectRtcp(p)).filter((p): p is Buffer => !!p && p[1] === 200 && p.readUInt32BE(4) === ssrc);
    return sr.length >= 1 && { sr, all: srtcp.length };
  }, 'an SRTCP sender report', 10000);
  const failed = srtcp.filter((p) => !rx.unprotectRtcp(p)).length;
  t.equal(failed, 0, `all ${srtcp.length} SRTCP packets authenticate`);
  const last = reports.sr[reports.sr.length - 1]!;
  t.ok(rtcpCompound(last)?.includes(200), `decrypted SRTCP is a well-formed compound RTCP packet (types ${rtcpCompound(last)?.join(',')})`);
  t.ok(last.readUInt32BE(20) > 0, `sender report counts ${last.readUInt32BE(20)} packets sent`);
  checkAlive(t);
});
