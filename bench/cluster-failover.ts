/**
 * bench/cluster's failover figure: time from `kill -9` of the node holding a live stream to media
 * flowing again after the publisher's reconnect, through HAProxy. Three real node processes
 * (dist/src/main.js; a process is what kill -9 needs) on 127.0.0.2-4, one PostgreSQL and one Redis
 * started here, a recordings directory they share, HAProxy on 127.0.0.5 for HTTP and RTMP. The
 * publisher (ffmpeg) goes through HAProxy; after the kill, the reconnect is retried every
 * `retryMs` (OBS's "retry delay") until a node accepts it. Reported per run, and the median:
 *  - haproxyDownMs: kill → HAProxy's health checks mark the node DOWN;
 *  - acceptedMs: kill → a reconnect accepted (bounded below by the dead node leaving the set:
 *    its heartbeat key expires after cluster.nodeTtlMs, 1.5 s here; the lease, leaseMs, is longer);
 *  - mediaMs: kill → the first part of the continued run listed in the live playlist through HAProxy.
 * Run: npm run build && node dist/bench/cluster-failover.js (also part of node dist/bench/cluster.js)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRtmp } from '../test/helpers/ffmpeg.js';
import { startPgCluster } from '../test/helpers/postgres.js';
import { startRedis } from '../test/helpers/redis.js';
import { startNodeProcess, type NodeProcess } from '../test/helpers/node-process.js';
import { startHaproxy } from '../test/helpers/haproxy.js';
import { freePort } from '../test/helpers/free-port.js';
import pg from 'pg';

export interface FailoverBenchResult {
  failoverRuns: number;
  failoverLeaseMs: number;
  failoverRetryMs: number;
  failoverHaproxyDownMs: number[];
  failoverAcceptedMs: number[];
  failoverMediaMs: number[];
  /** Median of failoverMediaMs: kill -9 to media flowing again after the reconnect. */
  failoverMediaP50Ms: number;
}

const ADMIN = 'bench-admin-token';
const LADDER = [{ name: '180p', height: 180, videoBitrateKbps: 300, maxFrameRate: 30 }];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function api(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(10_000) });
  return res.json();
}

/** Polls fn every everyMs until it answers truthy; throws after timeoutMs. */
async function until<T>(fn: () => Promise<T>, what: string, timeoutMs: number, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v) return v as NonNullable<T>;
    await sleep(everyMs);
  }
  throw new Error(`failover bench: timed out waiting for ${what}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

/** Runs `runs` failovers (a fresh stream each; the killed node is started again after each). */
export async function runFailoverBench(opts: { runs?: number; leaseMs?: number; retryMs?: number; quick?: boolean } = {}): Promise<FailoverBenchResult> {
  const runs = opts.runs ?? (opts.quick ? 1 : 3);
  const leaseMs = opts.leaseMs ?? 10_000;
  const retryMs = opts.retryMs ?? 1000;
  const pgServer = await startPgCluster();
  const redis = await startRedis();
  const recordings = mkdtempSync(join(tmpdir(), 'showcase-bench-rec-'));
  const hosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const ids = ['node-a', 'node-b', 'node-c'];
  const ports = new Map<string, { http: number; rtmp: number }>();
  for (const [i, id] of ids.entries()) ports.set(id, { http: await freePort(hosts[i]), rtmp: await freePort(hosts[i]) });
  const start = (i: number): Promise<NodeProcess> => {
    const id = ids[i]!;
    const host = hosts[i]!;
    const p = ports.get(id)!;
    return startNodeProcess({
      id, address: host, port: p.http,
      config: {
        logLevel: 'warn', adminToken: ADMIN, http: { host, port: p.http }, rtmp: { host, port: p.rtmp },
        store: { url: pgServer.url, maxConnections: 4 }, node: { id, url: `http://${host}:${p.http}`, leaseMs },
        cluster: { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500 }, streams: { reconnectGraceMs: 30_000 },
        transcode: { ladder: LADDER, x264Preset: 'ultrafast', audioBitrateKbps: 64 }, webrtc: { enabled: false },
        recording: { dir: recordings, minFreeBytes: 0 },
      },
    });
  };
  const db = new pg.Pool({ connectionString: pgServer.url, max: 1 });
  const nodes: NodeProcess[] = [];
  let lb: Awaited<ReturnType<typeof startHaproxy>> | undefined;
  const pubs: Array<ReturnType<typeof publishRtmp>> = [];
  const out = { haproxyDown: [] as number[], accepted: [] as number[], media: [] as number[] };
  try {
    for (let i = 0; i < 3; i++) nodes.push(await start(i));
    lb = await startHaproxy({ bind: '127.0.0.5', servers: ids.map((id, i) => ({ name: id, address: hosts[i]!, httpPort: ports.get(id)!.http, rtmpPort: ports.get(id)!.rtmp })), checkIntervalMs: 300 });
    for (let run = 0; run < runs; run++) {
      await until(async () => { const s = await lb!.serverStates(); return ids.every((id) => s.rtmp[id] === 'UP'); }, 'every node UP in HAProxy', 20_000, 100);
      const s = await api(lb.httpUrl, 'POST', '/v1/streams', { title: `failover ${run}` });
      const pub = publishRtmp(`${lb.rtmpUrl}/${s.streamKey}`, 600);
      pubs.push(pub);
      const media = `${lb.httpUrl}/hls/${s.id}/180p/index.m3u8`;
      // Live with at least two complete segments; the holder from the cluster's own view.
      await until(async () => { const r = await fetch(media); const text = await r.text(); return r.status === 200 && (text.match(/\ns\d+\.m4s\n/g)?.length ?? 0) >= 2; }, 'the stream live through HAProxy', 40_000, 200);
      const holderId = (await db.query<{ node: string }>('SELECT lease_node_id AS node FROM streams WHERE id = $1', [s.id])).rows[0]?.node;
      const victim = nodes.find((n) => n.id === holderId);
      if (!victim) throw new Error('failover bench: no node reports the stream live');
      const lastSeq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(await (await fetch(media)).text())?.[1] ?? 0);
      await victim.kill();
      const killedAt = performance.now();
      const down = until(async () => (await lb!.serverStates()).rtmp[victim.id]?.startsWith('DOWN'), 'HAProxy marking the node DOWN', 10_000, 25).then(() => performance.now() - killedAt);
      await pub.done;
      let accepted: number | undefined;
      for (let attempt = 0; attempt < 60 && accepted === undefined; attempt++) {
        const tried = performance.now() - killedAt;
        const p = publishRtmp(`${lb.rtmpUrl}/${s.streamKey}`, 600);
        pubs.push(p);
        const refused = await Promise.race([p.done.then(() => true), sleep(1500).then(() => false)]);
        if (!refused) accepted = tried;
        else await sleep(retryMs);
      }
      if (accepted === undefined) throw new Error('failover bench: no reconnect was accepted');
      await until(async () => {
        const text = await (await fetch(media)).text();
        return Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? -1) > lastSeq && /#EXT-X-DISCONTINUITY\n/.test(text) && /#EXT-X-PART:/.test(text);
      }, 'media of the continued run through HAProxy', 30_000, 25);
      out.media.push(Math.round(performance.now() - killedAt));
      out.accepted.push(Math.round(accepted));
      out.haproxyDown.push(Math.round(await down));
      for (const p of pubs.splice(0)) p.kill('SIGKILL');
      // The killed node comes back for the next run (its own streams: none left live).
      const idx = nodes.indexOf(victim);
      nodes[idx] = await start(ids.indexOf(victim.id));
    }
  } finally {
    for (const p of pubs) p.kill('SIGKILL');
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await db.end();
    await redis.remove();
    await pgServer.stop();
    rmSync(recordings, { recursive: true, force: true });
  }
  return {
    failoverRuns: runs, failoverLeaseMs: leaseMs, failoverRetryMs: retryMs,
    failoverHaproxyDownMs: out.haproxyDown, failoverAcceptedMs: out.accepted, failoverMediaMs: out.media, failoverMediaP50Ms: median(out.media),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runFailoverBench();
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
