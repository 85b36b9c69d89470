import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/logger.js';
import { LiveStream } from '../../src/core/live-stream.js';
import { HlsOrigin } from '../../src/playback/hls/hls-origin.js';
import { Fmp4Splitter } from '../../src/playback/hls/fmp4-splitter.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/types.js';
import { resolveRecordingConfig, type RecordingConfig } from '../../src/recorder/recording-config.js';
import { RecordingService, type RecordingInfo } from '../../src/recorder/recording-service.js';
import { makeFragmentedMp4, ffprobe } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/server.js';

const log = createLogger('silent');

function world(t: Test) {
  const dataDir = mkdtempSync(join(tmpdir(), 'recorder-service-'));
  const store = openSqliteStore({ file: join(dataDir, 'showcase.db'), logger: log });
  const origin = new HlsOrigin({ timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 12, retainExtraSegments: 4, maxBlockingRequests: 10, endedRetainSeconds: 0 });
  t.teardown(async () => {
    origin.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const service = (config: Partial<RecordingConfig>, ffmpegPath = 'ffmpeg', freeBytes?: (p: string) => Promise<number>) =>
    new RecordingService({ dataDir, config: { ...resolveRecordingConfig({}), minFreeBytes: 0, ...config }, ffmpegPath, store, origin, logger: log, freeBytes });
  const stream = (id: string) =>
    store.createStream({ id, ownerId: null, title: id, description: '', streamKeyHash: id.padEnd(64, '0'), streamKeyPrefix: 'sk_', state: 'live', createdAt: Date.now(), startedAt: Date.now(), endedAt: null, endReason: null, extra: {} });
  return { dataDir, store, origin, service, stream };
}

/** Publishes one run of media into a stream's renditions, then ends the stream as the transcoder would. */
async function publishAndEnd(store: Store, origin: HlsOrigin, svc: RecordingService, id: string, seconds = 4): Promise<void> {
  const media = await makeFragmentedMp4(seconds);
  // The recorder reads the renditions a transcoder announces on the stream.
  const live = new LiveStream(id, 'live');
  live.addReader(svc.reader());
  const hls = origin.getOrCreate(id, [{ name: 'hi', fallbackBandwidth: 1 }, { name: 'lo', fallbackBandwidth: 1 }]);
  live.announceRenditions();
  for (const tl of hls.timelines.values()) {
    for (const c of new Fmp4Splitter().push(media)) {
      if (c.type === 'init') tl.startRun(1, c.data, Date.now());
      else tl.addFragment(c.data);
    }
  }
  await store.updateStream(id, { state: 'ended', endedAt: Date.now(), endReason: 'publisher-stopped' });
  origin.end(id);
}

/** The recording row as the store holds it. */
const info = (store: Store, id: string): Promise<RecordingInfo | undefined> => store.getRecording(id);

t.test('a finalize still running at shutdown has its ffmpeg killed; the next start resumes it to ready', async (t) => {
  const w = world(t);
  // An ffmpeg that answers fluent-ffmpeg's capability probe and then hangs like a stuck remux.
  const fake = join(w.dataDir, 'slow-ffmpeg.sh');
  const pidFile = join(w.dataDir, 'slow.pid');
  writeFileSync(fake, `#!/bin/sh\ncase "$*" in *-formats*|*-codecs*|*-encoders*|*-filters*) exec ffmpeg "$@";; esac\necho $$ > ${pidFile}\nexec sleep 60\n`);
  chmodSync(fake, 0o755);
  const first = w.service({ shutdownGraceMs: 200 }, fake);
  await first.start();
  await w.stream('s1');
  await publishAndEnd(w.store, w.origin, first, 's1');
  const pid = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim(), 'the remux running'));
  t.equal((await info(w.store, 's1'))?.state, 'processing');
  const t0 = Date.now();
  await first.stop();
  t.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`);
  t.throws(() => process.kill(pid, 0), 'the remux ffmpeg is gone');
  t.equal((await info(w.store, 's1'))?.state, 'processing', 'left processing for the next start');
  t.notOk(existsSync(join(first.root, 's1', 'recording.mp4')));

  const second = w.service({});
  await second.start();
  t.teardown(() => second.stop());
  await waitFor(async () => (await info(w.store, 's1'))?.state === 'ready', 'resumed to ready', 20000);
  const r = (await info(w.store, 's1'))!;
  t.ok(r.durationSeconds! > 3.5, `${r.durationSeconds} s`);
  t.equal(Number((await ffprobe(join(second.root, 's1', 'recording.mp4'))).format.duration).toFixed(0), r.durationSeconds!.toFixed(0));
  t.same(readdirSync(join(second.root, 's1')).filter((f) => f.includes('.part') || f.endsWith('.tmp')), [], 'no leftovers');
});

t.test('only the configured renditions are kept; the MP4 comes from the highest of them', async (t) => {
  const w = world(t);
  const svc = w.service({ renditions: ['lo'] });
  await svc.start();
  t.teardown(() => svc.stop());
  await w.stream('s2');
  await publishAndEnd(w.store, w.origin, svc, 's2', 3);
  await waitFor(async () => (await info(w.store, 's2'))?.state === 'ready', 'ready', 20000);
  t.same((await info(w.store, 's2'))?.renditions, ['lo']);
  t.equal((await info(w.store, 's2'))?.mp4Rendition, 'lo');
  t.notOk(existsSync(join(svc.root, 's2', 'hi')), 'the other rendition was not written');
});

t.test('below the disk floor no recording starts: the state says why, the error is counted', async (t) => {
  const w = world(t);
  const svc = w.service({ minFreeBytes: 10_000_000 }, 'ffmpeg', async () => 1_000_000);
  await svc.start();
  t.teardown(() => svc.stop());
  await w.stream('s3');
  await publishAndEnd(w.store, w.origin, svc, 's3', 2);
  await waitFor(async () => (await info(w.store, 's3'))?.state === 'failed', 'failed', 10000);
  const r = (await info(w.store, 's3'))!;
  t.equal(r.code, 'SHOWCASE_ERR_RECORDING_DISK_FULL');
  t.match(r.reason, /1000000 bytes\) is below the recording floor \(10000000 bytes\)/);
  t.same(svc.errorCounts(), { SHOWCASE_ERR_RECORDING_DISK_FULL: 1 }, 'counted once (the same stop, not again at the end)');
  t.same(svc.activity(), { recording: 0, finalizing: 0, queuedBytes: 0 });
});
