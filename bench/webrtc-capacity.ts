/**
 * WebRTC consumers per mediasoup worker at CPU saturation, ours against a bare worker.
 *
 * Both sides get the same input and the same viewers; only the path that builds them differs:
 * - bare: one mediasoup worker and router made with the mediasoup API right here (the minimal
 *   script), viewers' consumers on that router;
 * - showcase: WorkerPool (size 1), the producers set as a WhepPlayback source, each viewer placed by
 *   WhepPlayback.placeViewer (StreamFanout's edge router, fed by pipeToRouter), its consumers on the
 *   edge router the placement names.
 * The publisher is a synthetic RTP sender in this process (H.264 FU-A video at ~1.5 Mbit/s, 30 fps,
 * a ~30-packet keyframe every second; Opus-sized audio at 50 packets/s) into a PlainTransport (comedia)
 * with two producers. A viewer is a PlainTransport (rtcp-mux, comedia off) connected to a sink with an
 * audio and a video consumer: two consumers. Viewers are added in steps; over each step's window the
 * worker's CPU is read from /proc/<pid>/stat and delivery from RTP sequence numbers at the sinks
 * (received / expected per SSRC, so the window edges cost nothing). Capacity = the most consumers
 * at which the worker stays under `cpuLimit` of one core and every counting sink gets >= `deliveryMin`.
 *
 * Why only every `sampleEvery`-th viewer has a counting sink: on a 2-core box a Node socket reading
 * every copy would cost about as much CPU as the worker's sending it, and would starve the worker it
 * measures. The other viewers send to one socket bound in a worker thread whose event loop is parked
 * (Atomics.wait), so the kernel queues and then drops them without any user-space work. Losses that
 * saturation causes (the worker reading its ingest socket late) show at every sink alike.
 * Run: npm run build && node dist/bench/webrtc-capacity.js [--step 20] [--max-viewers 1000] [--side-seconds 75]
 */
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker as Thread } from 'node:worker_threads';
import type { types } from 'mediasoup';
import { createLogger } from '../src/core/logger.js';
import { WHIP_MEDIA_CODECS } from '../src/webrtc/sdp.js';
import { WhepPlayback } from '../src/playback/whep/whep-playback.js';
import { loadMediasoup, resolveWorkerBinary } from '../src/webrtc/worker-binary.js';
import { WorkerPool } from '../src/webrtc/worker-pool.js';
import { processCpuSeconds } from '../src/core/proc-stat.js';

export interface CapacityStep {
  consumers: number;
  /** Worker CPU over the window, in % of one core. */
  workerCpuPct: number;
  /** Worst counting sink's received / expected packets over the window (1 = all). */
  minDelivery: number;
  /** Time the worker spent runnable but waiting for a CPU, % of the window (other processes' load). */
  runQueueWaitPct: number;
  pass: boolean;
}

export interface CapacitySide {
  /** Most consumers that passed (2 per viewer). */
  capacityConsumers: number;
  /** Whether the ramp ended on a step that failed twice (otherwise at its bounds: capacity is a lower bound). */
  saturated: boolean;
  /** Worker CPU (% of one core) with the source and no viewer. */
  idleCpuPct: number;
  /** Worker CPU per consumer (% of one core) above the source-only figure, median over the passing steps. */
  cpuPerConsumerPct: number;
  /** Consumers at `cpuLimit` at that cost (what an unsaturated ramp would have reached). */
  projectedConsumers: number;
  /** Harness (this Node process) CPU over the last passing window, % of one core. */
  harnessCpuPct: number;
  /** Failing windows discounted because the worker waited for a CPU longer than `maxRunQueueWait`. */
  contendedWindows: number;
  steps: CapacityStep[];
}

export interface WebRtcCapacityResult {
  bare: CapacitySide;
  showcase: CapacitySide;
  /** showcase / bare capacity (measured where both saturated, else projected). */
  capacityRatio: number;
  /** bare / showcase CPU per consumer (1 = same cost). */
  cpuPerConsumerRatio: number;
  loadAvgAtStart: number;
  /** How busy the whole machine was (all cores, % of their time) over one second before the start. */
  othersBusyPct: number;
  cores: number;
  quiet: boolean;
  packetsPerSecondPerViewer: number;
  seconds: number;
}

export interface WebRtcCapacityOptions {
  /** Consumers added per step near saturation (2 per viewer); bigger steps while far below it. */
  step?: number;
  maxViewers?: number;
  /** Time bound of one side's ramp. */
  sideSeconds?: number;
  settleMs?: number;
  windowMs?: number;
  /** Worker CPU limit, fraction of one core. */
  cpuLimit?: number;
  deliveryMin?: number;
  /** A failing window where the worker waited longer than this (fraction) for a CPU is measured again. */
  maxRunQueueWait?: number;
  sampleEvery?: number;
  videoKbps?: number;
  quick?: boolean;
}

const VIDEO = { ssrc: 0x5c0f_0001, payloadType: 102, fps: 30, keyframeEvery: 30, keyframePackets: 30, mtuPayload: 1100 };
const AUDIO = { ssrc: 0x5c0f_0002, payloadType: 111, ptime: 20, bytes: 160 };
const H264_PARAMETERS = { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 };
const LISTEN: types.TransportListenInfo = { protocol: 'udp', ip: '127.0.0.1' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Busy and total jiffies of all cores, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/**
 * Seconds a process's threads have spent runnable but waiting for a CPU (/proc/<pid>/task/* /schedstat,
 * second field, ns): how much the rest of the machine kept the worker from running.
 */
function runQueueWaitSeconds(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // a thread that just ended
    }
  }
  return ns / 1e9;
}

/**
 * A publisher made of timers: H.264 (SPS, PPS, then the frame as FU-A fragments of NAL type 5 for
 * keyframes, 1 otherwise) and Opus-sized audio, with correct RTP headers, SSRCs and payload types.
 * It sends whatever is due on each tick, so a late timer catches up instead of lowering the rate.
 */
class SyntheticRtpSender {
  readonly #socket = dgram.createSocket('udp4');
  readonly #payload = Buffer.alloc(1500, 0x5a);
  readonly #frameBytes: { key: number; delta: number };
  #timer?: NodeJS.Timeout;
  #t0 = 0;
  #frames = 0;
  #audio = 0;
  #vseq = 0;
  #aseq = 0;
  #port = 0;
  packets = 0;

  constructor(videoKbps: number) {
    this.#frameBytes = SyntheticRtpSender.frameBytes(videoKbps);
    this.#socket.on('error', () => {});
  }

  /** Bytes of a keyframe (~30 packets) and of the other frames, for the bitrate over a keyframe group. */
  static frameBytes(videoKbps: number): { key: number; delta: number } {
    const perGroup = (videoKbps * 1000 / 8) * (VIDEO.keyframeEvery / VIDEO.fps);
    const key = VIDEO.keyframePackets * VIDEO.mtuPayload;
    return { key, delta: Math.max(200, Math.round((perGroup - key) / (VIDEO.keyframeEvery - 1))) };
  }

  /** RTP packets per second a sender at this bitrate averages (video + audio). */
  static packetsPerSecond(videoKbps: number): number {
    const deltaPackets = Math.ceil(SyntheticRtpSender.frameBytes(videoKbps).delta / VIDEO.mtuPayload);
    const group = VIDEO.keyframePackets + 2 + (VIDEO.keyframeEvery - 1) * deltaPackets;
    return group * (VIDEO.fps / VIDEO.keyframeEvery) + 1000 / AUDIO.ptime;
  }

  async start(port: number): Promise<void> {
    this.#port = port;
    await new Promise<void>((r) => this.#socket.bind(0, '127.0.0.1', r));
    this.#t0 = performance.now();
    this.#timer = setInterval(() => this.#tick(), 5);
  }

  #tick(): void {
    const elapsed = performance.now() - this.#t0;
    while (this.#audio <= elapsed / AUDIO.ptime) this.#sendAudio();
    while (this.#frames <= (elapsed / 1000) * VIDEO.fps) this.#sendFrame();
  }

  #rtp(pt: number, seq: number, ts: number, ssrc: number, marker: boolean, header: Buffer, bytes: number): void {
    const h = Buffer.allocUnsafe(12);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | pt;
    h.writeUInt16BE(seq & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    h.writeUInt32BE(ssrc, 8);
    this.#socket.send([h, header, this.#payload.subarray(0, bytes)], this.#port, '127.0.0.1');
    this.packets++;
  }

  #sendAudio(): void {
    this.#rtp(AUDIO.payloadType, this.#aseq++, this.#audio * 960, AUDIO.ssrc, false, Buffer.alloc(0), AUDIO.bytes);
    this.#audio++;
  }

  #sendFrame(): void {
    const key = this.#frames % VIDEO.keyframeEvery === 0;
    const ts = this.#frames * (90000 / VIDEO.fps);
    if (key) {
      // SPS and PPS as single-NAL packets ahead of the IDR (what an encoder sends).
      this.#rtp(VIDEO.payloadType, this.#vseq++, ts, VIDEO.ssrc, false, Buffer.from([0x67, 0x42, 0xe0, 0x1f]), 8);
      this.#rtp(VIDEO.payloadType, this.#vseq++, ts, VIDEO.ssrc, false, Buffer.from([0x68, 0xce, 0x3c, 0x80]), 0);
    }
    const nalType = key ? 5 : 1;
    let left = key ? this.#frameBytes.key : this.#frameBytes.delta;
    let first = true;
    while (left > 0) {
      const n = Math.min(left, VIDEO.mtuPayload);
      left -= n;
      // FU-A indicator (NRI 3, type 28) and header (start / end bits + the NAL type).
      const fu = Buffer.from([0x7c, (first ? 0x80 : 0) | (left === 0 ? 0x40 : 0) | nalType]);
      this.#rtp(VIDEO.payloadType, this.#vseq++, ts, VIDEO.ssrc, left === 0, fu, n);
      first = false;
    }
    this.#frames++;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#socket.close();
  }
}

/** One SSRC's reception at a sink: packets and the highest extended sequence number seen. */
interface SsrcCount { received: number; maxExt: number; cycles: number; last: number }

/** A viewer's socket that counts RTP packets per SSRC (RTCP is skipped). */
class CountingSink {
  readonly socket = dgram.createSocket('udp4');
  readonly ssrcs = new Map<number, SsrcCount>();
  port = 0;

  async open(): Promise<void> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.socket.setRecvBufferSize(1 << 20);
    this.port = this.socket.address().port;
    this.socket.on('message', (m) => {
      if (m.length < 12 || (m[1]! & 0x7f) >= 72 && (m[1]! & 0x7f) <= 76) return;
      const ssrc = m.readUInt32BE(8);
      const seq = m.readUInt16BE(2);
      let c = this.ssrcs.get(ssrc);
      if (!c) this.ssrcs.set(ssrc, c = { received: 0, maxExt: seq, cycles: 0, last: seq });
      c.received++;
      if (seq < c.last && c.last - seq > 0x8000) c.cycles += 0x10000;
      if (((seq - c.last) & 0xffff) < 0x8000) c.last = seq;
      c.maxExt = Math.max(c.maxExt, c.cycles + seq);
    });
  }

  /** Packets received and the extended highest sequence, summed over SSRCs (undefined until both flow). */
  snapshot(): { received: number; top: number } | undefined {
    if (this.ssrcs.size < 2) return undefined;
    let received = 0;
    let top = 0;
    for (const c of this.ssrcs.values()) {
      received += c.received;
      top += c.maxExt;
    }
    return { received, top };
  }

  close(): void {
    this.socket.close();
  }
}

/** A UDP socket bound in a worker thread that never reads it: the kernel drops what overflows (bench/cluster uses it too). */
export class DrainSink {
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  #thread?: Thread;
  #exited?: Promise<unknown>;
  port = 0;

  async open(): Promise<void> {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const s = require('node:dgram').createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        parentPort.postMessage(s.address().port);
        Atomics.wait(new Int32Array(workerData), 0, 0);
        s.close();
        parentPort.close();
      });`;
    this.#thread = new Thread(code, { eval: true, workerData: this.#flag.buffer });
    this.#exited = new Promise((r) => this.#thread!.once('exit', r));
    this.port = await new Promise<number>((resolve, reject) => {
      this.#thread!.once('message', resolve);
      this.#thread!.once('error', reject);
    });
  }

  async close(): Promise<void> {
    if (!this.#thread) return;
    Atomics.store(this.#flag, 0, 1);
    Atomics.notify(this.#flag, 0);
    await this.#exited;
  }
}

/** What a side offers the ramp: its worker's pid, where the publisher sends, and how to add a viewer. */
interface Side {
  pid: number;
  ingestPort: number;
  addViewer(sinkPort: number): Promise<void>;
  close(): void;
}

/** The publisher's PlainTransport (comedia: it learns the sender's address) with audio and video producers. */
async function makeSource(router: types.Router): Promise<{ port: number; producers: types.Producer[] }> {
  const t = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: true });
  const cname = 'showcase-capacity-bench';
  const audio = await t.produce({ kind: 'audio', rtpParameters: {
    codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO.payloadType, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
    encodings: [{ ssrc: AUDIO.ssrc }], rtcp: { cname, reducedSize: false } } });
  const video = await t.produce({ kind: 'video', rtpParameters: {
    codecs: [{ mimeType: 'video/H264', payloadType: VIDEO.payloadType, clockRate: 90000, parameters: H264_PARAMETERS, rtcpFeedback: [] }],
    encodings: [{ ssrc: VIDEO.ssrc }], rtcp: { cname, reducedSize: false } } });
  return { port: t.tuple.localPort, producers: [audio, video] };
}

/** A viewer's PlainTransport sending to `sinkPort`, consuming `producerIds` (no RTX, as WHEP viewers). */
async function plainViewer(router: types.Router, producerIds: string[], sinkPort: number): Promise<void> {
  const t = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: false });
  await t.connect({ ip: '127.0.0.1', port: sinkPort });
  for (const producerId of producerIds) await t.consume({ producerId, rtpCapabilities: router.rtpCapabilities, enableRtx: false });
}

/** The minimal script: a worker and a router straight from mediasoup. */
async function bareSide(): Promise<Side> {
  const mediasoup = await loadMediasoup();
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs: WHIP_MEDIA_CODECS });
  const { port, producers } = await makeSource(router);
  return {
    pid: worker.pid,
    ingestPort: port,
    addViewer: (sinkPort) => plainViewer(router, producers.map((p) => p.id), sinkPort),
    close: () => worker.close(),
  };
}

/** Our path: WorkerPool, a WhepPlayback source, viewers placed by placeViewer on StreamFanout's edge. */
async function showcaseSide(): Promise<Side> {
  const logger = createLogger('warn', process.stderr);
  const pool = await WorkerPool.create({ size: 1, logger });
  const router = await pool.createRouter('bench:source', WHIP_MEDIA_CODECS);
  const { port, producers } = await makeSource(router);
  const big = 1_000_000;
  const whep = new WhepPlayback({
    pool, logger, listenInfos: [LISTEN], timeouts: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 5000 },
    limits: { maxViewers: big, maxViewersPerStream: big, maxViewersPerIp: big, maxConsumersPerWorker: big },
  });
  whep.setSource({ streamId: 'bench', router, producers });
  return {
    pid: pool.load()[0]!.pid!,
    ingestPort: port,
    addViewer: async (sinkPort) => {
      const place = await whep.placeViewer({ streamId: 'bench', remoteAddress: '127.0.0.1' });
      await plainViewer(place.router, place.producers.map((p) => p.id), sinkPort);
    },
    close: () => {
      whep.close('bench done');
      pool.close();
    },
  };
}

/**
 * Worker CPU (% of a core) per consumer above the source-only figure: the median over the passing
 * steps (one window where the scheduler starved or favoured the worker must not tilt it).
 */
function cpuPerConsumer(steps: CapacityStep[], idlePct: number): number {
  const v = steps.filter((s) => s.pass && s.consumers > 0).map((s) => (s.workerCpuPct - idlePct) / s.consumers).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : NaN;
}

/** Viewers at `limitPct` by the cost per consumer so far (NaN until a step passed). */
function projectedViewers(steps: CapacityStep[], idlePct: number, limitPct: number): number {
  const c = cpuPerConsumer(steps, idlePct);
  return c > 0 ? (limitPct - idlePct) / c / 2 : NaN;
}

/** Ramps one side's viewers until a step fails twice in a row or the bounds are reached. */
async function ramp(make: () => Promise<Side>, o: Required<Omit<WebRtcCapacityOptions, 'quick'>>, log: (line: string) => void): Promise<CapacitySide> {
  const side = await make();
  const sender = new SyntheticRtpSender(o.videoKbps);
  const drain = new DrainSink();
  const sinks: CountingSink[] = [];
  try {
    await drain.open();
    await sender.start(side.ingestPort);
    const started = performance.now();
    const measure = async (): Promise<{ cpu: number; wait: number; delivery: number; harness: number; flowing: number }> => {
      await sleep(o.settleMs);
      const before = sinks.map((s) => s.snapshot());
      const c0 = processCpuSeconds(side.pid);
      const q0 = runQueueWaitSeconds(side.pid);
      const h0 = process.cpuUsage();
      const w0 = performance.now();
      await sleep(o.windowMs);
      const wall = (performance.now() - w0) / 1000;
      const cpu = (processCpuSeconds(side.pid) - c0) / wall;
      const wait = (runQueueWaitSeconds(side.pid) - q0) / wall;
      const h = process.cpuUsage(h0);
      const ds: number[] = [];
      sinks.forEach((s, i) => {
        const a = before[i];
        const b = s.snapshot();
        // Not flowing at the window's start: late (skipped) if it started since, else nothing arrives.
        if (!a) {
          if (!b) ds.push(0);
          return;
        }
        ds.push(b && b.top > a.top ? Math.min(1, (b.received - a.received) / (b.top - a.top)) : 0);
      });
      const delivery = ds.length ? Math.min(...ds) : 1;
      return { cpu, wait, delivery, harness: (h.user + h.system) / 1e6 / wall, flowing: sinks.filter((s) => s.snapshot()).length };
    };
    const idle = await measure();
    const steps: CapacityStep[] = [];
    const base = Math.max(1, Math.round(o.step / 2));
    let step = base;
    let viewers = 0;
    let harnessCpuPct = idle.harness * 100;
    let failedAt = -1;
    let retries = 0;
    let saturated = false;
    let contended = 0;
    let prevCpu: number | undefined;
    while (viewers < o.maxViewers && (performance.now() - started) / 1000 < o.sideSeconds) {
      if (failedAt !== viewers) {
        const n = Math.min(step, o.maxViewers - viewers);
        for (let i = 0; i < n; i++, viewers++) {
          let port: number;
          if (viewers % o.sampleEvery === 0) {
            const sink = new CountingSink();
            await sink.open();
            sinks.push(sink);
            port = sink.port;
          } else port = drain.port;
          await side.addViewer(port);
        }
        retries = 0;
        prevCpu = undefined;
      }
      const m = await measure();
      // Near the limit one 2 s window reads a few % either side of it: a second look at the same
      // count is judged on the mean of both windows' CPU (and on its own delivery).
      const cpu = failedAt === viewers && prevCpu !== undefined ? (prevCpu + m.cpu) / 2 : m.cpu;
      const pass = cpu <= o.cpuLimit && m.delivery >= o.deliveryMin;
      // The worker waited for a CPU (other processes had both cores): a failure then says nothing about it.
      const starved = !pass && m.wait > o.maxRunQueueWait;
      if (starved) contended++;
      else prevCpu = m.cpu;
      steps.push({ consumers: viewers * 2, workerCpuPct: Number((m.cpu * 100).toFixed(1)), minDelivery: Number(m.delivery.toFixed(4)), runQueueWaitPct: Number((m.wait * 100).toFixed(1)), pass });
      log(`  ${String(viewers * 2).padStart(5)} consumers: worker ${(m.cpu * 100).toFixed(1).padStart(5)} % of a core (waited ${(m.wait * 100).toFixed(1)} % for one)${cpu !== m.cpu ? `, mean of two ${(cpu * 100).toFixed(1)} %` : ''}, worst sink ${(m.delivery * 100).toFixed(2)} % (${m.flowing}/${sinks.length} sinks hear audio + video)${pass ? '' : starved ? '  contended: again' : '  FAIL'}`);
      if (pass) {
        harnessCpuPct = m.harness * 100;
        failedAt = -1;
      } else {
        // Measured again at the same count: once after a plain failure (one noisy window must not
        // end the ramp), up to 4 times while the machine starves the worker.
        retries++;
        if ((!starved && failedAt === viewers) || retries > 4) {
          saturated = true;
          break;
        }
        failedAt = viewers;
        continue;
      }
      // Big steps while far below the projected saturation (halfway to 70 % of it), fine ones near it;
      // larger still when the time left would not reach it.
      const projected = projectedViewers(steps, idle.cpu * 100, o.cpuLimit * 100);
      step = base;
      if (Number.isFinite(projected)) {
        step = Math.max(base, Math.floor((0.7 * projected - viewers) / 2));
        const elapsed = (performance.now() - started) / 1000;
        const left = Math.max(1, Math.floor((o.sideSeconds - elapsed) / (elapsed / (steps.length + 1))) - 1);
        if ((projected - viewers) / step > left) step = Math.ceil((projected - viewers) / left);
      }
    }
    const perConsumer = cpuPerConsumer(steps, idle.cpu * 100);
    const passing = steps.filter((s) => s.pass);
    return {
      capacityConsumers: passing.length ? Math.max(...passing.map((s) => s.consumers)) : 0,
      saturated,
      idleCpuPct: Number((idle.cpu * 100).toFixed(1)),
      cpuPerConsumerPct: Number(perConsumer.toFixed(4)),
      projectedConsumers: 2 * Math.round(projectedViewers(steps, idle.cpu * 100, o.cpuLimit * 100)),
      harnessCpuPct: Number(harnessCpuPct.toFixed(1)),
      contendedWindows: contended,
      steps,
    };
  } finally {
    sender.close();
    for (const s of sinks) s.close();
    await drain.close();
    side.close();
  }
}

/** Runs the ramp on the bare worker, then on ours, and compares them. */
export async function runWebRtcCapacityBench(opts: WebRtcCapacityOptions = {}): Promise<WebRtcCapacityResult> {
  if (!resolveWorkerBinary()) throw new Error('mediasoup-worker missing (bash native/mediasoup/build.sh or MEDIASOUP_WORKER_BIN)');
  const o: Required<Omit<WebRtcCapacityOptions, 'quick'>> = {
    step: opts.step ?? 20,
    maxViewers: opts.maxViewers ?? 1000,
    sideSeconds: opts.sideSeconds ?? (opts.quick ? 30 : 75),
    settleMs: opts.settleMs ?? 1200,
    windowMs: opts.windowMs ?? 2000,
    cpuLimit: opts.cpuLimit ?? 0.9,
    deliveryMin: opts.deliveryMin ?? 0.99,
    maxRunQueueWait: opts.maxRunQueueWait ?? 0.1,
    sampleEvery: opts.sampleEvery ?? 8,
    videoKbps: opts.videoKbps ?? 1500,
  };
  const load = loadavg()[0]!;
  const j0 = machineJiffies();
  await sleep(1000);
  const j1 = machineJiffies();
  const othersBusyPct = Math.round((100 * (j1.busy - j0.busy)) / Math.max(1, j1.total - j0.total));
  const t0 = performance.now();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log('webrtc-capacity: bare mediasoup worker');
  const bare = await ramp(bareSide, o, log);
  log('webrtc-capacity: showcase (WorkerPool + WhepPlayback.placeViewer edge)');
  const showcase = await ramp(showcaseSide, o, log);
  const both = bare.saturated && showcase.saturated;
  const capacityRatio = both ? showcase.capacityConsumers / bare.capacityConsumers : showcase.projectedConsumers / bare.projectedConsumers;
  return {
    bare,
    showcase,
    capacityRatio: Number(capacityRatio.toFixed(3)),
    cpuPerConsumerRatio: Number((bare.cpuPerConsumerPct / showcase.cpuPerConsumerPct).toFixed(3)),
    loadAvgAtStart: Number(load.toFixed(2)),
    othersBusyPct,
    cores: availableParallelism(),
    quiet: load <= 1,
    packetsPerSecondPerViewer: Math.round(SyntheticRtpSender.packetsPerSecond(o.videoKbps)),
    seconds: Math.round((performance.now() - t0) / 1000),
  };
}

/** The figures as the table a standalone run prints (bench/run prints a shorter one). */
export function capacityRows(r: WebRtcCapacityResult): Array<{ figure: string; bare: string; showcase: string }> {
  const cap = (s: CapacitySide): string => `${s.capacityConsumers}${s.saturated ? '' : '+ (not saturated)'} (${s.capacityConsumers / 2} viewers)`;
  return [
    { figure: 'consumers at saturation (<= 90 % of a core, >= 99 % delivered)', bare: cap(r.bare), showcase: cap(r.showcase) },
    { figure: 'worker CPU per consumer (% of a core)', bare: String(r.bare.cpuPerConsumerPct), showcase: String(r.showcase.cpuPerConsumerPct) },
    { figure: 'projected consumers at 90 % of a core', bare: String(r.bare.projectedConsumers), showcase: String(r.showcase.projectedConsumers) },
    { figure: 'worker CPU with the source only (%)', bare: String(r.bare.idleCpuPct), showcase: String(r.showcase.idleCpuPct) },
    { figure: 'harness CPU at the last passing step (%)', bare: String(r.bare.harnessCpuPct), showcase: String(r.showcase.harnessCpuPct) },
    { figure: 'failing windows measured again (worker starved by others)', bare: String(r.bare.contendedWindows), showcase: String(r.showcase.contendedWindows) },
    { figure: 'showcase / bare capacity (target >= 90 %)', bare: '', showcase: `${(r.capacityRatio * 100).toFixed(1)} % (${r.capacityRatio >= 0.9 ? 'met' : 'missed'}; CPU per consumer ratio ${(r.cpuPerConsumerRatio * 100).toFixed(1)} %)` },
    { figure: 'machine', bare: `load ${r.loadAvgAtStart}, ${r.othersBusyPct} % busy on ${r.cores} cores at start`, showcase: r.quiet ? 'quiet' : 'NOT quiet (load > 1): figures are only indicative' },
    { figure: 'input', bare: `${r.packetsPerSecondPerViewer} RTP packets/s per viewer`, showcase: `${r.seconds} s` },
  ];
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runWebRtcCapacityBench({ step: arg('step'), maxViewers: arg('max-viewers'), sideSeconds: arg('side-seconds'), quick: process.argv.includes('--quick') });
  console.table(capacityRows(r));
  if (!r.quiet) console.log(`load average was ${r.loadAvgAtStart} (> 1) at the start: rerun on a quiet machine for figures worth quoting`);
}
