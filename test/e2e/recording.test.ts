import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText, getBytes, ADMIN } from '../helpers/server.js';
import { publishRtmp, ffprobe, decodeFrames } from '../helpers/ffmpeg.js';

async function recordingReady(srv: Awaited<ReturnType<typeof startServer>>, id: string) {
  return waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${id}/recording`);
    return r.json?.state === 'ready' || r.json?.state === 'failed' ? r.json : undefined;
  }, 'recording finalized', 30000, 200);
}

t.test('a live stream is recorded; the creator downloads the MP4 through a signed link; the replay is VOD HLS', async (t) => {
  const srv = await startServer({ hls: { endedRetainSeconds: 0 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 7);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}/recording`)).json?.state === 'recording', 'recording state');
  t.equal(await pub.done, 0);
  const rec = await recordingReady(srv, id);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  t.ok(rec.durationSeconds >= 6 && rec.durationSeconds <= 8, `recorded ${rec.durationSeconds} s of a 7 s publish`);
  t.match(rec.downloadUrl, new RegExp(`/recordings/${id}/download\\?exp=\\d+&sig=`));

  const dl = await getBytes(rec.downloadUrl);
  t.equal(dl.status, 200);
  t.match(dl.headers.get('content-disposition'), /attachment/);
  t.equal(dl.body.length, rec.sizeBytes);
  const dir = mkdtempSync(join(tmpdir(), 'showcase-rec-'));
  const file = join(dir, 'dl.mp4');
  writeFileSync(file, dl.body);
  const probe = await ffprobe(file);
  t.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  t.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const duration = Number(probe.format.duration);
  t.ok(Math.abs(duration - 7) < 1.2, `MP4 lasts about as long as the publish (${duration} s vs 7 s)`);
  t.ok((await decodeFrames(file)) >= 150, 'decodes with a real decoder');
  const moov = dl.body.indexOf(Buffer.from('moov'));
  const mdat = dl.body.indexOf(Buffer.from('mdat'));
  t.ok(moov > 0 && moov < mdat, '+faststart: the index comes before the media');

  const ranged = await getBytes(rec.downloadUrl, { range: 'bytes=100-199' });
  t.equal(ranged.status, 206, 'Range requests resume downloads');
  t.ok(ranged.body.equals(dl.body.subarray(100, 200)));

  const u = new URL(rec.downloadUrl);
  const sig = u.searchParams.get('sig')!;
  u.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
  t.equal((await getBytes(u.toString())).status, 403, 'tampered signature refused');
  const expired = new URL(rec.downloadUrl);
  expired.searchParams.set('exp', String(Math.floor(Date.now() / 1000) - 10));
  t.equal((await getBytes(expired.toString())).status, 403, 'expired or altered expiry refused');
  t.equal((await srv.api('GET', `/v1/streams/${id}/recording`, undefined, null)).status, 401);

  // The replay plays from the same URL shoppers had, as VOD.
  const master = await getText(`${srv.base}/hls/${id}/master.m3u8`);
  t.equal(master.status, 200);
  t.match(master.text, /180p\/index\.m3u8/);
  t.match(master.text, /144p\/index\.m3u8/, 'all renditions kept: replays keep adaptive bitrate');
  const vod = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
  t.match(vod.text, /#EXT-X-PLAYLIST-TYPE:VOD/);
  t.match(vod.text, /#EXT-X-ENDLIST/);
  const seg = /\n(s\d+\.m4s)\n/.exec(vod.text)![1]!;
  const init = /URI="(init\d+\.mp4)"/.exec(vod.text)![1]!;
  const segFile = join(dir, 'vodseg.mp4');
  writeFileSync(segFile, Buffer.concat([(await getBytes(`${srv.base}/hls/${id}/180p/${init}`)).body, (await getBytes(`${srv.base}/hls/${id}/180p/${seg}`)).body]));
  t.equal((await ffprobe(segFile)).streams.find((s) => s.codec_type === 'video')?.width, 320);
  t.equal((await getText(`${srv.base}/hls/${id}/180p/..%2F..%2Frecording-secret`)).status, 404, 'no traversal into the data dir');

  // Retention: only recordings older than the limit go.
  const swept = srv.app.recordings!.sweep(Date.now() + 29 * 86400_000);
  t.same(swept, [], 'a fresh recording is kept');
  const gone = srv.app.recordings!.sweep(Date.now() + 31 * 86400_000);
  t.same(gone, [id], 'past retention it is deleted');
  t.equal((await srv.api('GET', `/v1/streams/${id}/recording`)).json.state, 'deleted');
});

t.test('an ffmpeg crash mid-stream gives one recording with a discontinuity', async (t) => {
  const srv = await startServer({ transcode: { restartBackoffMs: 100 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 10);
  await waitFor(() => srv.app.origin.get(id)?.timelines.get('180p')?.segments.some((s) => s.complete), 'a first segment');
  const tc = srv.app.transcoders.get(id)!;
  const restarted = new Promise((r) => tc.on('run', (x) => x.restart && r(x)));
  process.kill(tc.pid!, 'SIGKILL');
  await restarted;
  t.equal(await pub.done, 0);
  const rec = await recordingReady(srv, id);
  t.equal(rec.state, 'ready');
  const dir = join(srv.dataDir, 'recordings', id, '180p');
  const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.ok(journal.some((e) => e.discontinuity), 'the journal marks the discontinuity');
  t.ok(readdirSync(dir).filter((f) => f.startsWith('init')).length >= 2, 'a second init for the new run');
  t.equal(readdirSync(join(srv.dataDir, 'recordings', id)).filter((f) => f.endsWith('.mp4')).length, 1, 'one MP4, not two half files');
  const vod = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`).catch(() => undefined);
  void vod;
  const playlist = readFileSync(join(dir, 'index.m3u8'), 'utf8');
  t.match(playlist, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/);
  const mp4 = join(srv.dataDir, 'recordings', id, 'recording.mp4');
  const probe = await ffprobe(mp4);
  t.ok(Number(probe.format.duration) > 6, `the MP4 spans both runs (${probe.format.duration} s)`);
});

t.test('kill -9 of the server: on restart the stream is ended (interrupted) and its recording finalized from disk', { skip: !existsSync('dist/src/main.js') && 'build first' }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-kill9-'));
  const env = { ...process.env, SHOWCASE_HTTP_PORT: '0', SHOWCASE_RTMP_PORT: '0', SHOWCASE_DATA_DIR: dataDir, SHOWCASE_ADMIN_TOKEN: ADMIN, SHOWCASE_HTTP_HOST: '127.0.0.1', SHOWCASE_RTMP_HOST: '127.0.0.1' };
  const startProc = () => {
    const child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    return { child, out: () => out };
  };
  const first = startProc();
  t.teardown(() => first.child.kill('SIGKILL'));
  const ports = await waitFor(() => {
    const m = /"httpPort":(\d+),"rtmpPort":(\d+)/.exec(first.out());
    return m ? { http: Number(m[1]), rtmp: Number(m[2]) } : undefined;
  }, 'server listening');
  const base = `http://127.0.0.1:${ports.http}`;
  const s = await fetch(`${base}/v1/streams`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'crash' }) }).then((r) => r.json());
  const pub = publishRtmp(`rtmp://127.0.0.1:${ports.rtmp}/live/${s.streamKey}`, 30);
  t.teardown(() => pub.kill('SIGKILL'));
  // Wait until a few segments are on disk (journal lines), then kill the server without warning.
  const rendition = join(dataDir, 'recordings', s.id);
  const journalLines = () => {
    if (!existsSync(rendition)) return 0;
    const r = readdirSync(rendition).find((d) => existsSync(join(rendition, d, 'journal.jsonl')));
    return r ? readFileSync(join(rendition, r, 'journal.jsonl'), 'utf8').trim().split('\n').length : 0;
  };
  await waitFor(() => journalLines() >= 3, 'three segments on disk', 30000, 200);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.on('exit', r));
  pub.kill('SIGKILL');
  const top = readdirSync(rendition).find((d) => existsSync(join(rendition, d, 'journal.jsonl')))!;
  const entries = readFileSync(join(rendition, top, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const onDisk = entries.reduce((a: number, e: { duration: number }) => a + e.duration, 0);

  const second = startProc();
  t.teardown(() => second.child.kill('SIGKILL'));
  const ports2 = await waitFor(() => {
    const m = /"httpPort":(\d+),"rtmpPort":(\d+)/.exec(second.out());
    return m ? { http: Number(m[1]) } : undefined;
  }, 'restarted server');
  const base2 = `http://127.0.0.1:${ports2.http}`;
  const view = await fetch(`${base2}/v1/streams/${s.id}`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.json());
  t.equal(view.state, 'ended');
  t.equal(view.endReason, 'interrupted');
  const rec = await waitFor(async () => {
    const r = await fetch(`${base2}/v1/streams/${s.id}/recording`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((x) => x.json());
    return r.state === 'ready' || r.state === 'failed' ? r : undefined;
  }, 'recording finalized after the crash', 30000, 200);
  t.equal(rec.state, 'ready', JSON.stringify(rec));
  const dl = await getBytes(rec.downloadUrl);
  const file = join(dataDir, 'after-crash.mp4');
  writeFileSync(file, dl.body);
  const duration = Number((await ffprobe(file)).format.duration);
  t.ok(duration >= onDisk - 0.2, `the MP4 (${duration} s) lasts at least as long as the segments on disk (${onDisk.toFixed(2)} s)`);
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.on('exit', r));
});
