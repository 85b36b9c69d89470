/**
 * The cluster's figures, side by side in one run (about 40 s): three in-process nodes on
 * 127.0.0.2-4 over one PostgreSQL and one Redis started here.
 *  - placement balance: max/min streams per node for 9 streams created through the nodes in turn;
 *  - proxied blocking reload: the same next part asked of the holding node B and, at the same
 *    instant, of node C (which proxies to B); the extra time C takes (p50/p95);
 *  - chat delivery: a message sent on A, time to a socket on A and to a socket on C (p50/p99);
 *  - WHEP viewers on a piped node vs the holding node: the same number of viewers (plain RTP
 *    transports to a sink that never reads, as bench/webrtc-capacity) placed on B, which holds the
 *    stream (its RTMP feed), then on C, which takes it over the SRTP pipe from B; each node's one
 *    mediasoup worker's CPU over a window with the source only and with the viewers gives its CPU
 *    per consumer and the consumers one worker carries at 85 % of a core (projected, as
 *    webrtc-capacity's projectedConsumers; short: no ramp to saturation);
 *  - failover (bench/cluster-failover.ts, node processes behind HAProxy): kill -9 of the node
 *    holding a stream to media flowing again after the publisher's reconnect.
 * Run: npm run build && node dist/bench/cluster.js
 */
import { ShowcaseApp } from '../src/app.js';
import { startPgCluster } from '../test/helpers/postgres.js';
import { startRedis } from '../test/helpers/redis.js';
import { openRoom } from '../test/helpers/room-client.js';
import { publishRtmp } from '../test/helpers/ffmpeg.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/free-port.js';
import type { types } from 'mediasoup';
import { processCpuSeconds } from '../src/core/proc-stat.js';
import { DrainSink } from './webrtc-capacity.js';
import { runFailoverBench, type FailoverBenchResult } from './cluster-failover.js';

export interface ClusterBenchResult {
  placementBalance: number;
  perNode: Record<string, number>;
  reloadDirectP50Ms: number;
  reloadExtraP50Ms: number;
  reloadExtraP95Ms: number;
  reloadSamples: number;
  chatInNodeP50Ms: number;
  chatInNodeP99Ms: number;
  chatCrossNodeP50Ms: number;
  chatCrossNodeP99Ms: number;
  chatSamples: number;
  /** WHEP consumers per worker at 85 % of a core (projected), on the holding node and on a piped one. */
  whepHoldingConsumersPerWorker: number;
  whepPipedConsumersPerWorker: number;
  /** Worker CPU per consumer (% of a core) on each, and the worker's CPU with the source only. */
  whepHoldingCpuPerConsumerPct: number;
  whepPipedCpuPerConsumerPct: number;
  whepHoldingIdleCpuPct: number;
  whepPipedIdleCpuPct: number;
  whepConsumersMeasured: number;
}

const WORKER_LIMIT_PCT = 85;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A worker's CPU (% of one core) over windowMs. */
async function workerCpuPct(pid: number, windowMs: number): Promise<number> {
  const c0 = processCpuSeconds(pid);
  const t0 = performance.now();
  await sleep(windowMs);
  return ((processCpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
}

/**
 * One node's WHEP consumers per worker: a first placement makes the stream's source there (B: its
 * RTMP feed; C: the pipe from B), the worker's CPU is read with the source only, then with `viewers`
 * viewers (two consumers each, plain transports to a drain sink).
 */
async function whepSide(app: ShowcaseApp, streamId: string, viewers: number, windowMs: number): Promise<{ idlePct: number; perConsumerPct: number; consumers: number; sentBytes: number }> {
  const whep = app.whep!;
  const pid = app.webrtcPool!.load()[0]!.pid!;
  const drain = new DrainSink();
  await drain.open();
  const transports: types.PlainTransport[] = [];
  const places: Array<{ release(): void }> = [];
  try {
    places.push(await whep.placeViewer({ streamId, remoteAddress: 'bench-source' }));
    await sleep(3000); // the source flowing (the feed's encode started, or the pipe connected)
    const idlePct = await workerCpuPct(pid, windowMs);
    for (let i = 0; i < viewers; i++) {
      const place = await whep.placeViewer({ streamId, remoteAddress: `bench-${i}` });
      places.push(place);
      const t = await place.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
      transports.push(t);
      await t.connect({ ip: '127.0.0.1', port: drain.port });
      for (const p of place.producers) await t.consume({ producerId: p.id, rtpCapabilities: place.router.rtpCapabilities, enableRtx: false });
    }
    await sleep(1500);
    const loadedPct = await workerCpuPct(pid, windowMs);
    let sentBytes = 0;
    for (const s of await transports[transports.length - 1]!.getStats()) sentBytes += s.bytesSent;
    const consumers = viewers * 2;
    return { idlePct, perConsumerPct: (loadedPct - idlePct) / consumers, consumers, sentBytes };
  } finally {
    for (const t of transports) t.close();
    for (const p of places) p.release();
    await drain.close();
  }
}

const ADMIN = 'bench-admin-token';

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10 : NaN;
}


async function api(base: string, method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<any> {
  const res = await fetch(base + path, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return res.json();
}

/** Runs the cluster figures once (the in-process ones, then the failover runs with node processes); resolves with them. */
export async function runClusterBench(opts: { reloads?: number; chats?: number; whepViewers?: number; quick?: boolean; failover?: boolean } = {}): Promise<ClusterBenchResult & Partial<FailoverBenchResult>> {
  const inProcess = await runInProcessCluster(opts);
  return opts.failover === false ? inProcess : { ...inProcess, ...(await runFailoverBench({ quick: opts.quick })) };
}

async function runInProcessCluster(opts: { reloads?: number; chats?: number; whepViewers?: number; quick?: boolean }): Promise<ClusterBenchResult> {
  const pg = await startPgCluster();
  const redis = await startRedis();
  const apps: ShowcaseApp[] = [];
  const dirs: string[] = [];
  let pub: ReturnType<typeof publishRtmp> | undefined;
  try {
    for (const [id, host] of [['node-a', '127.0.0.2'], ['node-b', '127.0.0.3'], ['node-c', '127.0.0.4']] as const) {
      const port = await freePort(host);
      const dataDir = mkdtempSync(join(tmpdir(), `showcase-bench-${id}-`));
      dirs.push(dataDir);
      apps.push(await ShowcaseApp.start({
        env: {},
        overrides: {
          logLevel: 'warn', dataDir, adminToken: ADMIN, http: { host, port }, rtmp: { host, port: 0 },
          store: { url: pg.url, maxConnections: 4 }, node: { id, url: `http://${host}:${port}` },
          cluster: { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500, secret: 'bench-cluster-secret-0123456789' }, recording: { enabled: false },
          // WebRTC on B (holds the stream) and C (takes it over the pipe), one worker each.
          webrtc: { enabled: id !== 'node-a', workers: 1, listenIp: host, rtcMinPort: id === 'node-b' ? 46000 : 47000, rtcMaxPort: id === 'node-b' ? 46999 : 47999,
            maxConsumersPerWorker: 100_000, maxViewersPerStream: 100_000, maxViewers: 100_000, rtmpPlayback: { x264Preset: 'ultrafast' } } as never,
          transcode: { ladder: [{ name: '180p', height: 180, videoBitrateKbps: 300, maxFrameRate: 30 }], x264Preset: 'ultrafast', audioBitrateKbps: 64 },
          room: { shopperCreatesPerMinute: 100, messagesPerSecond: 50, messageBurst: 50 },
        },
      }));
    }
    const [a, b, c] = apps as [ShowcaseApp, ShowcaseApp, ShowcaseApp];
    const base = (x: ShowcaseApp) => x.config.node.url;
    for (let i = 0; i < 200 && apps.some((x) => x.cluster!.membership.nodes().length < 3); i++) await new Promise((r) => setTimeout(r, 50));

    // Placement balance.
    const perNode: Record<string, number> = {};
    const created: any[] = [];
    for (let i = 0; i < 9; i++) {
      const s = await api(base(apps[i % 3]!), 'POST', '/v1/streams', { title: `bench ${i}` });
      created.push(s);
      perNode[s.ingest.nodeId] = (perNode[s.ingest.nodeId] ?? 0) + 1;
    }
    const counts = Object.values(perNode);
    const placementBalance = Math.max(...counts) / Math.min(...counts) * (counts.length < 3 ? Infinity : 1);

    // One stream live on B; the same blocking reload asked of B and of C at the same instant.
    const s = created.find((x) => x.ingest.nodeId === 'node-b');
    pub = publishRtmp(`${s.ingest.rtmpUrl}/${s.streamKey}`, 120);
    const pl = `/hls/${s.id}/180p/index.m3u8`;
    for (let i = 0; i < 300; i++) {
      const r = await fetch(base(c) + pl);
      if (r.status === 200 && /#EXT-X-PRELOAD-HINT/.test(await r.text())) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    const direct: number[] = [];
    const extra: number[] = [];
    for (let i = 0; i < (opts.reloads ?? 60); i++) {
      const text = await (await fetch(base(b) + pl)).text();
      const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/.exec(text);
      if (!hint) continue;
      const q = `${pl}?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`;
      const t0 = performance.now();
      const [tb, tc] = await Promise.all([b, c].map(async (x) => { const r = await fetch(base(x) + q); await r.text(); return performance.now() - t0; }));
      direct.push(tb!);
      extra.push(tc! - tb!);
    }

    // Chat: sent on A, received on A and on C.
    const shopper = await api(base(a), 'POST', '/v1/shoppers', { displayName: 'Bench' }, null);
    const sender = await openRoom(base(a), s.id);
    const onA = await openRoom(base(a), s.id);
    const onC = await openRoom(base(c), s.id);
    sender.send({ type: 'auth', token: shopper.token });
    await sender.next((f) => f.type === 'auth.ok');
    await new Promise((r) => setTimeout(r, 500)); // both nodes' channel subscriptions settle
    const inNode: number[] = [];
    const cross: number[] = [];
    const n = opts.chats ?? 100;
    for (let i = 0; i < n; i++) {
      const text = `bench message ${i}`;
      const t0 = performance.now();
      const fromA = onA.next((f) => f.type === 'chat' && f.text === text, 5000, onA.frames.length).then(() => performance.now() - t0);
      const fromC = onC.next((f) => f.type === 'chat' && f.text === text, 5000, onC.frames.length).then(() => performance.now() - t0);
      sender.send({ type: 'chat', text });
      inNode.push(await fromA);
      cross.push(await fromC);
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const r of [sender, onA, onC]) r.ws.close();

    // WHEP consumers per worker: the holding node B, then the piped node C (B's worker then also
    // sends the pipe, C's receives it: each side's source-only window holds that).
    const viewers = opts.whepViewers ?? (opts.quick ? 30 : 60);
    const windowMs = opts.quick ? 3000 : 5000;
    const holding = await whepSide(b, s.id, viewers, windowMs);
    const piped = await whepSide(c, s.id, viewers, windowMs);
    if (holding.sentBytes === 0 || piped.sentBytes === 0) throw new Error(`a WHEP viewer got nothing (holding ${holding.sentBytes} B, piped ${piped.sentBytes} B)`);
    // A window too noisy to see the viewers' cost reads as NaN, never as an endless capacity.
    const perWorker = (x: typeof holding): number => (x.perConsumerPct > 0 ? Math.round((WORKER_LIMIT_PCT - x.idlePct) / x.perConsumerPct) : NaN);
    return {
      placementBalance, perNode,
      reloadDirectP50Ms: pct(direct, 50), reloadExtraP50Ms: pct(extra, 50), reloadExtraP95Ms: pct(extra, 95), reloadSamples: extra.length,
      chatInNodeP50Ms: pct(inNode, 50), chatInNodeP99Ms: pct(inNode, 99), chatCrossNodeP50Ms: pct(cross, 50), chatCrossNodeP99Ms: pct(cross, 99), chatSamples: n,
      whepHoldingConsumersPerWorker: perWorker(holding), whepPipedConsumersPerWorker: perWorker(piped),
      whepHoldingCpuPerConsumerPct: Math.round(holding.perConsumerPct * 1000) / 1000, whepPipedCpuPerConsumerPct: Math.round(piped.perConsumerPct * 1000) / 1000,
      whepHoldingIdleCpuPct: Math.round(holding.idlePct * 10) / 10, whepPipedIdleCpuPct: Math.round(piped.idlePct * 10) / 10, whepConsumersMeasured: holding.consumers,
    };
  } finally {
    pub?.kill('SIGKILL');
    for (const x of apps) await x.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await redis.remove();
    await pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runClusterBench();
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
