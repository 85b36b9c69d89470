import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, waitFor, getText, logsOnFailure, ADMIN, type TestServer } from '../helpers/server.js';
import { publishRtmp, ffprobe } from '../helpers/ffmpeg.js';
import { readJournal, type JournalEntry, type JournalSegment } from '../../src/recorder/journal.js';

// A deploy: the server gets SIGTERM (ShowcaseApp.stop) while OBS is live, a new process starts on
// the same data dir, and OBS's automatic reconnect (here: a second ffmpeg with the same key) lands
// on it. ffmpeg does not reconnect by itself, hence two publishers.

const GRACE_MS = 30000;

function topSegments(entries: JournalEntry[]): JournalSegment[] {
  return entries.filter((e): e is JournalSegment => e.t === 'seg' && e.r === '180p');
}

async function recordingDone(srv: TestServer, id: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${id}/recording`);
    return r.json?.state === 'ready' || r.json?.state === 'failed' ? r.json : undefined;
  }, 'recording finalized', 40000, 200);
}

/** The first process: a live RTMP stream with at least `segments` segments recorded, then SIGTERM's stop. */
async function liveThenStop(t: Test, segments: number): Promise<{ dataDir: string; id: string; streamKey: string; journal: string; lastLiveMsn: number }> {
  const srv = await startServer({ recording: { minFreeBytes: 0 }, streams: { reconnectGraceMs: GRACE_MS } });
  logsOnFailure(t, srv);
  t.teardown(() => rmSync(srv.dataDir, { recursive: true, force: true }));
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 120);
  t.teardown(() => pub.kill('SIGKILL'));
  const journal = join(srv.app.recordings!.root, id, 'journal.jsonl');
  await waitFor(async () => existsSync(journal) && topSegments(await readJournal(journal)).length >= segments, `${segments} segments recorded`, 30000);
  const live = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
  const msns = [...live.text.matchAll(/^s(\d+)\.m4s/gm)].map((m) => Number(m[1]));
  await srv.close({ keepData: true });
  t.notOk(srv.logs.find((l) => (l.level as number) >= 50), 'the stop logged no error');
  t.ok(srv.logs.find((l) => l.msg === 'stream state changed' && l.state === 'interrupted'), 'the stream went to interrupted, not ended');
  t.notOk(srv.logs.find((l) => l.msg === 'stream state changed' && l.state === 'ended'), 'and never ended');
  const code = await pub.done;
  t.not(code, 0, 'the first publisher lost its connection (OBS would now reconnect)');
  return { dataDir: srv.dataDir, id, streamKey, journal, lastLiveMsn: Math.max(...msns) };
}

t.test('a publisher reconnecting across a restart continues the same stream: discontinuity, one VOD with both runs', async (t) => {
  const first = await liveThenStop(t, 2);
  const { id, streamKey, journal } = first;
  const before = topSegments(await readJournal(journal));
  t.ok(before.length >= 2, `${before.length} segments journaled by the first process`);
  t.notOk((await readJournal(journal)).some((e) => e.t === 'end'), 'the recording was not closed as ended');
  const lastMsn = Math.max(...before.map((s) => s.msn));

  const srv = await startServer({ dataDir: first.dataDir, recording: { minFreeBytes: 0 }, streams: { reconnectGraceMs: GRACE_MS } });
  logsOnFailure(t, srv);
  t.teardown(() => srv.close({ keepData: true }));
  const view = await srv.api('GET', `/v1/streams/${id}`);
  t.equal(view.json.state, 'interrupted', 'the API shows the stream interrupted');
  t.equal(view.json.endedAt, null);
  t.equal((await srv.api('GET', `/v1/streams/${id}/recording`)).json.state, 'recording', 'its recording is kept open, not finalized');

  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 6);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'live again under the same id', 20000);
  t.equal((await srv.api('GET', '/v1/streams')).json.items.length, 1, 'no second stream was created');
  const pl = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return r.status === 200 && /^s\d+\.m4s/m.test(r.text) ? r.text : undefined;
  }, 'a complete segment after the reconnect', 30000);
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(pl)![1]);
  t.ok(seq > lastMsn && seq > first.lastLiveMsn, `the media sequence continues (${seq} after ${lastMsn})`);
  t.match(pl, /#EXT-X-MEDIA-SEQUENCE:\d+\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n[\s\S]*?#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init\d+\.mp4/, 'the live playlist marks the restart with a discontinuity');

  t.equal(await pub.done, 0, 'the second publisher ran to its end');
  const ended = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${id}`);
    return r.json.state === 'ended' ? r.json : undefined;
  }, 'stream ended', 20000);
  t.notMatch(ended.endReason, /no reconnect/, `it ended normally (${ended.endReason})`);

  const rec = await recordingDone(srv, id);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.equal(rec.discontinuities, 1, 'one VOD with one discontinuity');
  const dir = join(first.dataDir, 'recordings', id);
  t.same(readdirSync(dir).filter((f) => f.endsWith('.mp4')), ['recording.mp4'], 'one MP4');
  const inits = readdirSync(join(dir, '180p')).filter((f) => f.startsWith('init')).sort();
  t.same(inits, ['init1.mp4', 'init2.mp4'], 'the second process numbered its run after the first');
  const all = topSegments(await readJournal(journal));
  const runs = [...new Set(all.map((s) => s.run))];
  t.same(runs, [1, 2], 'the journal holds segments of both runs');
  t.ok(all.filter((s) => s.run === 1).length >= before.length, 'every segment of the first run is kept');
  const vod = readFileSync(join(dir, '180p', 'index.m3u8'), 'utf8');
  t.equal(vod.match(/#EXT-X-DISCONTINUITY\n/g)?.length, 1, 'the replay has one discontinuity');
  t.match(vod, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/);
  const journaled = all.reduce((a, s) => a + s.dur, 0);
  const firstRun = all.filter((s) => s.run === 1).reduce((a, s) => a + s.dur, 0);
  const duration = Number((await ffprobe(join(dir, 'recording.mp4'))).format.duration);
  t.ok(duration >= journaled - 0.1, `the MP4 (${duration} s) holds both runs (${journaled.toFixed(2)} s journaled)`);
  t.ok(duration > firstRun + 2, `more than the first run's ${firstRun.toFixed(2)} s`);
  const replay = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
  t.match(replay.text, /#EXT-X-DISCONTINUITY[\s\S]*#EXT-X-ENDLIST/, 'the ended playlist carries the discontinuity too');
});

t.test('an interrupted stream nobody continues within the grace after the restart ends, and its recording is finalized', async (t) => {
  const first = await liveThenStop(t, 1);
  const { id, streamKey, journal } = first;
  const journaled = topSegments(await readJournal(journal)).reduce((a, s) => a + s.dur, 0);
  const grace = 3000;
  const started = Date.now();
  const srv = await startServer({ dataDir: first.dataDir, recording: { minFreeBytes: 0 }, streams: { reconnectGraceMs: grace } });
  logsOnFailure(t, srv);
  t.teardown(() => srv.close({ keepData: true }));
  const ended = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${id}`);
    return r.json.state === 'ended' ? r.json : undefined;
  }, 'the grace expired', 20000);
  t.ok(Date.now() - started >= grace, 'not before the grace');
  t.match(ended.endReason, /no reconnect within 3000 ms/);
  const rec = await recordingDone(srv, id);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.equal(rec.durationSeconds.toFixed(2), journaled.toFixed(2), 'the recording is what the first process journaled');
  const replay = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
  t.match(replay.text, /#EXT-X-PLAYLIST-TYPE:VOD[\s\S]*#EXT-X-ENDLIST/, 'the replay is served');
  const late = publishRtmp(`${srv.rtmp}/${streamKey}`, 2);
  t.teardown(() => late.kill('SIGKILL'));
  t.not(await late.done, 0, 'the key of the ended stream is refused');
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RTMP_BAD_KEY'));
});

t.test('the real process: SIGTERM to dist/src/main.js leaves the live stream interrupted, and exits 0', { skip: !existsSync('dist/src/main.js') && 'run npm run build first' }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-sigterm-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { ...process.env, SHOWCASE_DATA_DIR: dataDir, SHOWCASE_HTTP_PORT: '0', SHOWCASE_HTTP_HOST: '127.0.0.1', SHOWCASE_RTMP_PORT: '0', SHOWCASE_RTMP_HOST: '127.0.0.1', SHOWCASE_ADMIN_TOKEN: ADMIN };
  const child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ports = await waitFor(() => {
    const line = out.split('\n').find((l) => l.includes('"showcase listening"'));
    return line ? (JSON.parse(line) as { httpPort: number; rtmpPort: number }) : undefined;
  }, 'server listening', 20000);
  const base = `http://127.0.0.1:${ports.httpPort}`;
  const created = await fetch(`${base}/v1/streams`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"title":"sigterm"}' }).then((r) => r.json());
  const pub = publishRtmp(`rtmp://127.0.0.1:${ports.rtmpPort}/live/${created.streamKey}`, 60);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(async () => (await getText(`${base}/hls/${created.id}/master.m3u8`)).status === 200, 'live with media', 30000);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'a clean exit');
  const db = new Database(join(dataDir, 'showcase.db'), { readonly: true });
  t.teardown(() => db.close());
  const row = db.prepare('SELECT state, ended_at FROM streams WHERE id = ?').get(created.id) as { state: string; ended_at: number | null };
  t.same(row, { state: 'interrupted', ended_at: null }, 'stored as interrupted for the next process');
});
