import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText, getBytes, logsOnFailure } from '../helpers/server.js';
import { TEST_SOURCE } from '../helpers/ffmpeg.js';

// Source passthrough through the whole server: a real RTMP publish (ffmpeg -c copy of a pre-encoded
// H.264 file, as OBS sends it) becomes the top rendition sample for sample; a 10 s GOP falls back.

const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'showcase-pt-'));
const srv = await startServer();
t.teardown(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});
logsOnFailure(t, srv);

async function encode(name: string, seconds: number, gopSeconds: number): Promise<string> {
  const file = join(dir, `${name}.flv`);
  const gop = String(gopSeconds * 30);
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...TEST_SOURCE, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file]);
  return file;
}

function publish(file: string, url: string): Promise<number | null> {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', file, '-c', 'copy', '-f', 'flv', url], { stdio: 'ignore' });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

async function framemd5(file: string): Promise<string[]> {
  const { stdout } = await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

/** The whole rendition as one file: its init and every segment of the ended playlist. */
async function download(id: string, name: string): Promise<{ file: string; extinf: string[] }> {
  const pl = (await getText(`${srv.base}/hls/${id}/${name}/index.m3u8`)).text;
  const init = (await getBytes(`${srv.base}/hls/${id}/${name}/init1.mp4`)).body;
  const segs = [...pl.matchAll(/\n(s\d+\.m4s)\n/g)].map((m) => m[1]!);
  const bodies = await Promise.all(segs.map(async (s) => (await getBytes(`${srv.base}/hls/${id}/${name}/${s}`)).body));
  const file = join(dir, `${id}-${name}.mp4`);
  writeFileSync(file, Buffer.concat([init, ...bodies]));
  return { file, extinf: [...pl.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]).toFixed(2)) };
}

t.test('a 2 s GOP H.264 source is the top rendition, bit for bit; the lower rung follows its keyframes', async (t) => {
  const src = await encode('gop2', 8, 2);
  const s = await srv.createStream('passthrough');
  const done = publish(src, `${srv.rtmp}/${s.streamKey}`);
  const live = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${s.id}`);
    return r.json.live?.transcodeMode ? r.json.live : undefined;
  }, 'the transcoder planned', 15000);
  t.equal(live.transcodeMode, 'passthrough');
  t.equal(live.passthroughRefusal, null);
  t.same(live.renditions, ['180p', '144p']);
  const metrics = await waitFor(async () => {
    const m = (await getText(`${srv.base}/metrics`, { authorization: 'Bearer test-admin-token' })).text;
    return /showcase_transcoder_passthrough\{[^}]*\} 1/.test(m) ? m : undefined;
  }, 'passthrough gauge', 10000);
  t.ok(metrics);
  t.equal(await done, 0, 'publisher finished');
  await waitFor(async () => /#EXT-X-ENDLIST/.test((await getText(`${srv.base}/hls/${s.id}/144p/index.m3u8`)).text), 'playlists ended', 15000);
  const [top, low] = [await download(s.id, '180p'), await download(s.id, '144p')];
  const [source, copied] = await Promise.all([framemd5(src), framemd5(top.file)]);
  t.ok(copied.length >= source.length - 31, `the top rendition holds the source's frames (${copied.length} of ${source.length})`);
  const at = source.indexOf(copied[0]!);
  t.ok(at >= 0, 'its first sample is a source sample');
  t.same(copied, source.slice(at, at + copied.length), 'every video sample bit-identical to the source, in order');
  t.ok(top.extinf.length >= 3, `${top.extinf.length} segments`);
  t.same(low.extinf, top.extinf, 'the lower rung is cut into the same segments');
  t.ok(top.extinf.slice(0, -1).every((d) => Math.abs(Number(d) - 2) < 0.05), `segments at the source's 2 s keyframes (${top.extinf.join(' ')})`);
});

t.test('a 10 s GOP source falls back to the full ladder with its code', async (t) => {
  const src = await encode('gop10', 9, 10);
  const s = await srv.createStream('long gop');
  const done = publish(src, `${srv.rtmp}/${s.streamKey}`);
  const refused = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${s.id}`);
    return r.json.live?.passthroughRefusal ? r.json.live : undefined;
  }, 'the refusal', 15000);
  t.equal(refused.passthroughRefusal, 'SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_SPARSE');
  t.equal(refused.transcodeMode, 'ladder');
  t.same(refused.renditions, ['180p', '144p'], 'same renditions, now both encoded');
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_SPARSE' && l.streamId === s.id), 'logged with its code');
  const m = (await getText(`${srv.base}/metrics`, { authorization: 'Bearer test-admin-token' })).text;
  t.match(m, new RegExp(`showcase_transcoder_passthrough\\{[^}]*stream="${s.id}"[^}]*\\} 0`));
  // The encoded ladder forces 2 s keyframes: segments keep the target despite the source.
  await waitFor(async () => /#EXTINF/.test((await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8`)).text), 'a segment of the encoded ladder', 15000);
  const pl = (await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8`)).text;
  t.match(pl, /#EXT-X-DISCONTINUITY/, 'the switch is a discontinuity');
  await done;
});
