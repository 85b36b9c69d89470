/**
 * Go-live fan-out to 100,000 followers (issue 15): a creator with 100,000 followers, each with a
 * Web Push subscription at a local push sink, and 3 webhook endpoints (local sinks, in a child
 * process of their own). Figures:
 *  - time from the go-live (the stream's state turning live) until the last push request is sent
 *    (the sink's 100,000th request), and the push rate;
 *  - memory at the peak (RSS and V8 heap, sampled every 100 ms) against the baseline before;
 *  - the origin latency of the stream going live during the fan-out against a quiet go-live (a
 *    creator with no followers) of the same source, measured as bench/origin-latency.ts does
 *    (its collectParts/latencySamples), over the same window after each go-live.
 * Run: node dist/bench/notify-fanout.js [--followers 100000] [--seconds 25] [--height 480]
 */
import { spawn } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ShowcaseApp } from '../src/app.js';
import { generateSecret } from '../src/journey/notify/webhook-signature.js';
import { collectParts, latencySamples, pct, sourceFile } from './origin-latency.js';

export interface NotifyFanoutResult {
  followers: number;
  /** Go-live to the last push request received by the sink (s). */
  lastPushAfterSeconds: number;
  pushesPerSecond: number;
  pushesReceived: number;
  webhooksReceived: number;
  rssBaselineMb: number;
  rssPeakMb: number;
  heapBaselineMb: number;
  heapPeakMb: number;
  /** The push thread's own V8 heap at its peak. */
  pushThreadHeapPeakMb: number;
  quietLatencyP50Ms: number;
  quietLatencyP95Ms: number;
  fanoutLatencyP50Ms: number;
  fanoutLatencyP95Ms: number;
  /** fan-out p50 minus quiet p50: the target is within 50 ms. */
  latencyDeltaP50Ms: number;
  windowSeconds: number;
  loadAvgAtStart: number;
}

const ADMIN = 'bench';

interface Sink {
  port: number;
  stats(): Promise<{ push: number; hooks: number; firstPushAt: number; lastPushAt: number }>;
  stop(): void;
}

async function startSink(): Promise<Sink> {
  const file = join(fileURLToPath(new URL('.', import.meta.url)), 'notify-sink.js');
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`sink exited ${code}`)));
  });
  return {
    port,
    stats: async () => (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Awaited<ReturnType<Sink['stats']>>,
    stop: () => void child.kill('SIGKILL'),
  };
}

/** Writes a creator's followers and their subscriptions straight into the store file (one transaction, a second connection: setup, not measured). */
function populate(file: string, creatorId: string, followers: number, sinkPort: number): void {
  const db = new Database(file, { timeout: 30_000 });
  // 64 browser key pairs shared round-robin: each message is still encrypted on its own (a fresh ECDH per message).
  const keys = Array.from({ length: 64 }, () => {
    const e = createECDH('prime256v1');
    e.generateKeys();
    return { p256dh: e.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
  });
  const shopper = db.prepare('INSERT INTO shoppers (id, display_name, token_hash, created_at) VALUES (?, ?, ?, ?)');
  const follow = db.prepare('INSERT INTO followers (creator_id, shopper_id, created_at) VALUES (?, ?, ?)');
  const sub = db.prepare('INSERT INTO push_subscriptions (id, shopper_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < followers; i++) {
      const id = `sh_bench_${String(i).padStart(6, '0')}`;
      shopper.run(id, `Shopper ${i}`, `bench-token-hash-${i}`, 1);
      follow.run(creatorId, id, 1);
      const k = keys[i % keys.length]!;
      sub.run(`ps_bench_${i}`, id, `http://127.0.0.1:${sinkPort}/push/${i}`, k.p256dh, k.auth, 1);
    }
  })();
  db.close();
}

async function api(app: ShowcaseApp, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${app.httpPort}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}

/** Publishes src to a stream of `ownerId`; resolves at go-live with what the latency measure needs. */
async function goLive(app: ShowcaseApp, src: string, ownerToken: string, seconds: number) {
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/streams`, { method: 'POST', headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Fan-out bench' }) });
  const s = (await res.json()) as { id: string; streamKey: string };
  if (res.status !== 201) throw new Error(`creating the stream: ${res.status} ${JSON.stringify(s)}`);
  const pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', src, '-t', String(seconds), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${app.rtmpPort}/live/${s.streamKey}`], { stdio: 'ignore' });
  const done = new Promise((r) => pub.on('exit', r));
  let liveAt = 0;
  for (let i = 0; i < 400 && !liveAt; i++) {
    if (app.registry.get(s.id)?.state === 'live') liveAt = Date.now();
    else await new Promise((r) => setTimeout(r, 25));
  }
  let stream;
  for (let i = 0; i < 400 && !(stream = app.origin.get(s.id))?.ready(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!stream || !liveAt) throw new Error('stream never became ready');
  const top = [...stream.timelines.values()][0]!;
  return { id: s.id, liveAt, top, publishStart: () => app.registry.get(s.id)!.clock!.wallAtFirstMs, stop: async () => { pub.kill('SIGINT'); await done; } };
}

/** Origin latency over windowMs from now (after a 3 s warm-up from the first part, as origin-latency does). */
async function measure(live: Awaited<ReturnType<typeof goLive>>, windowMs: number): Promise<{ p50: number; p95: number }> {
  await new Promise((r) => setTimeout(r, 3000));
  const w0 = Date.now();
  const parts = collectParts(live.top);
  await new Promise((r) => setTimeout(r, windowMs));
  parts.stop();
  const { sampled } = latencySamples(parts.parts, live.publishStart(), w0, Date.now());
  return { p50: Math.round(pct(sampled, 50)), p95: Math.round(pct(sampled, 95)) };
}

/** Runs the benchmark and returns its figures. */
export async function runNotifyFanoutBench(opts: { followers?: number; seconds?: number; height?: number; quick?: boolean } = {}): Promise<NotifyFanoutResult> {
  const followers = opts.followers ?? (opts.quick ? 10_000 : 100_000);
  const windowS = opts.seconds ?? (opts.quick ? 10 : 25);
  const height = opts.height ?? 480;
  const loadAvgAtStart = Number(loadavg()[0]!.toFixed(2));
  const src = sourceFile(height, windowS + 40);
  const sink = await startSink();
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-notify-'));
  const file = join(dataDir, 'showcase.db');
  let app: ShowcaseApp | undefined;
  try {
    app = await ShowcaseApp.start({
      env: {},
      overrides: {
        logLevel: 'warn', dataDir, adminToken: ADMIN, http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' }, recording: { enabled: false },
        push: { allowLocalEndpoints: true },
        webhooks: { endpoints: [0, 1, 2].map((i) => ({ url: `http://127.0.0.1:${sink.port}/hooks/${i}`, secret: generateSecret() })) },
      },
      logDestination: process.stderr,
    });
    // Two creators through the API; the followers and their subscriptions straight into the file (setup, not measured).
    const tokens: Record<string, string> = {};
    const ids: Record<string, string> = {};
    for (const handle of ['fans', 'quiet']) {
      const r = (await api(app, 'POST', '/v1/creators', { handle, displayName: handle })) as { id?: string; token?: string };
      if (!r.id || !r.token) throw new Error(`creator: ${JSON.stringify(r)}`);
      [ids[handle], tokens[handle]] = [r.id, r.token];
    }
    populate(file, ids.fans!, followers, sink.port);

    // The quiet go-live: nobody follows cr_quiet.
    const quietLive = await goLive(app, src, tokens.quiet!, windowS + 10);
    const quiet = await measure(quietLive, windowS * 1000);
    await quietLive.stop();

    global.gc?.();
    const base = process.memoryUsage();
    let rssPeak = base.rss;
    let heapPeak = base.heapUsed;
    let threadHeapPeak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed);
      void app!.notify.pushThreadHeapUsed().then((n) => (threadHeapPeak = Math.max(threadHeapPeak, n)), () => {});
    }, 100);
    const fanLive = await goLive(app, src, tokens.fans!, windowS + 40);
    const during = await measure(fanLive, windowS * 1000);
    // The fan-out may outlast the window: wait for the last push (bounded: 10 minutes).
    const deadline = Date.now() + 600_000;
    let st = await sink.stats();
    while (st.push < followers && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      st = await sink.stats();
    }
    clearInterval(sampler);
    await fanLive.stop();
    const tookS = (st.lastPushAt - fanLive.liveAt) / 1000;
    const mb = (b: number) => Math.round(b / 1048576);
    return {
      followers, lastPushAfterSeconds: Number(tookS.toFixed(1)), pushesPerSecond: Math.round(st.push / Math.max(0.001, (st.lastPushAt - st.firstPushAt) / 1000)),
      pushesReceived: st.push, webhooksReceived: st.hooks,
      rssBaselineMb: mb(base.rss), rssPeakMb: mb(rssPeak), heapBaselineMb: mb(base.heapUsed), heapPeakMb: mb(heapPeak), pushThreadHeapPeakMb: mb(threadHeapPeak),
      quietLatencyP50Ms: quiet.p50, quietLatencyP95Ms: quiet.p95, fanoutLatencyP50Ms: during.p50, fanoutLatencyP95Ms: during.p95,
      latencyDeltaP50Ms: during.p50 - quiet.p50, windowSeconds: windowS, loadAvgAtStart,
    };
  } finally {
    await app?.stop();
    sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runNotifyFanoutBench({ followers: arg('followers') ? Number(arg('followers')) : undefined, seconds: arg('seconds') ? Number(arg('seconds')) : undefined, height: arg('height') ? Number(arg('height')) : undefined });
  console.table({
    followers: r.followers,
    'go-live to the last push sent (s)': r.lastPushAfterSeconds,
    'pushes per second': r.pushesPerSecond,
    'pushes / webhooks received': `${r.pushesReceived} / ${r.webhooksReceived}`,
    'RSS baseline / peak (MB)': `${r.rssBaselineMb} / ${r.rssPeakMb}`,
    'V8 heap baseline / peak (MB)': `${r.heapBaselineMb} / ${r.heapPeakMb}`,
    'push thread V8 heap peak (MB)': r.pushThreadHeapPeakMb,
    'origin latency quiet go-live p50 / p95 (ms)': `${r.quietLatencyP50Ms} / ${r.quietLatencyP95Ms}`,
    'origin latency during the fan-out p50 / p95 (ms)': `${r.fanoutLatencyP50Ms} / ${r.fanoutLatencyP95Ms}`,
    'target: within 50 ms of the quiet go-live': r.latencyDeltaP50Ms <= 50 ? `met (p50 +${r.latencyDeltaP50Ms} ms)` : `missed (p50 +${r.latencyDeltaP50Ms} ms)`,
    'window (s), load at start': `${r.windowSeconds}, ${r.loadAvgAtStart}`,
  });
  process.exit(0);
}
