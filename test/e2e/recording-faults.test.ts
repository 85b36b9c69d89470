import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText, ADMIN, type TestServer } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import type { RecordingConfig } from '../../src/recorder/recording-config.js';

/** A test server whose recorder has these settings, and a reader of a stream's recording state. */
async function setup(t: Test, dataDir: string, rec: Partial<RecordingConfig>) {
  const srv = await startServer({ dataDir, recording: rec });
  const svc = srv.app.recordings!;
  t.teardown(() => srv.close());
  const recording = async (id: string) => (await fetch(`${srv.base}/v1/streams/${id}/recording`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  return { srv, svc, recording };
}

/** The live stream goes on while recording cannot: parts keep coming and playlists are served. */
async function liveGoesOn(t: Test, srv: TestServer, id: string): Promise<void> {
  const tl = () => srv.app.origin.get(id)!.timelines.get('180p')!;
  const before = tl().edge();
  await waitFor(() => tl().edge().msn > before.msn, 'the live stream moves on', 6000);
  t.equal((await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).status, 200, 'live playlists are served');
  t.equal((await srv.api('GET', `/v1/streams/${id}`)).json.state, 'live');
}

/** Whether a small tmpfs can be mounted here (root); otherwise the reason, and those tests skip. */
function tmpfsUnavailable(): string | false {
  const probe = mkdtempSync(join(tmpdir(), 'recording-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return false;
  } catch (err) {
    return `cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const noTmpfs = tmpfsUnavailable();

/** A small tmpfs of its own, unmounted and removed at the end of the test. */
function mountTmpfs(t: Test, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'recording-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  t.teardown(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function free(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

t.test('an unwritable recordings directory: a clear error and state, counted; the live stream goes on', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recording-unwritable-'));
  writeFileSync(join(dataDir, 'blocker'), 'a file where a directory should be');
  const { srv, svc, recording } = await setup(t, dataDir, { dir: join(dataDir, 'blocker', 'recordings'), minFreeBytes: 0 });
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RECORDING_FAILED' && /not usable/.test(String(l.msg))), 'said at start');
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 8);
  t.teardown(() => pub.kill('SIGKILL'));
  const stopped = await waitFor(async () => ((await recording(id)).state === 'stopped' ? recording(id) : undefined), 'recording stopped');
  t.equal(stopped.code, 'SHOWCASE_ERR_RECORDING_FAILED');
  t.match(stopped.reason, /ENOTDIR/);
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RECORDING_FAILED' && l.streamId === id), 'logged with its code and stream');
  await liveGoesOn(t, srv, id);
  t.match((await getText(`${srv.base}/metrics`)).text, /showcase_recording_errors_total\{code="SHOWCASE_ERR_RECORDING_FAILED"\} [1-9]/, 'counted');
  t.equal(await pub.done, 0, 'the publisher was never disturbed');
  const end = await waitFor(async () => ((await recording(id)).state === 'failed' ? recording(id) : undefined), 'failed after the end');
  t.match(end.reason, /ENOTDIR/, 'the final state keeps the reason');
  t.equal(end.download, null);
  t.ok(svc.errorCounts().SHOWCASE_ERR_RECORDING_FAILED! >= 2);
});

t.test('a filling disk: the recording stops at the floor and says why; below the floor none starts; the live streams go on', { skip: noTmpfs }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recording-floor-'));
  const mnt = mountTmpfs(t, '2m');
  const floor = 512 * 1024;
  // Leave about 160 KB above the floor: a few seconds of this test's ladder.
  writeFileSync(join(mnt, 'filler'), Buffer.alloc((await free(mnt)) - floor - 160 * 1024));
  const { srv, svc, recording } = await setup(t, dataDir, { dir: mnt, minFreeBytes: floor, diskCheckIntervalMs: 100 });
  const a = await srv.createStream('A');
  const pubA = publishRtmp(`${srv.rtmp}/${a.streamKey}`, 14);
  t.teardown(() => pubA.kill('SIGKILL'));
  await waitFor(async () => (await recording(a.id)).state === 'recording', 'A recording');
  const stopped = await waitFor(async () => ((await recording(a.id)).state === 'stopped' ? recording(a.id) : undefined), 'A stopped at the floor', 15000, 200);
  t.equal(stopped.code, 'SHOWCASE_ERR_RECORDING_DISK_FULL');
  t.match(stopped.reason, /below the recording floor/);
  t.ok(stopped.segments >= 1, `${stopped.segments} segments kept before the stop`);
  t.ok((await free(mnt)) > floor - 256 * 1024, 'it stopped near the floor, not at a full disk');
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RECORDING_DISK_FULL' && l.streamId === a.id), 'logged with its code');
  await liveGoesOn(t, srv, a.id);

  const b = await srv.createStream('B');
  const pubB = publishRtmp(`${srv.rtmp}/${b.streamKey}`, 5);
  t.teardown(() => pubB.kill('SIGKILL'));
  const refused = await waitFor(async () => ((await recording(b.id)).state === 'stopped' ? recording(b.id) : undefined), 'B refused at the floor');
  t.equal(refused.code, 'SHOWCASE_ERR_RECORDING_DISK_FULL');
  t.notOk(existsSync(join(mnt, b.id, '180p')), 'B wrote no media');
  await liveGoesOn(t, srv, b.id);
  t.match((await getText(`${srv.base}/metrics`)).text, /showcase_recording_errors_total\{code="SHOWCASE_ERR_RECORDING_DISK_FULL"\} 2/);

  // When A ends, what was kept before the stop is finalized (or fails cleanly if the disk cannot take the MP4).
  t.equal(await pubA.done, 0);
  const final = await waitFor(async () => {
    const r = await recording(a.id);
    return r.state === 'ready' || r.state === 'failed' ? r : undefined;
  }, 'A finalized', 30000, 200);
  t.equal(final.code, 'SHOWCASE_ERR_RECORDING_DISK_FULL', `${final.state}: the code says why it is partial`);
  t.match(final.reason, /floor|ENOSPC/);
  t.equal(svc.activity().recording, 0);
});

t.test('a disk that fills without a floor: writes fail with ENOSPC, the recording says so, the live stream goes on', { skip: noTmpfs }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recording-enospc-'));
  const mnt = mountTmpfs(t, '2m');
  writeFileSync(join(mnt, 'filler'), Buffer.alloc((await free(mnt)) - 96 * 1024));
  const { srv, recording } = await setup(t, dataDir, { dir: mnt, minFreeBytes: 0 });
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 10);
  t.teardown(() => pub.kill('SIGKILL'));
  const stopped = await waitFor(async () => ((await recording(id)).state === 'stopped' ? recording(id) : undefined), 'recording stopped on ENOSPC', 15000, 200);
  t.equal(stopped.code, 'SHOWCASE_ERR_RECORDING_DISK_FULL');
  t.match(stopped.reason, /ENOSPC/);
  await liveGoesOn(t, srv, id);
  t.equal(await pub.done, 0);
  t.ok(readdirSync(mnt).includes(id), 'what was written stays for the operator');
});
