// The cluster on one machine: PostgreSQL and Redis started by the test, three nodes on three
// loopback addresses (127.0.0.2-4: three hosts as far as URLs go; network namespaces per node are
// the next step). Nodes A and C run in-process; node B is the real server process
// (dist/src/main.js), so it can be killed with SIGKILL. Shown: nodes find each other; placement
// spreads 9 streams 3/3/3 and hands out each node's own RTMP URL; a stream published (real ffmpeg)
// to B plays through C's HLS (a segment fetched from C decodes with ffprobe, cache headers kept),
// including a proxied blocking reload; after `kill -9` of B it leaves the set and its lease
// expires: a surviving node moves the stream to interrupted (naming B: a reconnect anywhere would
// continue it, see failover-netns.test.ts), C stops proxying it, and with nobody reconnecting it
// ends once the grace (and one lease period) ran out.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobe, publishRtmp } from '../helpers/ffmpeg.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis.js';
import { ADMIN, TEST_LADDER, getBytes, getText, logsOnFailure, startServer, waitFor, type TestServer } from '../helpers/server.js';
import type { ConfigOverrides } from '../../src/config/load-config.js';
import { freePort } from '../helpers/free-port.js';

const built = existsSync('dist/src/main.js');


async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

t.test('three nodes: placement, HLS through another node, a killed node leaves and its lease expires', { skip: !built && 'run npm run build first (node B is dist/src/main.js)' }, async (t) => {
  const pg = await pgCluster(t);
  const storeUrl = await freshDatabase(t, pg);
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  // Short timings so expiry shows within the test: heartbeat 300 ms, a node gone after 1.5 s, leases of 3 s.
  const cluster = { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500 };
  const common = (id: string, host: string, port: number): ConfigOverrides => ({
    http: { host, port }, rtmp: { host, port: 0 }, store: { url: storeUrl, maxConnections: 4 },
    node: { id, url: `http://${host}:${port}`, leaseMs: 3000 }, cluster, recording: { enabled: false }, streams: { reconnectGraceMs: 2000 },
  });

  const hostA = '127.0.0.2';
  const hostB = '127.0.0.3';
  const hostC = '127.0.0.4';
  const a: TestServer = await startServer(common('node-a', hostA, await freePort(hostA)));
  logsOnFailure(t, a);
  t.teardown(() => a.close());

  // Node B: the real process, configured by a file (the cluster's tunables have no environment variables).
  const portB = await freePort(hostB);
  const dirB = mkdtempSync(join(tmpdir(), 'showcase-node-b-'));
  t.teardown(() => rmSync(dirB, { recursive: true, force: true }));
  const configB = join(dirB, 'config.json');
  writeFileSync(configB, JSON.stringify({
    ...common('node-b', hostB, portB), logLevel: 'info', dataDir: join(dirB, 'data'), adminToken: ADMIN,
    transcode: { ladder: TEST_LADDER, x264Preset: 'ultrafast', audioBitrateKbps: 64 }, webrtc: { enabled: false },
  }));
  const childB = spawn(process.execPath, ['dist/src/main.js'], { env: { ...process.env, SHOWCASE_CONFIG: configB }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logB = '';
  childB.stdout!.on('data', (d: Buffer) => { logB = (logB + d.toString()).slice(-20_000); });
  childB.stderr!.on('data', (d: Buffer) => { logB = (logB + d.toString()).slice(-20_000); });
  const exitedB = new Promise<void>((resolve) => childB.once('exit', () => resolve()));
  t.teardown(() => { if (childB.exitCode === null && childB.signalCode === null) childB.kill('SIGKILL'); return exitedB; });
  t.teardown(() => { if (!t.passing()) t.comment(`node B log (tail):\n${logB.slice(-6000)}`); });
  const baseB = `http://${hostB}:${portB}`;

  const c: TestServer = await startServer(common('node-c', hostC, await freePort(hostC)));
  logsOnFailure(t, c);
  t.teardown(() => c.close());
  await waitFor(async () => (await fetch(`${baseB}/healthz`)).ok, 'node B answers', 30_000);

  // Membership: every node sees the three.
  for (const n of [a, c]) {
    await waitFor(() => n.app.cluster!.membership.nodes().length === 3, `${n.app.cluster!.id} sees three nodes`, 10_000, 50);
  }
  t.same(a.app.cluster!.membership.nodes().map((n) => n.id).sort(), ['node-a', 'node-b', 'node-c']);
  const rtmpPortB = a.app.cluster!.membership.node('node-b')!.rtmpPort;
  t.ok(rtmpPortB > 0, 'B\'s heartbeat carries its RTMP port');

  // Placement: 9 streams created through the three nodes in turn spread 3/3/3, each with its node's own RTMP URL.
  const bases = [a.base, baseB, c.base];
  const hostOf: Record<string, string> = { 'node-a': hostA, 'node-b': hostB, 'node-c': hostC };
  const placed: Array<{ id: string; streamKey: string; nodeId: string; rtmpUrl: string }> = [];
  for (let i = 0; i < 9; i++) {
    const r = await api(bases[i % 3]!, 'POST', '/v1/streams', { title: `show ${i}` });
    t.equal(r.status, 201);
    placed.push({ id: r.json.id, streamKey: r.json.streamKey, nodeId: r.json.ingest.nodeId, rtmpUrl: r.json.ingest.rtmpUrl });
  }
  const perNode: Record<string, number> = {};
  for (const p of placed) perNode[p.nodeId] = (perNode[p.nodeId] ?? 0) + 1;
  t.same(perNode, { 'node-a': 3, 'node-b': 3, 'node-c': 3 }, `placement balance ${JSON.stringify(perNode)}`);
  for (const p of placed) t.match(p.rtmpUrl, new RegExp(`^rtmp://${hostOf[p.nodeId]!.replace(/\./g, '\\.')}:\\d+/live$`), 'the RTMP URL is its node\'s host');
  const again = await api(c.base, 'GET', `/v1/streams/${placed[0]!.id}/ingest`);
  t.equal(again.status, 200);
  t.match(again.json, { nodeId: /^node-[abc]$/, rtmpUrl: /^rtmp:\/\//, streamKeyPrefix: placed[0]!.streamKey.slice(0, 7) }, 'asked again before going live');

  // A stream placed on B goes live there (real ffmpeg to the URL placement handed out).
  const s = placed.find((p) => p.nodeId === 'node-b')!;
  t.equal(s.rtmpUrl, `rtmp://${hostB}:${rtmpPortB}/live`);
  const pub = publishRtmp(`${s.rtmpUrl}/${s.streamKey}`, 120);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await a.app.store.getStream(s.id))?.lease?.nodeId === 'node-b', 'the lease names node B', 20_000);

  // Through C: the multivariant, a media playlist, and a segment that decodes.
  const master = await waitFor(async () => { const r = await getText(`${c.base}/hls/${s.id}/master.m3u8`); return r.status === 200 ? r : undefined; }, 'C serves B\'s multivariant', 20_000);
  t.match(master.text, /#EXTM3U[\s\S]*180p\/index\.m3u8/);
  t.equal(c.app.origin.get(s.id), undefined, 'C holds none of it: proxied');
  const media = await waitFor(async () => { const r = await getText(`${c.base}/hls/${s.id}/180p/index.m3u8`); return r.status === 200 && /\ns\d+\.m4s\n/.test(r.text) ? r : undefined; }, 'a complete segment listed through C', 20_000);
  const direct = await getText(`${baseB}/hls/${s.id}/180p/index.m3u8`);
  t.equal(media.headers.get('cache-control'), direct.headers.get('cache-control'), 'playlist cache-control kept');
  t.equal(media.headers.get('content-type'), direct.headers.get('content-type'), 'content-type kept');
  const seg = /\n(s\d+\.m4s)\n/.exec(media.text)![1]!;
  const init = await getBytes(`${c.base}/hls/${s.id}/180p/init1.mp4`);
  const body = await getBytes(`${c.base}/hls/${s.id}/180p/${seg}`);
  t.equal(init.status, 200);
  t.equal(body.status, 200);
  t.match(body.headers.get('cache-control'), /immutable/, 'a segment stays immutable through the proxy');
  t.ok(body.body.equals((await getBytes(`${baseB}/hls/${s.id}/180p/${seg}`)).body), 'the same bytes as on B');
  const ranged = await getBytes(`${c.base}/hls/${s.id}/180p/${seg}`, { range: 'bytes=0-99' });
  t.equal(ranged.status, 206, 'ranges pass through');
  t.equal(ranged.body.length, 100);
  const file = join(dirB, 'through-c.mp4');
  writeFileSync(file, Buffer.concat([init.body, body.body]));
  const probe = await ffprobe(file);
  t.match(probe.streams.find((x) => x.codec_type === 'video'), { codec_name: 'h264', width: 320, height: 180 }, 'the segment fetched from C decodes');

  // A blocking reload through C: held by B until the next part exists, then answered with it.
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/.exec((await getText(`${c.base}/hls/${s.id}/180p/index.m3u8`)).text)!;
  const t0 = Date.now();
  const blocked = await getText(`${c.base}/hls/${s.id}/180p/index.m3u8?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
  const waited = Date.now() - t0;
  t.equal(blocked.status, 200);
  t.match(blocked.text, new RegExp(`URI="p${hint[1]}\\.${hint[2]}\\.m4s"|\\ns${hint[1]}\\.m4s|URI="p${Number(hint[1]) + 1}\\.0\\.m4s"`), 'the blocked-for part is in the answer');
  t.ok(waited < 3000, `answered within a part or so (${waited} ms)`);
  t.ok(c.app.cluster!.proxy.proxied >= 6, 'C proxied each of them');
  t.equal(c.app.cluster!.proxy.inFlight, 0, 'no proxied request left in flight');
  t.equal((await getText(`${c.base}/hls/nosuchstream/master.m3u8`)).status, 404, 'a stream nobody holds is a local 404');

  // kill -9 of B: it leaves the set when its heartbeat expires, its lease expires, a surviving node
  // interrupts the stream (naming B), C stops proxying it; nobody reconnects: it ends after the grace.
  childB.kill('SIGKILL');
  await exitedB;
  const killedAt = Date.now();
  await waitFor(() => a.app.cluster!.membership.node('node-b') === undefined && c.app.cluster!.membership.node('node-b') === undefined, 'B left the set', 10_000, 50);
  const leftMs = Date.now() - killedAt;
  const interrupted = await waitFor(async () => { const r = await a.app.store.getStream(s.id); return r?.state === 'interrupted' ? r : undefined; }, 'B\'s stream interrupted by a survivor once its lease expired', 15_000);
  const expiredMs = Date.now() - killedAt;
  t.equal(interrupted.lease?.nodeId, 'node-b', 'its expired lease names B');
  t.ok(interrupted.lease!.expiresAt <= Date.now(), 'expired');
  t.equal(interrupted.endedAt, null, 'not ended: a reconnect within the grace would continue it');
  t.equal((await getText(`${c.base}/hls/${s.id}/master.m3u8`)).status, 404, 'C no longer proxies it');
  const ended = await waitFor(async () => { const r = await a.app.store.getStream(s.id); return r?.state === 'ended' ? r : undefined; }, 'ended once nobody reconnected within the grace', 20_000);
  t.match(ended, { endReason: /^interrupted; no reconnect within 2000 ms/, lease: null });
  t.comment(`after kill -9: left the set in ${leftMs} ms, lease expired and stream interrupted in ${expiredMs} ms, ended (no reconnect) in ${Date.now() - killedAt} ms`);
  const afterKill = await api(a.base, 'GET', `/v1/streams/${placed[1]!.id}/ingest`);
  t.not(afterKill.json.nodeId, 'node-b', 'placement no longer hands out B');
});
