import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';

/** The live stream must keep serving while recording is impossible. */
async function liveKeepsServing(t: { ok: (v: unknown, m: string) => void; equal: (a: unknown, b: unknown, m: string) => void }, srv: Awaited<ReturnType<typeof startServer>>, id: string): Promise<void> {
  const before = srv.app.origin.get(id)!.timelines.get('180p')!.edge();
  await new Promise((r) => setTimeout(r, 2500));
  const after = srv.app.origin.get(id)!.timelines.get('180p')!.edge();
  t.ok(after.msn > before.msn || after.parts > before.parts, 'the live stream keeps producing parts');
  t.equal((await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).status, 200, 'and serving playlists');
}

t.test('an unwritable recordings directory: a clear error, the live stream goes on', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-unwritable-'));
  writeFileSync(join(dataDir, 'recordings'), 'not a directory');
  const srv = await startServer({ dataDir });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 8);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(() => srv.app.origin.get(id)?.ready(), 'live');
  const rec = await srv.api('GET', `/v1/streams/${id}/recording`);
  t.equal(rec.json.state, 'failed');
  t.match(rec.json.reason, /cannot record: (ENOTDIR|EEXIST|EACCES)/);
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RECORDING_FAILED'), 'logged with its code');
  await liveKeepsServing(t, srv, id);
});

// A real full disk: a 3 MB tmpfs mounted as the recordings directory (needs root, as CI has).
const dataDir = mkdtempSync(join(tmpdir(), 'showcase-fulldisk-'));
const mnt = join(dataDir, 'recordings');
mkdirSync(mnt);
let mountError: string | false = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { stdio: 'pipe' });
} catch (err) {
  mountError = `cannot mount a small tmpfs here: ${(err as Error).message.split('\n')[0]}`;
}

t.test('a full disk stops the recording at the floor, says why, and the live stream goes on', { skip: mountError }, async (t) => {
  const srv = await startServer({ dataDir, recording: { minFreeBytes: 2 * 1024 * 1024 } });
  t.teardown(async () => {
    await srv.close({ keepData: true });
    execFileSync('umount', ['-l', mnt]);
  });
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 25, ['-b:v', '1500k']);
  t.teardown(() => pub.kill('SIGKILL'));
  const stopped = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${id}/recording`);
    return r.json?.state === 'stopped' ? r.json : undefined;
  }, 'recording stopped at the floor', 20000, 200);
  t.match(stopped.reason, /below the floor|ENOSPC/);
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RECORDING_DISK_FULL'), 'logged with its code');
  await liveKeepsServing(t, srv, id);
  t.ok((await getText(`${srv.base}/metrics`)).text.includes(`showcase_recording_state{stream="${id}",state="stopped"} 1`), 'visible in /metrics');
});
