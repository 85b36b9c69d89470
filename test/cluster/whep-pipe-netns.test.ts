// WHEP through another node, as three machines: nodes B and C are real processes
// (dist/src/main.js), each in its own network namespace on a bridge with private addresses, and the
// WebRTC viewer (Debian's python3-aiortc) runs in a third namespace; PostgreSQL and Redis started by
// the test are reached over the bridge. A stream published with real ffmpeg RTMP to B is played
// through C's WHEP: C pipes it from B over a PipeTransport with SRTP between the two namespaces'
// addresses (GET /v1/cluster/pipes on both), and the viewer decodes frames. After `kill -9` of B,
// C counts the holder gone and its pipe is closed. Only HTTP, RTMP and WebRTC from outside.
import t from 'tap';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { aiortcSkip, runAiortcClient } from '../helpers/aiortc.js';
import { bridgeDatabase, bridgeNetOrSkip, bridgeRedis, clusterApi as api, netnsClusterSkip, netnsNodeConfig, teardownNodes } from '../helpers/netns-cluster.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { getText, waitFor } from '../helpers/server.js';

const skip = netnsClusterSkip() || aiortcSkip();
const SECRET = 'netns-cluster-secret-0123456789';

t.test('WHEP through another node, nodes and viewer in their own network namespaces', { skip }, async (t) => {
  const net = bridgeNetOrSkip(t, 3);
  if (!net) return;
  const db = await bridgeDatabase(t, net);
  const redis = await bridgeRedis(t, net);

  const viewerNs = net.hosts[0]!;
  const nodes = teardownNodes(t, 5000);
  for (const [i, id] of [[1, 'node-b'], [2, 'node-c']] as const) {
    const { name, address } = net.hosts[i]!;
    const port = 8080;
    const base = netnsNodeConfig({ id, address, port, db, redisUrl: redis.url, leaseMs: 3000 });
    nodes.push(await startNodeProcess({
      id, address, port, netns: name,
      config: {
        ...base,
        cluster: { ...base.cluster, secret: SECRET, pipeKeepaliveMs: 300, pipeTimeoutMs: 2000, pipeIdleStopMs: 500 },
        // The host's own address (the namespace's veth) is what WebRTC and the pipe listen on.
        webrtc: { enabled: true, workers: 1, iceConsentTimeoutSeconds: 6, rtmpPlayback: { idleStopMs: 1500, x264Preset: 'ultrafast' } },
        recording: { enabled: false }, streams: { reconnectGraceMs: 0 },
      },
    }));
  }
  const [b, c] = nodes as [NodeProcess, NodeProcess];
  const [addrB, addrC] = [net.hosts[1]!.address, net.hosts[2]!.address];
  for (const n of nodes) await waitFor(async () => (await api(n.base, 'GET', '/v1/cluster/nodes')).json?.nodes?.length === 2, `${n.id} sees both nodes`, 10_000, 100);

  const s = (await api(b.base, 'POST', '/v1/streams', { title: 'piped across namespaces' })).json;
  const pub = publishRtmp(`rtmp://${addrB}:1935/live/${s.streamKey}`, 120);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await api(c.base, 'GET', `/v1/streams/${s.id}`)).json?.state === 'live', 'live on B', 20_000);
  await waitFor(async () => (await getText(`${b.base}/hls/${s.id}/180p/index.m3u8`)).status === 200, 'B\'s ladder running', 30_000);

  // The viewer, on a third machine, plays the stream from C.
  const viewer = runAiortcClient(['whep', `${c.base}/whep/${s.id}`, '--frames', '100000', '--seconds', '60'], ['ip', 'netns', 'exec', viewerNs.name]);
  t.teardown(() => viewer.stop());
  const answer = await viewer.next('answer', 30_000);
  t.equal(answer.status, 201, `C's WHEP answered 201${answer.status !== 201 ? `: ${JSON.stringify(answer)}` : ''}`);
  const connected = await viewer.next('connected', 30_000);
  t.equal(connected.remote?.host, addrC, `the viewer's ICE pair ends at C's address (${connected.remote?.host})`);
  const frames = await viewer.next('frames', 30_000, (e) => e.count >= 60);
  t.ok(frames.width > 0, `the viewer in its own namespace decodes frames from C (${frames.count}, ${frames.width}x${frames.height})`);

  const pipes = await waitFor(async () => {
    const onC = (await api(c.base, 'GET', '/v1/cluster/pipes')).json;
    const onB = (await api(b.base, 'GET', '/v1/cluster/pipes')).json;
    return onC.taking[0]?.bytesReceived > 20_000 && onB.holding[0]?.bytesSent > 20_000 ? { onC, onB } : undefined;
  }, 'bytes through the pipe', 15_000, 200);
  const [taking, holding] = [pipes.onC.taking[0], pipes.onB.holding[0]];
  t.match(taking, { streamId: s.id, node: 'node-b', local: { ip: addrC }, remote: { ip: addrB }, srtp: { cryptoSuite: /^(AEAD_AES_(256|128)_GCM|AES_CM_128_HMAC_SHA1_(80|32))$/ } }, 'C takes the pipe on its own address from B\'s, SRTP on');
  t.match(holding, { streamId: s.id, node: 'node-c', local: { ip: addrB }, remote: { ip: addrC }, srtp: { cryptoSuite: taking.srtp.cryptoSuite } }, 'B holds it, same suite');
  t.pass(`pipe ${addrB}:${holding.local.port} -> ${addrC}:${taking.local.port} (${taking.srtp.cryptoSuite}), ${taking.bytesReceived} bytes`);

  // kill -9 of the holder: C finds it gone and closes the pipe (and its viewer's session).
  await b.kill();
  const killedAt = Date.now();
  const after = await waitFor(async () => { const r = (await api(c.base, 'GET', '/v1/cluster/pipes')).json; return r.holderGone === 1 && r.taking.length === 0 ? r : undefined; }, 'C counted the holder gone', 15_000, 50);
  t.equal(after.opened, 1, 'one pipe was built in all');
  t.pass(`kill -9 of B -> C closed the pipe in ${Date.now() - killedAt} ms`);
  await viewer.stop();
});
