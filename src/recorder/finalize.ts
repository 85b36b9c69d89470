import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseInit, type InitInfo } from '../playback/hls/fmp4.js';
import type { Logger } from '../core/logger.js';
import type { DateRange } from '../playback/hls/date-range.js';
import { JOURNAL_FILE, readJournal } from './journal.js';
import { RemuxProcess } from './remux-process.js';
import { contiguousPieces, planFromJournal, renderVodMediaPlaylist, renderVodMultivariant, renditionDuration, type RecordedRendition } from './vod-playlists.js';

/** The MP4 a finalized recording offers for download. */
export const MP4_FILE = 'recording.mp4';
/** The VOD multivariant playlist of a recording. */
export const MASTER_FILE = 'master.m3u8';

/** What finalizing a recording produced. */
export interface FinalizeResult {
  /** Seconds of the MP4 (the top rendition's journaled segments). */
  durationSeconds: number;
  /** Bytes of the MP4. */
  sizeBytes: number;
  mp4Rendition: string;
  renditions: string[];
  segments: number;
  /** Places where the run changed or segments were lost. */
  discontinuities: number;
  /** Bytes of the segments and init files the VOD replay serves. */
  vodBytes: number;
  /** Bytes written while finalizing (playlists, the MP4 and ffmpeg's faststart rewrite of it). */
  bytesWritten: number;
  /** Set when writing had stopped early: the recording is what came before. */
  stop?: { code: string; reason: string };
}

/** A finalize that cannot succeed (nothing recorded): no point retrying. */
export class NothingRecordedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NothingRecordedError';
  }
}

export interface FinalizeOptions {
  ffmpegPath: string;
  timeoutMs: number;
  logger: Logger;
  /** Told about the remux so its owner can kill it on shutdown. */
  onRemux?: (p: RemuxProcess | undefined) => void;
  /** Date ranges (highlights) the VOD media playlists carry, on the same program-date clock. */
  dateRanges?: readonly DateRange[];
}

/** Writes a small file atomically (temp file, sync, rename). */
async function writeAtomic(file: string, data: string): Promise<number> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return Buffer.byteLength(data);
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

/** Drops journaled segments whose file is missing or shorter than journaled, or whose init is gone. */
async function verifyOnDisk(dir: string, r: RecordedRendition, inits: Map<string, InitInfo>): Promise<RecordedRendition> {
  const segments = [];
  for (const s of r.segments) {
    const key = `${r.name}/${s.run}`;
    if (!inits.has(key)) {
      try {
        inits.set(key, parseInit(await readFile(join(dir, r.name, `init${s.run}.mp4`))));
      } catch {
        continue;
      }
    }
    if ((await fileSize(join(dir, r.name, `s${s.msn}.m4s`))) === s.bytes) segments.push(s);
  }
  return { name: r.name, segments };
}

/**
 * Finalizes a recording directory from what is on disk (the same path after a clean end and after a
 * crash): a VOD playlist per rendition and a multivariant playlist first (the replay works from then
 * on), then one MP4 of the top rendition, remuxed by ffmpeg without re-encoding (`-c copy`,
 * `+faststart`). Each run's init and segments are read as one fMP4 through the concat protocol and
 * the runs are joined by the concat demuxer, which makes timestamps monotonic across discontinuities.
 */
export async function finalizeRecording(dir: string, o: FinalizeOptions): Promise<FinalizeResult> {
  const plan = planFromJournal(await readJournal(join(dir, JOURNAL_FILE)).catch(() => []));
  if (!plan) throw new NothingRecordedError('the recording has no journal');
  const inits = new Map<string, InitInfo>();
  const renditions: RecordedRendition[] = [];
  for (const r of plan.renditions) {
    const v = await verifyOnDisk(dir, r, inits);
    if (v.segments.length) renditions.push(v);
  }
  const top = renditions[0];
  if (!top) throw new NothingRecordedError(plan.stop ? `nothing was recorded: ${plan.stop.reason}` : 'nothing was recorded');

  let bytesWritten = 0;
  let vodBytes = 0;
  let segments = 0;
  for (const r of renditions) {
    bytesWritten += await writeAtomic(join(dir, r.name, 'index.m3u8'), renderVodMediaPlaylist(r, o.dateRanges));
    segments += r.segments.length;
    vodBytes += r.segments.reduce((a, s) => a + s.bytes, 0);
    for (const run of new Set(r.segments.map((s) => s.run))) vodBytes += (await fileSize(join(dir, r.name, `init${run}.mp4`))) ?? 0;
  }
  bytesWritten += await writeAtomic(join(dir, MASTER_FILE), renderVodMultivariant(renditions.map((r) => ({ rendition: r, init: inits.get(`${r.name}/${r.segments[0]!.run}`)! }))));

  // The MP4: one concat-demuxer entry per contiguous piece of the top rendition.
  const pieces = contiguousPieces(top);
  const list = ['ffconcat version 1.0', ...pieces.map((p) => `file 'concat:${[`init${p.run}.mp4`, ...p.segments.map((s) => `s${s.msn}.m4s`)].join('|')}'`)].join('\n') + '\n';
  const listFile = join(dir, top.name, 'recording.ffconcat');
  await writeFile(listFile, list);
  const part = join(dir, `${MP4_FILE}.part`);
  await rm(part, { force: true });
  const remux = new RemuxProcess({
    ffmpegPath: o.ffmpegPath,
    cwd: join(dir, top.name),
    input: listFile,
    inputFormat: 'concat',
    inputOptions: ['-safe', '0', '-protocol_whitelist', 'file,concat'],
    output: part,
    outputOptions: ['-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4'],
    timeoutMs: o.timeoutMs,
    logger: o.logger,
  });
  o.onRemux?.(remux);
  try {
    await remux.done;
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  } finally {
    o.onRemux?.(undefined);
    await rm(listFile, { force: true });
  }
  const fh = await open(part, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(part, join(dir, MP4_FILE));
  const sizeBytes = (await fileSize(join(dir, MP4_FILE))) ?? 0;
  // +faststart writes the file, then moves its media data once more to put the index first.
  bytesWritten += sizeBytes * 2 + list.length;
  return {
    durationSeconds: Math.round(renditionDuration(top) * 1000) / 1000,
    sizeBytes,
    mp4Rendition: top.name,
    renditions: renditions.map((r) => r.name),
    segments,
    discontinuities: pieces.length - 1,
    vodBytes,
    bytesWritten,
    stop: plan.stop,
  };
}
