// A node dies and nobody reconnects: node A (a real process, so it can be killed with SIGKILL) and
// node C (in-process) on 127.0.0.2 and .4 over one PostgreSQL and one Redis, recordings on a
// directory both share. A stream live on A is recorded; after `kill -9` of A, C's lease tick
// interrupts the stream (naming A), and once the grace (2 s) and one lease period ran out with no
// publisher it ends it and finalizes the recording from the shared files: every segment A wrote
// is in the VOD and the MP4.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobe, publishRtmp } from '../helpers/ffmpeg.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis.js';
import { startNodeProcess } from '../helpers/node-process.js';
import { freePort } from '../helpers/free-port.js';
import { ADMIN, TEST_LADDER, logsOnFailure, startServer, waitFor } from '../helpers/server.js';
import { readJournal, type JournalSegment } from '../../src/recorder/journal.js';

const built = existsSync('dist/src/main.js');

t.test('kill -9 and no reconnect: a survivor interrupts, then ends the stream and finalizes its recording from the shared files', { skip: !built && 'run npm run build first (node A is dist/src/main.js)' }, async (t) => {
  const storeUrl = await freshDatabase(t, await pgCluster(t));
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const recordings = mkdtempSync(join(tmpdir(), 'showcase-shared-rec-'));
  t.teardown(() => rmSync(recordings, { recursive: true, force: true }));
  const common = (id: string, host: string, port: number) => ({
    store: { url: storeUrl, maxConnections: 4 }, node: { id, url: `http://${host}:${port}`, leaseMs: 3000 },
    cluster: { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500 }, streams: { reconnectGraceMs: 2000 },
    recording: { dir: recordings, minFreeBytes: 0 },
  });
  const hostA = '127.0.0.2';
  const hostC = '127.0.0.4';
  const [httpA, rtmpA] = [await freePort(hostA), await freePort(hostA)];
  const a = await startNodeProcess({
    id: 'node-a', address: hostA, port: httpA,
    config: {
      ...common('node-a', hostA, httpA), logLevel: 'info', adminToken: ADMIN, http: { host: hostA, port: httpA }, rtmp: { host: hostA, port: rtmpA },
      transcode: { ladder: TEST_LADDER, x264Preset: 'ultrafast', audioBitrateKbps: 64 }, webrtc: { enabled: false },
    },
  });
  t.teardown(async () => { if (!t.passing()) t.comment(`node A log (tail):\n${a.log().slice(-5000)}`); await a.stop(); });
  const portC = await freePort(hostC);
  const c = await startServer({ ...common('node-c', hostC, portC), http: { host: hostC, port: portC } });
  logsOnFailure(t, c);
  t.teardown(() => c.close());

  const { id, streamKey } = await c.createStream();
  const pub = publishRtmp(`rtmp://${hostA}:${rtmpA}/live/${streamKey}`, 600);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await c.app.store.getStream(id))?.lease?.nodeId === 'node-a', 'live on A', 20_000);
  const journal = join(recordings, id, 'journal.jsonl');
  await waitFor(async () => existsSync(journal) && (await readJournal(journal)).filter((e) => e.t === 'seg' && e.r === '180p').length >= 3, 'segments recorded by A', 30_000);

  await a.kill();
  const killedAt = Date.now();
  const written = (await readJournal(journal)).filter((e): e is JournalSegment => e.t === 'seg' && e.r === '180p');
  const interrupted = await waitFor(async () => { const r = await c.app.store.getStream(id); return r?.state === 'interrupted' ? r : undefined; }, 'interrupted by C once A\'s lease expired', 15_000, 100);
  t.equal(interrupted.lease?.nodeId, 'node-a', 'naming A');
  t.equal((await c.app.store.getRecording(id))?.state, 'recording', 'the recording is not finalized while a reconnect may continue it');
  const ended = await waitFor(async () => { const r = await c.app.store.getStream(id); return r?.state === 'ended' ? r : undefined; }, 'ended by C after the grace', 20_000, 100);
  t.match(ended.endReason, /^interrupted; no reconnect within 2000 ms/);
  t.comment(`kill -9 → interrupted, then ended (no reconnect) after ${Date.now() - killedAt} ms`);
  const rec = await waitFor(async () => { const r = await c.api('GET', `/v1/streams/${id}/recording`); return r.json?.state === 'ready' || r.json?.state === 'failed' ? r.json : undefined; }, 'C finalized the recording', 40_000, 200);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.equal(rec.discontinuities, 0);
  const vod = readFileSync(join(recordings, id, '180p', 'index.m3u8'), 'utf8');
  const listed = new Set([...vod.matchAll(/^s(\d+)\.m4s/gm)].map((m) => Number(m[1])));
  t.same(written.filter((s) => !listed.has(s.msn)).map((s) => s.msn), [], `every segment A wrote (${written.length}) is in the VOD`);
  const journaled = written.reduce((n, s) => n + s.dur, 0);
  const duration = Number((await ffprobe(join(recordings, id, 'recording.mp4'))).format.duration);
  t.ok(duration >= journaled - 0.1, `the MP4 (${duration} s) holds what A journaled (${journaled.toFixed(2)} s)`);
});
