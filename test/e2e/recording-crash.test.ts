import t from 'tap';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startServer, waitFor, getBytes, ADMIN } from '../helpers/server.js';
import { publishRtmp, ffprobe, decodeFrames } from '../helpers/ffmpeg.js';
import { readJournal, type JournalEntry, type JournalSegment } from '../../src/recorder/journal.js';

const execFileP = promisify(execFile);

/** Video packet decode timestamps of a file, in order. */
async function videoDts(file: string): Promise<number[]> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', file], { maxBuffer: 16 << 20 });
  return stdout.split('\n').filter(Boolean).map(Number);
}

function topSegments(entries: JournalEntry[]): JournalSegment[] {
  return entries.filter((e): e is JournalSegment => e.t === 'seg' && e.r === '180p');
}

t.test('ffmpeg killed mid-stream: one recording with a discontinuity and a new init, one MP4 with monotonic timestamps', async (t) => {
  const srv = await startServer({ recording: { minFreeBytes: 0 }, transcode: { restartBackoffMs: 100 } });
  const svc = srv.app.recordings!;
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 9);
  t.teardown(() => pub.kill('SIGKILL'));
  const journalFile = join(svc.root, id, 'journal.jsonl');
  await waitFor(async () => existsSync(journalFile) && topSegments(await readJournal(journalFile)).length >= 1, 'a segment recorded');
  const tc = srv.app.transcoders.get(id)!;
  const restarted = new Promise<void>((r) => tc.on('run', (info) => info.restart && r()));
  process.kill(tc.pid!, 'SIGKILL');
  await restarted;
  t.equal(await pub.done, 0);
  const info = await waitFor(async () => {
    const r = await fetch(`${srv.base}/v1/streams/${id}/recording`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((x) => x.json());
    return r.state === 'ready' || r.state === 'failed' ? r : undefined;
  }, 'recording ready', 30000, 200);
  t.equal(info.state, 'ready', JSON.stringify(info));
  t.equal(info.discontinuities, 1, 'one discontinuity');

  const dir = join(svc.root, id);
  t.same(readdirSync(dir).filter((f) => f.endsWith('.mp4')), ['recording.mp4'], 'one MP4, not two');
  t.same(readdirSync(join(dir, '180p')).filter((f) => f.startsWith('init')).sort(), ['init1.mp4', 'init2.mp4'], 'an init per run');
  const entries = await readJournal(join(dir, 'journal.jsonl'));
  t.ok(entries.some((e) => e.t === 'init' && e.run === 2 && e.disc), 'the journal notes the new run as a discontinuity');
  const segs = topSegments(entries);
  t.equal(segs.filter((s) => s.disc).length, 1);
  const pl = readFileSync(join(dir, '180p', 'index.m3u8'), 'utf8');
  t.match(pl, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/);
  t.equal(pl.match(/#EXT-X-DISCONTINUITY/g)!.length, 1);

  const mp4 = join(dir, 'recording.mp4');
  const journaled = segs.reduce((a, s) => a + s.dur, 0);
  const duration = Number((await ffprobe(mp4)).format.duration);
  t.ok(duration >= journaled - 0.1, `MP4 ${duration} s covers the journaled ${journaled.toFixed(3)} s`);
  const dts = await videoDts(mp4);
  t.ok(dts.every((v, i) => i === 0 || v > dts[i - 1]!), 'video timestamps strictly increase across the discontinuity');
  t.ok((await decodeFrames(mp4)) >= dts.length - 1, 'every frame decodes');
});

/** A server process: the built app (dist/ from npm run build) on free ports, recording with no disk floor. */
function spawnServer(dataDir: string): { child: ChildProcess; ready: Promise<{ http: number; rtmp: number }>; exited: Promise<number | null>; out: () => string } {
  const url = (p: string) => pathToFileURL(resolve(p)).href;
  const script = `
    const { ShowcaseApp } = await import(${JSON.stringify(url('dist/src/app.js'))});
    const app = await ShowcaseApp.start({ env: {}, overrides: {
      dataDir: ${JSON.stringify(dataDir)}, adminToken: ${JSON.stringify(ADMIN)}, logLevel: 'warn',
      http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' }, recording: { minFreeBytes: 0 },
      transcode: { ladder: [{ name: '180p', height: 180, videoBitrateKbps: 300, maxFrameRate: 30 }], x264Preset: 'ultrafast', audioBitrateKbps: 64 },
    } });
    process.stdout.write('READY ' + JSON.stringify({ http: app.httpPort, rtmp: app.rtmpPort }) + '\\n');
    process.on('SIGTERM', async () => { await app.stop(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = waitFor(() => {
    const m = /READY (\{.*\})/.exec(out);
    if (!m && child.exitCode !== null) throw new Error(`server exited: ${out.slice(-2000)}`);
    return m ? (JSON.parse(m[1]!) as { http: number; rtmp: number }) : undefined;
  }, 'server listening', 60000);
  return { child, ready, exited, out: () => out };
}

t.test('kill -9 of the server mid-stream: on restart the stream is ended (interrupted) and its recording finalized from disk', { skip: !existsSync('dist/src/app.js') && 'run npm run build first' }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recording-kill9-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = spawnServer(dataDir);
  t.teardown(() => first.child.kill('SIGKILL'));
  const p1 = await first.ready;
  const created = await fetch(`http://127.0.0.1:${p1.http}/v1/streams`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'kill -9' }) }).then((r) => r.json());
  const id: string = created.id;
  const pub = publishRtmp(`rtmp://127.0.0.1:${p1.rtmp}/live/${created.streamKey}`, 30);
  t.teardown(() => pub.kill('SIGKILL'));
  const journalFile = join(dataDir, 'recordings', id, 'journal.jsonl');
  await waitFor(async () => existsSync(journalFile) && topSegments(await readJournal(journalFile)).length >= 3, 'three segments on disk', 20000);

  const ffmpegPids = execFileSync('pgrep', ['-P', String(first.child.pid), 'ffmpeg']).toString().trim().split('\n').map(Number).filter(Boolean);
  first.child.kill('SIGKILL');
  await first.exited;
  for (const pid of ffmpegPids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone with its stdin */ }
  pub.kill('SIGKILL');
  const onDisk = topSegments(await readJournal(journalFile));
  const journaled = onDisk.reduce((a, s) => a + s.dur, 0);
  t.ok(onDisk.length >= 3, `${onDisk.length} segments (${journaled.toFixed(3)} s) journaled before the kill`);

  const second = spawnServer(dataDir);
  t.teardown(() => second.child.kill('SIGKILL'));
  const p2 = await second.ready;
  const view = await fetch(`http://127.0.0.1:${p2.http}/v1/streams/${id}`).then((r) => r.json());
  t.equal(view.state, 'ended');
  t.equal(view.endReason, 'interrupted');
  const rec = await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${p2.http}/v1/streams/${id}/recording`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((x) => x.json());
    return r.state === 'ready' || r.state === 'failed' ? r : undefined;
  }, 'recording finalized after the restart', 30000, 200);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.equal(rec.durationSeconds.toFixed(2), journaled.toFixed(2), 'the recording is what the journal holds');

  const dl = await getBytes(rec.download.url);
  t.equal(dl.status, 200);
  const file = join(dataDir, 'dl.mp4');
  writeFileSync(file, dl.body);
  const probe = await ffprobe(file);
  t.same(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  const duration = Number(probe.format.duration);
  t.ok(duration >= journaled - 0.1, `the MP4 (${duration} s) lasts at least as long as the journaled segments (${journaled.toFixed(3)} s)`);
  t.ok((await decodeFrames(file)) >= Math.floor(journaled * 30) - 2, 'and decodes');
  const replay = await fetch(`http://127.0.0.1:${p2.http}/hls/${id}/180p/index.m3u8`).then((r) => r.text());
  t.match(replay, /#EXT-X-PLAYLIST-TYPE:VOD[\s\S]*#EXT-X-ENDLIST/, 'the replay works too');

  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0, 'the restarted server stops cleanly');
});

t.test('a server stopped while a stream is live: the recording is kept, and the next start finalizes it once nobody continues it', async (t) => {
  const srv = await startServer({ recording: { minFreeBytes: 0 } });
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 30);
  t.teardown(() => pub.kill('SIGKILL'));
  const journalFile = join(srv.app.recordings!.root, id, 'journal.jsonl');
  await waitFor(async () => existsSync(journalFile) && topSegments(await readJournal(journalFile)).length >= 2, 'two segments recorded', 20000);
  await srv.close({ keepData: true });
  pub.kill('SIGKILL');
  t.same(srv.logs.lines.filter((l) => (l.level as number) >= 50).map((l) => l.msg), [], 'the stop logged no error (the store outlives the recorder)');
  const journaled = topSegments(await readJournal(journalFile)).reduce((a, s) => a + s.dur, 0);

  // The stop interrupted the stream: the next start waits the reconnect grace, then ends and finalizes it.
  const again = await startServer({ dataDir: srv.dataDir, recording: { minFreeBytes: 0 }, streams: { reconnectGraceMs: 500 } });
  t.teardown(() => again.close());
  const rec = await waitFor(async () => {
    const r = await again.api('GET', `/v1/streams/${id}/recording`);
    return r.json?.state === 'ready' || r.json?.state === 'failed' ? r.json : undefined;
  }, 'recording finalized at the next start', 30000, 200);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.ok(rec.durationSeconds >= journaled - 0.1, `${rec.durationSeconds} s kept of the ${journaled.toFixed(2)} s journaled`);
});
