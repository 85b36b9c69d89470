import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RenditionTimeline } from '../../src/playback/hls/rendition-timeline.js';
import { Fmp4Splitter } from '../../src/playback/hls/fmp4-splitter.js';
import { createLogger } from '../../src/core/logger.js';
import { StreamRecorder } from '../../src/recorder/stream-recorder.js';
import { readJournal, JOURNAL_FILE, type JournalSegment } from '../../src/recorder/journal.js';
import { finalizeRecording, MP4_FILE, MASTER_FILE, NothingRecordedError } from '../../src/recorder/finalize.js';
import { makeFragmentedMp4, ffprobe, decodeFrames } from '../helpers/ffmpeg.js';

const log = createLogger('silent');

function timeline(name: string): RenditionTimeline {
  return new RenditionTimeline({ name, segmentSeconds: 2, partSeconds: 0.334, windowSegments: 3, retainExtraSegments: 1 });
}

/** Feeds one transcoder run (a whole fMP4 file) into a timeline, as the transcoder's socket would. */
function feedRun(tl: RenditionTimeline, runId: number, mp4: Buffer, wallMs: number): void {
  const sp = new Fmp4Splitter();
  for (const c of sp.push(mp4)) {
    if (c.type === 'init') tl.startRun(runId, c.data, wallMs);
    else tl.addFragment(c.data);
  }
}

t.test('parts go to per-segment files, segments to the journal; two runs finalize to one MP4 with a discontinuity', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const media = await makeFragmentedMp4(5);
  const hi = timeline('hi');
  const lo = timeline('lo');
  const rec = new StreamRecorder({ streamId: 'abc', dir, timelines: [hi, lo], maxQueuedBytes: 64 << 20, logger: log });
  const ended = new Promise((r) => rec.once('ended', r));
  feedRun(hi, 1, media, 1_700_000_000_000);
  feedRun(lo, 1, media, 1_700_000_000_000);
  // ffmpeg restarted: a new run with a new init, the same recording.
  feedRun(hi, 2, media, 1_700_000_010_000);
  feedRun(lo, 2, media, 1_700_000_010_000);
  hi.end();
  lo.end();
  t.equal(await ended, undefined, 'ended without a stop');

  const entries = await readJournal(join(dir, JOURNAL_FILE));
  t.equal(entries[0]!.t, 'start');
  t.equal(entries[entries.length - 1]!.t, 'end');
  const segs = entries.filter((e): e is JournalSegment => e.t === 'seg' && e.r === 'hi');
  t.ok(segs.length >= 4, `${segs.length} segments journaled for the top rendition`);
  t.same(readdirSync(join(dir, 'hi')).filter((f) => f.startsWith('init')).sort(), ['init1.mp4', 'init2.mp4'], 'one init file per run');
  for (const s of segs) t.equal(statSync(join(dir, 'hi', `s${s.msn}.m4s`)).size, s.bytes, `s${s.msn} on disk in full`);
  const firstOfRun2 = segs.find((s) => s.run === 2)!;
  t.ok(firstOfRun2.disc, 'the first segment of the second run is a discontinuity');
  t.equal(segs.filter((s) => s.disc).length, 1);
  const journaled = segs.reduce((a, s) => a + s.dur, 0);
  t.equal(rec.mediaSeconds.toFixed(3), journaled.toFixed(3));

  const r = await finalizeRecording(dir, { ffmpegPath: 'ffmpeg', timeoutMs: 30000, logger: log });
  t.equal(r.mp4Rendition, 'hi');
  t.same(r.renditions, ['hi', 'lo']);
  t.equal(r.discontinuities, 1);
  const pl = readFileSync(join(dir, 'hi', 'index.m3u8'), 'utf8');
  t.match(pl, /#EXT-X-PLAYLIST-TYPE:VOD/);
  t.match(pl, /#EXT-X-MAP:URI="init1\.mp4"/);
  t.match(pl, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/);
  t.match(pl, /#EXT-X-ENDLIST\n$/);
  t.equal(pl.match(/#EXTINF/g)!.length, segs.length);
  const master = readFileSync(join(dir, MASTER_FILE), 'utf8');
  t.match(master, /#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",RESOLUTION=320x180\nhi\/index\.m3u8/);
  t.match(master, /lo\/index\.m3u8/);

  const mp4 = join(dir, MP4_FILE);
  const probe = await ffprobe(mp4);
  const duration = Number(probe.format.duration);
  t.ok(duration >= journaled - 0.1 && duration <= journaled + 0.3, `MP4 lasts ${duration} s, journal ${journaled.toFixed(3)} s`);
  t.same(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], 'remuxed, both tracks');
  t.equal(r.sizeBytes, statSync(mp4).size);
  const head = readFileSync(mp4).subarray(0, 4096);
  t.ok(head.includes(Buffer.from('moov')), '+faststart: the index comes first');
  t.ok((await decodeFrames(mp4)) >= 290, 'every frame of both runs decodes');
  t.notOk(existsSync(join(dir, 'hi', 'recording.ffconcat')), 'no leftovers');
});

t.test('a recorder closed mid-segment (crash-like) leaves a journal that finalizes what was complete', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const media = await makeFragmentedMp4(5);
  const tl = timeline('hi');
  const rec = new StreamRecorder({ streamId: 'abc', dir, timelines: [tl], maxQueuedBytes: 64 << 20, logger: log });
  feedRun(tl, 1, media, Date.now());
  t.ok(tl.openSegment(), 'a segment is still open');
  await rec.close();
  const entries = await readJournal(join(dir, JOURNAL_FILE));
  t.notOk(entries.some((e) => e.t === 'end'), 'no end line: the stream did not end');
  const segs = entries.filter((e) => e.t === 'seg');
  t.equal(segs.length, tl.segments.filter((s) => s.complete).length, 'only complete segments are journaled');
  const open = tl.openSegment()!;
  t.ok(existsSync(join(dir, 'hi', `s${open.msn}.m4s`)), 'the open segment file exists on disk');
  const r = await finalizeRecording(dir, { ffmpegPath: 'ffmpeg', timeoutMs: 30000, logger: log });
  const journaled = segs.reduce((a, s) => a + (s as JournalSegment).dur, 0);
  t.equal(r.durationSeconds.toFixed(2), journaled.toFixed(2));
  t.ok(Number((await ffprobe(join(dir, MP4_FILE))).format.duration) >= journaled - 0.1);
  t.notMatch(readFileSync(join(dir, 'hi', 'index.m3u8'), 'utf8'), new RegExp(`s${open.msn}\\.m4s`), 'the partial segment is not in the replay');
});

t.test('a halted recorder writes nothing more and finalizing an empty recording says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tl = timeline('hi');
  const rec = new StreamRecorder({
    streamId: 'abc', dir, timelines: [tl], maxQueuedBytes: 64 << 20, logger: log,
    checkDisk: async () => ({ code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: 'below the floor' }),
  });
  const stopped = new Promise((r) => rec.once('stopped', r));
  feedRun(tl, 1, await makeFragmentedMp4(3), Date.now());
  t.same(await stopped, { code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: 'below the floor' });
  const ended = new Promise((r) => rec.once('ended', r));
  tl.end();
  t.same(await ended, { code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: 'below the floor' }, 'ended reports the stop');
  t.notOk(existsSync(join(dir, 'hi')), 'nothing written below the floor');
  await t.rejects(finalizeRecording(dir, { ffmpegPath: 'ffmpeg', timeoutMs: 30000, logger: log }), NothingRecordedError);
});

t.test('more bytes waiting for the disk than allowed stops the recording instead of growing memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tl = timeline('hi');
  const rec = new StreamRecorder({ streamId: 'abc', dir, timelines: [tl], maxQueuedBytes: 20_000, logger: log });
  const stopped = new Promise<{ code: string; reason: string }>((r) => rec.once('stopped', r));
  feedRun(tl, 1, await makeFragmentedMp4(3), Date.now());
  const s = await stopped;
  t.equal(s.code, 'SHOWCASE_ERR_RECORDING_FAILED');
  t.match(s.reason, /too slow/);
  await rec.flushed();
  t.ok(rec.queuedBytes <= 20_000);
});
