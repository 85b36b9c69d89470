/**
 * Recording finalize benchmark: how long from a stream's end until its recording is `ready` (VOD
 * playlists + a remuxed +faststart MP4) for a long recording, and how many bytes the recorder
 * writes per byte of media it keeps. The media is synthesized quickly (not in real time) by one
 * ffmpeg at a tiny resolution with -preset ultrafast, cut into fragments exactly like the
 * transcoder's output, and fed through the real path: HLS origin timelines -> RecordingService ->
 * StreamRecorder (per-segment files, fsync'd journal) -> finalize (ffmpeg -c copy).
 *
 * Run: npm run build && node dist/bench/recording-finalize.js [--minutes 10] [--keep]
 * Target: ready within 5 s of the end for 10 minutes of media; remux only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../src/core/logger.js';
import { HlsOrigin } from '../src/playback/hls/hls-origin.js';
import { Fmp4Splitter, type Fmp4Chunk } from '../src/playback/hls/fmp4-splitter.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { resolveRecordingConfig } from '../src/recorder/recording-config.js';
import { RecordingService, type RecordingInfo } from '../src/recorder/recording-service.js';
import type { StreamRecorder } from '../src/recorder/stream-recorder.js';

const execFileP = promisify(execFile);

export interface RecordingFinalizeOptions {
  /** Minutes of media (default 10; --quick uses 2). */
  minutes?: number;
  quick?: boolean;
  /** Keep the temp directory for inspection. */
  keep?: boolean;
}

export interface RecordingFinalizeResult {
  mediaSeconds: number;
  renditions: number;
  segments: number;
  /** Stream end to `ready` (VOD playlists written, MP4 remuxed, synced, renamed). */
  endToReadyMs: number;
  targetMs: number;
  /** Wall time the recorder took to write all of it (it keeps up this many times real time). */
  recorderWriteSeconds: number;
  recorderSpeedX: number;
  mediaBytes: number;
  mp4Bytes: number;
  /** Recorder bytes written (segments, inits, journal) per byte of media kept (segments, inits). */
  recorderWriteAmplification: number;
  /** Every byte written from first part to ready (recorder, playlists, ffmpeg's MP4 and its faststart pass; /proc/self/io wchar incl. reaped children) per byte kept on disk at the end. */
  lifecycleWriteAmplification: number;
  mp4DurationSeconds: number;
  journalSeconds: number;
}

/** Bytes this process (and its reaped children) passed to write(2): /proc/self/io wchar. */
function wchar(): number {
  const m = /wchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Synthesizes `seconds` of two tiny renditions as fragmented MP4, shaped like the transcoder's output. */
async function synthesize(dir: string, seconds: number): Promise<Buffer[]> {
  const frag = ['-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe+skip_trailer', '-frag_duration', '300000'];
  const video = (label: string, bitrate: string) => ['-map', label, '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', bitrate,
    '-g', '120', '-keyint_min', '60', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*2)', '-c:a', 'aac', '-b:a', '32k', '-ac', '1', ...frag];
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=192x108:rate=30:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-filter_complex', '[0:v]split=2[a][b];[b]scale=128:72[c]',
    ...video('[a]', '120k'), join(dir, 'hi.mp4'), ...video('[c]', '60k'), join(dir, 'lo.mp4')], { maxBuffer: 1 << 20 });
  return [readFileSync(join(dir, 'hi.mp4')), readFileSync(join(dir, 'lo.mp4'))];
}

async function probeDuration(file: string): Promise<number> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

/** Runs the benchmark and returns its figures. */
export async function runRecordingFinalizeBench(opts: RecordingFinalizeOptions = {}): Promise<RecordingFinalizeResult> {
  const minutes = opts.minutes ?? (opts.quick ? 2 : 10);
  const seconds = Math.round(minutes * 60);
  const dir = mkdtempSync(join(tmpdir(), 'bench-recording-'));
  const log = createLogger('silent');
  const store = openSqliteStore({ file: join(dir, 'showcase.db'), logger: log });
  const origin = new HlsOrigin({ timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 12, retainExtraSegments: 4, maxBlockingRequests: 100, endedRetainSeconds: 0 });
  const svc = new RecordingService({
    dataDir: dir, config: resolveRecordingConfig({ recording: { minFreeBytes: 0, retentionDays: 0 } }), ffmpegPath: 'ffmpeg', store, origin, logger: log,
  });
  try {
    const media = await synthesize(dir, seconds);
    const streamId = 'bench';
    await store.createStream({ id: streamId, ownerId: null, title: 'bench', description: '', streamKeyHash: 'x'.repeat(64), streamKeyPrefix: 'sk_', state: 'live', createdAt: Date.now(), startedAt: Date.now(), endedAt: null, endReason: null, extra: {} });
    await svc.start();

    const io0 = wchar();
    const t0 = performance.now();
    const hls = origin.getOrCreate(streamId, [{ name: 'hi', fallbackBandwidth: 200_000 }, { name: 'lo', fallbackBandwidth: 100_000 }]);
    const recorder = svc.recorder(streamId) as StreamRecorder;
    const chunks: Fmp4Chunk[][] = media.map((m) => new Fmp4Splitter().push(m));
    const tls = [hls.timelines.get('hi')!, hls.timelines.get('lo')!];
    // Interleave the renditions fragment by fragment, as ffmpeg's outputs arrive.
    for (let i = 0; i < Math.max(...chunks.map((c) => c.length)); i++) {
      tls.forEach((tl, r) => {
        const c = chunks[r]![i];
        if (!c) return;
        if (c.type === 'init') tl.startRun(1, c.data, Date.now());
        else tl.addFragment(c.data);
      });
      // Let the write queue run now and then, as it would between parts of a live stream.
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await recorder.flushed();
    const recorderWriteSeconds = (performance.now() - t0) / 1000;

    await store.updateStream(streamId, { state: 'ended', endedAt: Date.now(), endReason: 'publisher-stopped' });
    const tEnd = performance.now();
    origin.end(streamId);
    let info: RecordingInfo | undefined;
    for (;;) {
      info = await svc.info(streamId);
      if (info?.state === 'ready' || info?.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const endToReadyMs = Math.round(performance.now() - tEnd);
    const written = wchar() - io0;
    if (info.state !== 'ready') throw new Error(`recording ${info.state}: ${info.reason}`);
    const mp4 = join(svc.root, streamId, 'recording.mp4');
    const keptOnDisk = recorder.mediaBytes + (info.sizeBytes ?? 0);
    return {
      mediaSeconds: seconds,
      renditions: tls.length,
      segments: info.segments ?? 0,
      endToReadyMs,
      targetMs: 5000,
      recorderWriteSeconds: Math.round(recorderWriteSeconds * 100) / 100,
      recorderSpeedX: Math.round(seconds / recorderWriteSeconds),
      mediaBytes: recorder.mediaBytes,
      mp4Bytes: info.sizeBytes ?? 0,
      recorderWriteAmplification: Math.round((recorder.bytesWritten / recorder.mediaBytes) * 1000) / 1000,
      lifecycleWriteAmplification: Math.round((written / keptOnDisk) * 1000) / 1000,
      mp4DurationSeconds: await probeDuration(mp4),
      journalSeconds: info.durationSeconds ?? 0,
    };
  } finally {
    await svc.stop();
    origin.close();
    await store.close();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const r = await runRecordingFinalizeBench({ minutes: arg('minutes') ? Number(arg('minutes')) : undefined, keep: process.argv.includes('--keep') });
  console.table([
    { figure: 'media recorded', value: `${r.mediaSeconds} s x ${r.renditions} renditions, ${r.segments} segments, ${(r.mediaBytes / 1e6).toFixed(1)} MB`, target: '' },
    { figure: 'stream end -> ready', value: `${r.endToReadyMs} ms`, target: `<= ${r.targetMs} ms` },
    { figure: 'recorder write speed', value: `${r.recorderWriteSeconds} s for all of it (${r.recorderSpeedX}x real time)`, target: '' },
    { figure: 'recorder write amplification', value: `${r.recorderWriteAmplification}x (bytes written / media bytes kept)`, target: '' },
    { figure: 'lifecycle write amplification', value: `${r.lifecycleWriteAmplification}x (all writes incl. MP4 + faststart / bytes kept)`, target: '' },
    { figure: 'MP4', value: `${(r.mp4Bytes / 1e6).toFixed(1)} MB, ${r.mp4DurationSeconds} s (journal ${r.journalSeconds} s)`, target: 'remux only' },
  ]);
}
