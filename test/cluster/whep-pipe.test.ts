// WebRTC viewers on any node (issue 17): PostgreSQL and Redis started by the test, node B the real
// server process (dist/src/main.js, so it can be killed with SIGKILL), node C in-process. A stream
// published with real ffmpeg RTMP to B is watched through C's WHEP by real WebRTC clients (Debian's
// python3-aiortc, test/clients/aiortc-client.py) that decode frames: C pipes the stream's producers
// from B over a mediasoup PipeTransport with SRTP on (both ends' suites read from
// GET /v1/cluster/pipes), one pipe shared by C's two viewers; the pipe is torn down on both nodes
// once they left; the stream stopping on B closes C's viewers (B tells C); and B killed with
// SIGKILL closes C's pipe and its viewers with SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis.js';
import { aiortcSkip, runAiortcClient } from '../helpers/aiortc.js';
import { interfaceAddresses } from '../../src/webrtc/listen-plan.js';
import { ADMIN, TEST_LADDER, getText, logsOnFailure, startServer, waitFor, type TestServer } from '../helpers/server.js';
import type { ConfigOverrides } from '../../src/config/load-config.js';
import type { WhepSession } from '../../src/playback/whep/whep-session.js';
import { freePort } from '../helpers/free-port.js';

const built = existsSync('dist/src/main.js');
// aioice never gathers loopback candidates: the nodes' WebRTC announces the host's own address.
const skip = !built ? 'run npm run build first (node B is dist/src/main.js)'
  : aiortcSkip() || (interfaceAddresses().length === 0 ? 'this host has no non-loopback address (aioice does not use loopback)' : false);
const SECRET = 'test-cluster-secret-0123456789';

async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

t.test('a stream published to node B plays over WHEP through node C (PipeTransport, SRTP)', { skip }, async (t) => {
  const pg = await pgCluster(t);
  const storeUrl = await freshDatabase(t, pg);
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const cluster = { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500, secret: SECRET, pipeKeepaliveMs: 300, pipeTimeoutMs: 2000, pipeIdleStopMs: 500 };
  const common = (id: string, host: string, port: number, rtc: number): ConfigOverrides => ({
    http: { host, port }, rtmp: { host, port: 0 }, store: { url: storeUrl, maxConnections: 4 },
    node: { id, url: `http://${host}:${port}`, leaseMs: 3000 }, cluster, recording: { enabled: false },
    streams: { reconnectGraceMs: 0 },
    webrtc: { enabled: true, workers: 1, rtcMinPort: rtc, rtcMaxPort: rtc + 499, bridgeMinPort: rtc - 10_000, bridgeMaxPort: rtc - 9_501, iceConsentTimeoutSeconds: 6,
      rtmpPlayback: { idleStopMs: 1500, x264Preset: 'ultrafast' } } as ConfigOverrides['webrtc'],
  });
  const hostB = '127.0.0.3';
  const hostC = '127.0.0.4';

  // Node B: the real process, configured by a file.
  const portB = await freePort(hostB);
  const dirB = mkdtempSync(join(tmpdir(), 'showcase-pipe-b-'));
  t.teardown(() => rmSync(dirB, { recursive: true, force: true }));
  const configB = join(dirB, 'config.json');
  writeFileSync(configB, JSON.stringify({
    ...common('node-b', hostB, portB, 46000), logLevel: 'info', dataDir: join(dirB, 'data'), adminToken: ADMIN,
    transcode: { ladder: TEST_LADDER, x264Preset: 'ultrafast', audioBitrateKbps: 64 },
  }));
  const childB = spawn(process.execPath, ['dist/src/main.js'], { env: { ...process.env, SHOWCASE_CONFIG: configB }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logB = '';
  childB.stdout!.on('data', (d: Buffer) => { logB = (logB + d.toString()).slice(-30_000); });
  childB.stderr!.on('data', (d: Buffer) => { logB = (logB + d.toString()).slice(-30_000); });
  const exitedB = new Promise<void>((resolve) => childB.once('exit', () => resolve()));
  t.teardown(() => { if (childB.exitCode === null && childB.signalCode === null) childB.kill('SIGKILL'); return exitedB; });
  t.teardown(() => { if (!t.passing()) t.comment(`node B log (tail):\n${logB.slice(-8000)}`); });
  const baseB = `http://${hostB}:${portB}`;

  const c: TestServer = await startServer(common('node-c', hostC, await freePort(hostC), 47000));
  logsOnFailure(t, c);
  t.teardown(() => c.close());
  await waitFor(async () => (await fetch(`${baseB}/healthz`).catch(() => undefined))?.ok, 'node B answers', 30_000);
  await waitFor(() => c.app.cluster!.membership.node('node-b'), 'C sees B', 10_000, 50);
  const pipes = c.app.pipes!;
  t.ok(pipes, 'clustered with a secret and WebRTC: C has the pipe');
  const rtmpB = `rtmp://${hostB}:${c.app.cluster!.membership.node('node-b')!.rtmpPort}/live`;

  // The pipe's routes are for nodes with the secret only.
  const noSecret = await api(baseB, 'POST', '/v1/cluster/pipes', { streamId: 'x' }, { 'x-showcase-node': 'node-c' });
  t.equal(noSecret.status, 401);
  t.equal(noSecret.json.error.code, 'SHOWCASE_ERR_CLUSTER_UNAUTHORIZED', 'a pipe request without the cluster secret is refused');
  const wrong = await api(baseB, 'GET', '/v1/cluster/pipes/abc', undefined, { 'x-showcase-node': 'node-c', 'x-showcase-cluster-secret': `${SECRET}x` });
  t.equal(wrong.status, 401, 'and with a wrong one');

  const closed: Array<{ s: WhepSession; reason: string; at: number }> = [];
  c.app.whep!.on('sessionclosed', (s, reason) => closed.push({ s, reason, at: Date.now() }));

  /** A stream created and published (real ffmpeg RTMP) on B, live there with its HLS ladder. */
  const liveOnB = async (title: string) => {
    const s = (await api(baseB, 'POST', '/v1/streams', { title })).json;
    const pub = publishRtmp(`${rtmpB}/${s.streamKey}`, 120);
    t.teardown(() => { pub.kill('SIGKILL'); });
    await waitFor(async () => (await c.app.store.getStream(s.id))?.lease?.nodeId === 'node-b', 'the lease names node B', 20_000);
    await waitFor(async () => (await getText(`${baseB}/hls/${s.id}/180p/index.m3u8`)).status === 200, 'B\'s ladder running', 30_000);
    return { id: s.id as string, pub };
  };

  const s1 = await liveOnB('piped show');
  t.equal(c.app.registry.get(s1.id), undefined, 'C does not hold the stream');

  // Two viewers on C at once: one pipe from B, shared.
  const v1 = runAiortcClient(['whep', `${c.base}/whep/${s1.id}`, '--frames', '90', '--seconds', '60']);
  t.teardown(() => v1.stop());
  const v2 = runAiortcClient(['whep', `${c.base}/whep/${s1.id}`, '--frames', '90', '--seconds', '60']);
  t.teardown(() => v2.stop());
  const a1 = await v1.next('answer', 30_000);
  const a2 = await v2.next('answer', 30_000);
  t.equal(a1.status, 201, `C's WHEP answered 201 for B's stream${a1.status !== 201 ? `: ${JSON.stringify(a1)}` : ''}`);
  t.equal(a2.status, 201, 'and to the second viewer');
  const f1 = await v1.next('frames', 30_000);
  t.ok(f1.width > 0 && f1.height > 0, `the first viewer on C decodes frames (${f1.width}x${f1.height})`);
  await v2.next('frames', 30_000);
  t.equal(pipes.sources.size, 1, 'one pipe for the stream, shared by both viewers');
  t.equal(c.app.whep!.viewers(s1.id), 2, 'two WHEP viewers on C');

  // SRTP on both ends, media flowing B -> C.
  const seen = await waitFor(async () => {
    const onC = (await api(c.base, 'GET', '/v1/cluster/pipes')).json;
    const onB = (await api(baseB, 'GET', '/v1/cluster/pipes')).json;
    return onC.taking[0]?.bytesReceived > 50_000 && onB.holding[0]?.bytesSent > 50_000 ? { onC, onB } : undefined;
  }, 'bytes through the pipe', 15_000, 200);
  const taking = seen.onC.taking;
  const holding = seen.onB.holding;
  t.equal(taking.length, 1, 'C takes one pipe');
  t.equal(holding.length, 1, 'B holds one pipe');
  t.match(taking[0], { streamId: s1.id, node: 'node-b', producers: 2, viewers: 2, srtp: { cryptoSuite: /^(AEAD_AES_(256|128)_GCM|AES_CM_128_HMAC_SHA1_(80|32))$/ } }, 'C\'s end: SRTP on, audio and video, two viewers');
  t.match(holding[0], { streamId: s1.id, node: 'node-c', producers: 2, srtp: { cryptoSuite: taking[0].srtp.cryptoSuite } }, 'B\'s end: the same SRTP suite');
  t.notOk('keyBase64' in taking[0].srtp, 'the operator view never shows the SRTP key');
  t.equal(taking[0].remote?.port, holding[0].local.port, 'C sends to B\'s pipe port');
  t.equal(holding[0].remote?.port, taking[0].local.port, 'B sends to C\'s pipe port');
  const metricsC = (await getText(`${c.base}/metrics`, { authorization: `Bearer ${ADMIN}` })).text;
  t.match(metricsC, /showcase_cluster_pipes\{side="taking",node="node-c"\} 1\n/, 'C\'s /metrics: one pipe taken');
  t.match(metricsC, /showcase_cluster_pipes\{side="holding",node="node-c"\} 0\n/, 'none held');
  t.pass(`pipe B -> C: ${holding[0].local.ip}:${holding[0].local.port} -> ${taking[0].local.ip}:${taking[0].local.port}, ${taking[0].srtp.cryptoSuite}, ${taking[0].bytesReceived} bytes received`);

  const d1 = await v1.next('done', 60_000);
  const d2 = await v2.next('done', 60_000);
  t.ok(d1.frames >= 90 && d2.frames >= 90, `both viewers on C decoded 90 frames (${d1.frames}, ${d2.frames})`);
  t.equal(await v1.exited(10_000), 0, 'viewer 1 exits cleanly (its DELETE sent)');
  t.equal(await v2.exited(10_000), 0, 'viewer 2 too');

  // The last viewer left: the pipe goes on both nodes (C after pipeIdleStopMs, B when told).
  await waitFor(() => pipes.sources.size === 0, 'C tore the idle pipe down', 10_000, 50);
  await waitFor(async () => (await api(baseB, 'GET', '/v1/cluster/pipes')).json.holding.length === 0, 'B dropped it too', 10_000, 100);
  t.equal(c.app.whep!.hasSource(s1.id), false, 'no WebRTC source left for the stream on C');

  // The stream stops on B while a viewer watches on C: B tells C, C's viewer is closed.
  const v3 = runAiortcClient(['whep', `${c.base}/whep/${s1.id}`, '--frames', '100000', '--seconds', '60']);
  t.teardown(() => v3.stop());
  await v3.next('frames', 30_000);
  t.equal(pipes.sources.size, 1, 'a new pipe for the new viewer');
  const before = closed.length;
  const stoppedAt = Date.now();
  s1.pub.kill('SIGKILL');
  const ended = await waitFor(() => closed.slice(before).find((x) => x.s.streamId === s1.id), 'C\'s viewer closed when the stream stopped on B', 20_000, 50);
  t.match(ended.reason, /stream stopped on node-b|node-b no longer has this pipe/, `its reason: ${ended.reason}`);
  t.pass(`stream stopped on B -> viewer on C closed in ${ended.at - stoppedAt} ms`);
  await waitFor(() => pipes.sources.size === 0, 'C\'s pipe gone with the stream', 10_000, 50);
  await v3.stop();

  // A dead holder: B killed with SIGKILL mid-stream; C's pipe and its viewer close with the coded reason.
  const s2 = await liveOnB('killed show');
  const v4 = runAiortcClient(['whep', `${c.base}/whep/${s2.id}`, '--frames', '100000', '--seconds', '60']);
  t.teardown(() => v4.stop());
  await v4.next('frames', 30_000);
  await waitFor(() => pipes.sources.size === 1, 'the second stream piped to C', 10_000, 50);
  const mark = closed.length;
  const gone0 = pipes.sources.holderGone;
  childB.kill('SIGKILL');
  await exitedB;
  const killedAt = Date.now();
  const dead = await waitFor(() => closed.slice(mark).find((x) => x.s.streamId === s2.id), 'C\'s viewer closed once B was gone', 15_000, 50);
  t.match(dead.reason, /^SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE: /, `coded reason: ${dead.reason}`);
  t.equal(pipes.sources.holderGone, gone0 + 1, 'counted as a holder gone');
  t.equal(pipes.sources.size, 0, 'the pipe closed');
  t.ok(c.logs.find((l) => l.code === 'SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE'), 'logged with its code');
  t.match((await getText(`${c.base}/metrics`, { authorization: `Bearer ${ADMIN}` })).text, /showcase_cluster_pipe_holder_gone_total\{node="node-c"\} 1\n/, 'and counted on /metrics');
  t.pass(`kill -9 of the holder -> viewer on C closed in ${dead.at - killedAt} ms (keep-alive ${cluster.pipeKeepaliveMs} ms, timeout ${cluster.pipeTimeoutMs} ms, node TTL ${cluster.nodeTtlMs} ms)`);
  await v4.stop();
});
