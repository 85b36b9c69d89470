// Failover behind a real load balancer: three node processes (dist/src/main.js), each in its own
// network namespace on a bridge (10.98.x.2-4/24), PostgreSQL and Redis started by the test, a
// recordings directory all nodes share, and HAProxy (Debian's) in front on the bridge address for
// HTTP and RTMP (TCP mode), health-checked on /healthz. Everything is seen from outside, through
// HAProxy, with real ffmpeg:
//  1. OBS (ffmpeg) publishes RTMP through HAProxy; the stream goes live on whichever node it lands on.
//  2. A Redis restart with live media: the live playlist keeps advancing (directly and through
//     HAProxy, so proxied by the other nodes) while Redis is down; the nodes re-register after.
//  3. A PostgreSQL restart with live media: the same; afterwards the nodes write again and nothing
//     stored before is lost, the stream still live on its node.
//  4. `kill -9` of the node holding the stream: OBS reconnects through HAProxy (a second ffmpeg with
//     the same key, retried as OBS does until accepted), lands on another node, and the same stream
//     id continues: the live playlist goes on past every segment served before, after a
//     discontinuity; the VOD has one discontinuity and every segment written before the kill.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { databaseUrl, startPgCluster } from '../helpers/postgres.js';
import { bridgeNetOrSkip, bridgeRedis, clusterApi, forwardDatabase, netnsClusterSkip, netnsNodeConfig, teardownNodes } from '../helpers/netns-cluster.js';
import { startNodeProcess } from '../helpers/node-process.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { getText, waitFor } from '../helpers/server.js';
import { readJournal, type JournalSegment } from '../../src/recorder/journal.js';

const skip = netnsClusterSkip();
// Long enough that a PostgreSQL restart never lets a lease lapse, and that the takeover below is
// seen to come from the holder leaving the cluster (its heartbeat, 1.5 s), not from its lease.
const LEASE_MS = 10_000;
const GRACE_MS = 30_000;

function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return clusterApi(base, method, path, body, { timeoutMs: 10_000 });
}

/** The live edge of a media playlist: msn * 1000 + part of the preload hint (undefined when none). */
function edge(text: string): number | undefined {
  const m = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/.exec(text);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : undefined;
}

/**
 * Samples a live playlist every 400 ms for `ms` through each base: every answer must be a 200 and
 * the edge must move on. Returns the samples per base, for the assertions and the comment.
 */
async function sampleLive(bases: Record<string, string>, path: string, ms: number): Promise<Record<string, Array<{ status: number; edge?: number }>>> {
  const out: Record<string, Array<{ status: number; edge?: number }>> = Object.fromEntries(Object.keys(bases).map((k) => [k, []]));
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end && i < 100; i++) {
    await Promise.all(Object.entries(bases).map(async ([k, base]) => {
      const r = await getText(base + path).catch(() => ({ status: 0, text: '' }));
      out[k]!.push({ status: r.status, edge: r.status === 200 ? edge(r.text) : undefined });
    }));
    await new Promise((r) => setTimeout(r, 400));
  }
  return out;
}

function assertAdvancing(t: Test, what: string, samples: Record<string, Array<{ status: number; edge?: number }>>): void {
  for (const [k, list] of Object.entries(samples)) {
    const bad = list.filter((s) => s.status !== 200);
    t.equal(bad.length, 0, `${what}: every live playlist request ${k} answered 200 (${list.map((s) => s.status).join(',')})`);
    const edges = list.map((s) => s.edge).filter((e): e is number => e !== undefined);
    t.ok(edges.length >= 2 && edges[edges.length - 1]! > edges[0]!, `${what}: the live edge ${k} kept advancing (${edges[0]} → ${edges[edges.length - 1]})`);
  }
}

t.test('failover behind HAProxy: Redis and PostgreSQL restarts with live media, kill -9 and the same stream continues on another node', { skip }, async (t) => {
  const net = bridgeNetOrSkip(t, 3);
  if (!net) return;
  // A PostgreSQL of this test's own: it is restarted below, which must not disturb other files.
  const pgc = await startPgCluster();
  t.teardown(() => pgc.stop());
  const admin = new pg.Client({ connectionString: pgc.url });
  await admin.connect();
  await admin.query('CREATE DATABASE showcase_failover');
  await admin.end();
  const dbUrl = databaseUrl(pgc.url, 'showcase_failover');
  const db = await forwardDatabase(t, net, dbUrl);
  const sql = new pg.Pool({ connectionString: dbUrl, max: 2 });
  sql.on('error', () => {}); // the restart below cuts its idle connections
  t.teardown(() => sql.end());
  const redis = await bridgeRedis(t, net);
  // The recordings volume every node mounts (one directory: the namespaces share the filesystem).
  const recordings = mkdtempSync(join(tmpdir(), 'showcase-shared-rec-'));
  t.teardown(() => rmSync(recordings, { recursive: true, force: true }));

  const ids = ['node-a', 'node-b', 'node-c'];
  const nodes = teardownNodes(t, 5000);
  for (const [i, id] of ids.entries()) {
    const { name, address } = net.hosts[i]!;
    nodes.push(await startNodeProcess({
      id, address, port: 8080, netns: name,
      config: {
        ...netnsNodeConfig({ id, address, port: 8080, db, redisUrl: redis.url, leaseMs: LEASE_MS }),
        streams: { reconnectGraceMs: GRACE_MS },
        webrtc: { enabled: false }, recording: { dir: recordings, minFreeBytes: 0 },
      },
    }));
  }
  const byId = (id: string) => nodes.find((n) => n.id === id)!;
  for (const n of nodes) await waitFor(async () => (await api(n.base, 'GET', '/v1/cluster/nodes')).json?.nodes?.length === 3, `${n.id} sees three nodes`, 10_000, 100);

  const lb = await startHaproxy({ bind: net.bridgeAddress, servers: nodes.map((n, i) => ({ name: n.id, address: net.hosts[i]!.address, httpPort: 8080, rtmpPort: 1935 })), checkIntervalMs: 300 });
  t.teardown(async () => {
    if (!t.passing()) t.comment(`haproxy:\n${lb.log().slice(-2000)}`);
    await lb.stop();
  });
  await waitFor(async () => { const s = await lb.serverStates(); return ids.every((id) => s.http[id] === 'UP' && s.rtmp[id] === 'UP'); }, 'HAProxy sees the three nodes UP', 10_000, 100);

  // 1. Publish through HAProxy; the stream goes live where it landed.
  const created = await api(lb.httpUrl, 'POST', '/v1/streams', { title: 'failover' });
  t.equal(created.status, 201, 'the API answers through HAProxy');
  const { id, streamKey } = created.json as { id: string; streamKey: string };
  const pub1 = publishRtmp(`${lb.rtmpUrl}/${streamKey}`, 600);
  t.teardown(() => { pub1.kill('SIGKILL'); });
  const lease = async (): Promise<{ state: string; node: string | null; expires: number | null }> => {
    const r = await sql.query<{ state: string; lease_node_id: string | null; lease_expires_at: string | null }>('SELECT state, lease_node_id, lease_expires_at FROM streams WHERE id = $1', [id]);
    const row = r.rows[0]!;
    return { state: row.state, node: row.lease_node_id, expires: row.lease_expires_at === null ? null : Number(row.lease_expires_at) };
  };
  const first = await waitFor(async () => { const l = await lease(); return l.state === 'live' && l.node ? l : undefined; }, 'live through HAProxy', 20_000);
  const holder = byId(first.node!);
  t.comment(`the publish through HAProxy landed on ${holder.id}`);
  const media = `/hls/${id}/180p/index.m3u8`;
  await waitFor(async () => { const r = await getText(lb.httpUrl + media); return r.status === 200 && /\ns\d+\.m4s\n/.test(r.text); }, 'a complete segment through HAProxy', 30_000);
  // Every node answers it once (the practice flag and the holder get cached as a viewer would cause).
  for (const n of nodes) t.equal((await getText(n.base + media)).status, 200, `${n.id} serves it (its own, or proxied)`);
  const journal = join(recordings, id, 'journal.jsonl');
  await waitFor(async () => existsSync(journal) && (await readJournal(journal)).filter((e) => e.t === 'seg').length >= 4, 'segments recorded on the shared volume', 30_000);

  // 2. Redis restart with live media.
  const viewers = { direct: holder.base, haproxy: lb.httpUrl };
  await redis.stop();
  const duringRedis = await sampleLive(viewers, media, 3000);
  assertAdvancing(t, 'Redis down', duringRedis);
  await redis.restart();
  for (const n of nodes) {
    await waitFor(async () => { const c = (await api(n.base, 'GET', '/v1/cluster/nodes')).json; return c?.redisHealthy === true && c.nodes.length === 3; }, `${n.id} re-registered in the restarted Redis`, 15_000, 200);
  }
  t.match(await lease(), { state: 'live', node: holder.id }, 'the stream stayed live on its node through the Redis restart');

  // 3. PostgreSQL restart with live media.
  const rowsBefore = (await sql.query<{ n: string }>('SELECT count(*) AS n FROM streams')).rows[0]!.n;
  const recBefore = (await sql.query<{ state: string }>('SELECT state FROM recordings WHERE stream_id = $1', [id])).rows[0]?.state;
  t.equal(recBefore, 'recording');
  await pgc.pause();
  const duringPg = await sampleLive(viewers, media, 3000);
  await pgc.resume();
  assertAdvancing(t, 'PostgreSQL down', duringPg);
  const again = await waitFor(async () => { const r = await api(lb.httpUrl, 'POST', '/v1/streams', { title: 'after the restart' }); return r.status === 201 ? r : undefined; }, 'the nodes write to PostgreSQL again', 20_000, 250);
  t.ok(again.json.id, 'a stream created after the restart');
  t.equal(Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM streams')).rows[0]!.n), Number(rowsBefore) + 1, 'nothing stored before was lost');
  const renewed = await waitFor(async () => { const l = await lease(); return l.state === 'live' && l.node === holder.id && l.expires! > Date.now() + LEASE_MS / 2 ? l : undefined; }, 'the holder renews its lease again', 15_000, 200);
  t.match(renewed, { state: 'live', node: holder.id }, 'still live on its node');

  // 4. kill -9 of the holder, mid-stream.
  const before = await getText(lb.httpUrl + media);
  const lastMsnBefore = Math.max(...[...before.text.matchAll(/^s(\d+)\.m4s/gm)].map((m) => Number(m[1])), Math.floor(edge(before.text)! / 1000));
  await holder.kill();
  const killedAt = Date.now();
  const writtenBefore = (await readJournal(journal)).filter((e): e is JournalSegment => e.t === 'seg' && e.r === '180p');
  t.ok(writtenBefore.length >= 4, `${writtenBefore.length} segments of 180p written before the kill`);
  t.not(await pub1.done, 0, 'the first publisher lost its connection (OBS would now reconnect)');
  await waitFor(async () => (await lb.serverStates()).rtmp[holder.id]?.startsWith('DOWN'), 'HAProxy marks the killed node DOWN', 10_000, 100);

  // OBS's reconnect: the same key through HAProxy, retried every second until a node accepts it
  // (refused as already publishing until the dead node leaves the cluster: its heartbeat expires).
  let pub2: ReturnType<typeof publishRtmp> | undefined;
  let attempts = 0;
  for (; attempts < 40; attempts++) {
    const p = publishRtmp(`${lb.rtmpUrl}/${streamKey}`, 12);
    t.teardown(() => { p.kill('SIGKILL'); });
    const refused = await Promise.race([p.done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2500))]);
    if (!refused) { pub2 = p; break; }
    await new Promise((r) => setTimeout(r, 1000));
  }
  t.ok(pub2, `a reconnect was accepted (attempt ${attempts + 1})`);
  const moved = await waitFor(async () => { const l = await lease(); return l.state === 'live' && l.node && l.node !== holder.id ? l : undefined; }, 'live again on another node', 15_000, 100);
  t.comment(`the reconnect landed on ${moved.node}`);
  await waitFor(() => byId(moved.node!).log().includes('the node holding the stream left the cluster'), 'the new node logged the takeover', 5000, 100);
  t.pass('taken over once the killed node left the cluster, before its lease expired');
  const after = await waitFor(async () => {
    const r = await getText(lb.httpUrl + media);
    return r.status === 200 && /#EXT-X-PART:/.test(r.text) && Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(r.text)?.[1]) > lastMsnBefore ? r.text : undefined;
  }, 'media flowing again through HAProxy', 30_000, 100);
  const failoverMs = Date.now() - killedAt;
  t.comment(`failover: kill -9 → media flowing again through HAProxy in ${failoverMs} ms (lease ${LEASE_MS} ms, ${attempts + 1} reconnect attempts)`);
  t.match(after, /#EXT-X-DISCONTINUITY-SEQUENCE:0\n[\s\S]*?#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/, 'the continued playlist starts with a discontinuity and the next run (init2)');
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(after)![1]);
  t.ok(seq > Math.max(...writtenBefore.map((s) => s.msn)), `its media sequence (${seq}) continues past every segment the dead node wrote`);
  const view = await api(lb.httpUrl, 'GET', `/v1/streams/${id}`);
  t.equal(view.json.state, 'live', 'the same stream id is live');
  t.equal((await api(lb.httpUrl, 'GET', '/v1/streams')).json.items.length, 2, 'no new stream was created by the reconnect');

  // The second publisher ends normally: the stream ends, its recording is finalized on the new node.
  t.equal(await pub2!.done, 0, 'the reconnected publisher ran to its end');
  const ended = await waitFor(async () => { const r = await api(lb.httpUrl, 'GET', `/v1/streams/${id}`); return r.json?.state === 'ended' ? r.json : undefined; }, 'the stream ended', 20_000);
  t.notMatch(ended.endReason, /no reconnect/, `it ended normally (${ended.endReason})`);
  const rec = await waitFor(async () => { const r = await api(lb.httpUrl, 'GET', `/v1/streams/${id}/recording`); return r.json?.state === 'ready' || r.json?.state === 'failed' ? r.json : undefined; }, 'recording finalized', 60_000, 250);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.equal(rec.discontinuities, 1, 'one VOD with one discontinuity');
  const vod = readFileSync(join(recordings, id, '180p', 'index.m3u8'), 'utf8');
  t.equal(vod.match(/#EXT-X-DISCONTINUITY\n/g)?.length, 1, 'the VOD playlist has one discontinuity');
  t.match(vod, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/);
  const listed = new Set([...vod.matchAll(/^s(\d+)\.m4s/gm)].map((m) => Number(m[1])));
  const missing = writtenBefore.filter((s) => !listed.has(s.msn)).map((s) => s.msn);
  t.same(missing, [], `every segment written before the kill is in the VOD (${writtenBefore.length})`);
  for (const s of writtenBefore) if (!existsSync(join(recordings, id, '180p', `s${s.msn}.m4s`))) t.fail(`s${s.msn}.m4s is gone`);
  t.ok([...listed].some((m) => m > lastMsnBefore), 'and the continued run\'s segments after them');
});
