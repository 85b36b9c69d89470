// The cluster as three machines: three real node processes (dist/src/main.js), each in its own
// network namespace on a bridge with private addresses (10.98.x.2-4/24), PostgreSQL and Redis
// started by the test and reached over the bridge. Shown from outside, over HTTP and RTMP only:
// the nodes see each other; 9 streams are placed 3/3/3; a stream published (real ffmpeg) to B
// plays through C's HLS (a segment fetched from C decodes with ffprobe; a proxied blocking reload);
// after `kill -9` of B it leaves the set, its lease expires and a survivor interrupts its stream
// (naming B), which ends once the grace ran out with nobody reconnecting (the reconnect that
// continues it on another node: failover-netns.test.ts).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobe, publishRtmp } from '../helpers/ffmpeg.js';
import { bridgeDatabase, bridgeNetOrSkip, bridgeRedis, clusterApi as api, netnsClusterSkip, netnsNodeConfig, teardownNodes } from '../helpers/netns-cluster.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { getBytes, getText, waitFor } from '../helpers/server.js';

const skip = netnsClusterSkip();

t.test('three nodes in three network namespaces', { skip }, async (t) => {
  const net = bridgeNetOrSkip(t, 3);
  if (!net) return;
  const db = await bridgeDatabase(t, net);
  const redis = await bridgeRedis(t, net);

  const ids = ['node-a', 'node-b', 'node-c'];
  const nodes = teardownNodes(t, 4000);
  for (const [i, id] of ids.entries()) {
    const { name, address } = net.hosts[i]!;
    const port = 8080;
    nodes.push(await startNodeProcess({
      id, address, port, netns: name,
      config: {
        ...netnsNodeConfig({ id, address, port, db, redisUrl: redis.url, leaseMs: 3000 }),
        streams: { reconnectGraceMs: 2000 },
        webrtc: { enabled: false }, recording: { enabled: false },
      },
    }));
  }
  const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];

  for (const n of nodes) {
    await waitFor(async () => (await api(n.base, 'GET', '/v1/cluster/nodes')).json?.nodes?.length === 3, `${n.id} sees three nodes`, 10_000, 100);
  }
  const seen = (await api(a.base, 'GET', '/v1/cluster/nodes')).json;
  t.same(seen.nodes.map((n: { id: string }) => n.id).sort(), ids, 'A sees A, B and C');
  t.same(seen.nodes.map((n: { url: string }) => n.url).sort(), net.hosts.map((h) => `http://${h.address}:8080`), 'at their private addresses');

  const placed: Array<{ id: string; streamKey: string; nodeId: string; rtmpUrl: string }> = [];
  for (let i = 0; i < 9; i++) {
    const r = await api(nodes[i % 3]!.base, 'POST', '/v1/streams', { title: `show ${i}` });
    t.equal(r.status, 201);
    placed.push({ id: r.json.id, streamKey: r.json.streamKey, nodeId: r.json.ingest.nodeId, rtmpUrl: r.json.ingest.rtmpUrl });
  }
  const perNode: Record<string, number> = {};
  for (const p of placed) perNode[p.nodeId] = (perNode[p.nodeId] ?? 0) + 1;
  t.same(perNode, { 'node-a': 3, 'node-b': 3, 'node-c': 3 }, `placement balance ${JSON.stringify(perNode)}`);

  const s = placed.find((p) => p.nodeId === 'node-b')!;
  t.equal(s.rtmpUrl, `rtmp://${net.hosts[1]!.address}:1935/live`, 'B\'s own RTMP address');
  const pub = publishRtmp(`${s.rtmpUrl}/${s.streamKey}`, 120);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await api(a.base, 'GET', `/v1/streams/${s.id}`)).json?.state === 'live', 'live on B', 20_000);

  const media = await waitFor(async () => { const r = await getText(`${c.base}/hls/${s.id}/180p/index.m3u8`); return r.status === 200 && /\ns\d+\.m4s\n/.test(r.text) ? r : undefined; }, 'a complete segment listed through C', 25_000);
  t.equal((await getText(`${c.base}/hls/${s.id}/master.m3u8`)).status, 200, 'C serves B\'s multivariant');
  const seg = /\n(s\d+\.m4s)\n/.exec(media.text)![1]!;
  const init = await getBytes(`${c.base}/hls/${s.id}/180p/init1.mp4`);
  const body = await getBytes(`${c.base}/hls/${s.id}/180p/${seg}`);
  t.equal(body.status, 200);
  t.match(body.headers.get('cache-control'), /immutable/);
  const dir = mkdtempSync(join(tmpdir(), 'showcase-netns-seg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'seg.mp4');
  writeFileSync(file, Buffer.concat([init.body, body.body]));
  t.match((await ffprobe(file)).streams.find((x) => x.codec_type === 'video'), { codec_name: 'h264', width: 320, height: 180 }, 'the segment fetched from C decodes');
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/.exec((await getText(`${c.base}/hls/${s.id}/180p/index.m3u8`)).text)!;
  const blocked = await getText(`${c.base}/hls/${s.id}/180p/index.m3u8?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
  t.equal(blocked.status, 200);
  t.match(blocked.text, new RegExp(`URI="p${hint[1]}\\.${hint[2]}\\.m4s"|\\ns${hint[1]}\\.m4s|URI="p${Number(hint[1]) + 1}\\.0\\.m4s"`), 'the proxied blocking reload answers with the part');
  t.ok((await api(c.base, 'GET', '/v1/cluster/nodes')).json.proxy.proxied >= 5, 'C proxied them');

  await b.kill();
  const killedAt = Date.now();
  await waitFor(async () => (await api(a.base, 'GET', '/v1/cluster/nodes')).json?.nodes?.length === 2, 'B left the set', 10_000, 50);
  const leftMs = Date.now() - killedAt;
  await waitFor(async () => (await api(a.base, 'GET', `/v1/streams/${s.id}`)).json?.state === 'interrupted', 'B\'s stream interrupted once its lease expired', 15_000);
  const interruptedMs = Date.now() - killedAt;
  const ended = await waitFor(async () => { const r = (await api(a.base, 'GET', `/v1/streams/${s.id}`)).json; return r?.state === 'ended' ? r : undefined; }, 'ended once nobody reconnected within the grace', 20_000);
  t.match(ended.endReason, /^interrupted; no reconnect within 2000 ms/);
  t.comment(`after kill -9 of B: left the set in ${leftMs} ms, stream interrupted (lease expired) in ${interruptedMs} ms, ended (no reconnect) in ${Date.now() - killedAt} ms`);
  t.equal((await getText(`${c.base}/hls/${s.id}/master.m3u8`)).status, 404, 'C no longer proxies it');
});
