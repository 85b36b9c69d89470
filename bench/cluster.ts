/**
 * The cluster's figures, side by side in one run (about 40 s): three in-process nodes on
 * 127.0.0.2-4 over one PostgreSQL and one Redis started here.
 *  - placement balance: max/min streams per node for 9 streams created through the nodes in turn;
 *  - proxied blocking reload: the same next part asked of the holding node B and, at the same
 *    instant, of node C (which proxies to B); the extra time C takes (p50/p95);
 *  - chat delivery: a message sent on A, time to a socket on A and to a socket on C (p50/p99).
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

/** Runs the cluster figures once; resolves with them. */
export async function runClusterBench(opts: { reloads?: number; chats?: number } = {}): Promise<ClusterBenchResult> {
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
          cluster: { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500 }, recording: { enabled: false }, webrtc: { enabled: false },
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
    return {
      placementBalance, perNode,
      reloadDirectP50Ms: pct(direct, 50), reloadExtraP50Ms: pct(extra, 50), reloadExtraP95Ms: pct(extra, 95), reloadSamples: extra.length,
      chatInNodeP50Ms: pct(inNode, 50), chatInNodeP99Ms: pct(inNode, 99), chatCrossNodeP50Ms: pct(cross, 50), chatCrossNodeP99Ms: pct(cross, 99), chatSamples: n,
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
