/**
 * Recording benchmark: 10 minutes of real fMP4 media (encoded once, fast, at a small size) fed
 * through a live timeline into the RecordingWriter, then finalized. Prints the time from stream end
 * to `ready` (VOD playlists + remuxed faststart MP4) and the write amplification (bytes the recorder
 * wrote per byte of media kept; the MP4 is counted separately).
 * Run: node dist/bench/vod-finalize.js [--minutes 10]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fmp4Splitter } from '../src/hls/fmp4-splitter.js';
import { HlsStream } from '../src/hls/hls-stream.js';
import { BlockingBudget } from '../src/hls/blocking-waiter.js';
import { RecordingWriter } from '../src/recording/recording-writer.js';
import { finalizeRecording } from '../src/recording/finalize.js';
import { createLogger } from '../src/core/logger.js';

export interface VodFinalizeResult {
  mediaSeconds: number;
  mediaBytes: number;
  recorderBytesWritten: number;
  writeAmplification: number;
  finalizeMs: number;
  mp4Bytes: number;
  mp4Seconds: number;
}

function source(minutes: number): string {
  const file = join(tmpdir(), `showcase-bench-vod-${minutes}m.mp4`);
  if (!existsSync(file)) {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(minutes * 60), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '400k', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*2)', '-c:a', 'aac', '-b:a', '64k',
      '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe+skip_trailer', '-frag_duration', '300000', file]);
  }
  return file;
}

/** Runs the benchmark and returns its figures. */
export async function runVodFinalizeBench(opts: { minutes?: number } = {}): Promise<VodFinalizeResult> {
  const minutes = opts.minutes ?? 10;
  const bytes = readFileSync(source(minutes));
  const dir = mkdtempSync(join(tmpdir(), 'showcase-bench-rec-'));
  const hls = new HlsStream({ streamId: 'bench', renditions: [{ name: '180p', fallbackBandwidth: 1 }], timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 12, retainExtraSegments: 4, budget: new BlockingBudget(10) });
  const writer = new RecordingWriter({ streamId: 'bench', dir, hls, logger: createLogger('warn'), minFreeBytes: 0, onStopped: (r) => { throw new Error(r); } });
  const tl = hls.timelines.get('180p')!;
  let mediaBytes = 0;
  let mediaSeconds = 0;
  tl.on('segment', (seg) => (mediaSeconds += seg.duration));
  for (const c of new Fmp4Splitter().push(bytes)) {
    if (c.type === 'init') tl.startRun(1, c.data, Date.now());
    else {
      tl.addFragment(c.data);
      mediaBytes += c.data.length;
    }
    // Let the writer keep up as it would live (parts arrive every ~0.3 s, not all at once).
    if (c.type === 'fragment' && mediaBytes % 8 === 0) await writer.flush();
  }
  tl.end();
  await writer.close();
  const t0 = performance.now();
  const r = await finalizeRecording(dir, ['180p'], 'ffmpeg');
  const finalizeMs = performance.now() - t0;
  const mp4Seconds = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', r.mp4]).toString().trim());
  const result = {
    mediaSeconds: Math.round(mediaSeconds),
    mediaBytes,
    recorderBytesWritten: writer.bytesWritten,
    writeAmplification: Number((writer.bytesWritten / mediaBytes).toFixed(4)),
    finalizeMs: Math.round(finalizeMs),
    mp4Bytes: statSync(r.mp4).size,
    mp4Seconds,
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--minutes');
  const r = await runVodFinalizeBench({ minutes: i > 0 ? Number(process.argv[i + 1]) : 10 });
  console.table({
    'media recorded (s)': r.mediaSeconds,
    'stream end -> ready (ms)': `${r.finalizeMs} (target <= 5000 for 10 min)`,
    'write amplification (recorder bytes / media bytes)': r.writeAmplification,
    'MP4 size (bytes) / duration (s)': `${r.mp4Bytes} / ${r.mp4Seconds}`,
    'remux only': 'yes (-c copy)',
  });
}
