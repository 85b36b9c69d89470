import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync, rmSync, createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import ffmpeg from 'fluent-ffmpeg';
import { parseInit } from '../hls/fmp4.js';
import { renderMultivariant } from '../hls/playlist-writer.js';
import type { JournalEntry } from './recording-writer.js';

/** What a finalized recording is. */
export interface FinalizedRecording {
  durationSeconds: number;
  sizeBytes: number;
  mp4: string;
  renditions: string[];
}

/** Reads a rendition's journal; a torn last line (crash mid-append) is ignored. */
export function readJournal(rdir: string): JournalEntry[] {
  const file = join(rdir, 'journal.jsonl');
  if (!existsSync(file)) return [];
  const out: JournalEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (existsSync(join(rdir, e.file)) && existsSync(join(rdir, e.init))) out.push(e);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/** The VOD media playlist of a rendition's journal. */
export function vodPlaylist(entries: JournalEntry[]): string {
  const td = Math.max(1, ...entries.map((e) => Math.round(e.duration)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${td}`, '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-INDEPENDENT-SEGMENTS'];
  let init = '';
  entries.forEach((e, i) => {
    if (i > 0 && (e.discontinuity || e.init !== init)) lines.push('#EXT-X-DISCONTINUITY');
    if (e.init !== init) {
      lines.push(`#EXT-X-MAP:URI="${e.init}"`);
      init = e.init;
    }
    if (i === 0 || e.discontinuity) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.programDateTimeMs).toISOString()}`);
    lines.push(`#EXTINF:${e.duration.toFixed(5)},`, e.file);
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** Concatenates a run's init and segments: a valid fragmented MP4 of that run. */
async function writeRunFile(rdir: string, entries: JournalEntry[], out: string): Promise<void> {
  const ws = createWriteStream(out);
  const files = [entries[0]!.init, ...entries.map((e) => e.file)];
  for (const f of files) {
    for await (const chunk of createReadStream(join(rdir, f))) {
      if (!ws.write(chunk)) await once(ws, 'drain');
    }
  }
  await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Remuxes (no re-encode) inputs into one progressive MP4 with the index up front (+faststart). */
function remux(inputs: string[], listFile: string, out: string, ffmpegPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let cmd = ffmpeg().setFfmpegPath(ffmpegPath);
    if (inputs.length === 1) cmd = cmd.input(inputs[0]!);
    else {
      writeFileSync(listFile, inputs.map((f) => `file '${f.replace(/'/g, "'\\''")}'`).join('\n') + '\n');
      cmd = cmd.input(listFile).inputOptions(['-f', 'concat', '-safe', '0']);
    }
    cmd.outputOptions(['-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4'])
      .output(out)
      .on('error', (err: Error) => reject(err))
      .on('end', () => resolve())
      .run();
  });
}

/**
 * Finalizes a recording directory: a VOD playlist per rendition and a multivariant playlist (so
 * replays keep adaptive bitrate), and one downloadable MP4 of the top rendition, remuxed only.
 */
export async function finalizeRecording(dir: string, renditionOrder: string[], ffmpegPath: string): Promise<FinalizedRecording> {
  const present = existsSync(dir) ? readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()) : [];
  const renditions = [...renditionOrder.filter((r) => present.includes(r)), ...present.filter((r) => !renditionOrder.includes(r))];
  const journals = new Map(renditions.map((r) => [r, readJournal(join(dir, r))] as const));
  const kept = renditions.filter((r) => journals.get(r)!.length > 0);
  if (kept.length === 0) throw new Error('no complete segment was recorded');
  const variants = [];
  for (const r of kept) {
    const entries = journals.get(r)!;
    writeFileSync(join(dir, r, 'index.m3u8'), vodPlaylist(entries));
    const info = parseInit(readFileSync(join(dir, r, entries[entries.length - 1]!.init)));
    const video = info.tracks.find((t) => t.kind === 'video');
    const bits = entries.map((e) => (e.bytes * 8) / Math.max(e.duration, 0.5));
    const total = entries.reduce((a, e) => a + e.duration, 0);
    variants.push({
      uri: `${r}/index.m3u8`,
      stats: {
        codecs: info.tracks.filter((t) => t.kind !== 'other').map((t) => t.codec).join(','),
        width: video?.width,
        height: video?.height,
        peakBitrate: Math.round(Math.max(...bits)),
        averageBitrate: Math.round((entries.reduce((a, e) => a + e.bytes, 0) * 8) / Math.max(total, 0.001)),
      },
      fallbackBandwidth: 0,
    });
  }
  writeFileSync(join(dir, 'master.m3u8'), renderMultivariant(variants));

  // The MP4 from the top rendition: one fMP4 per run (init + its segments), then one remux.
  const top = kept[0]!;
  const entries = journals.get(top)!;
  const runs: JournalEntry[][] = [];
  for (const e of entries) {
    const last = runs[runs.length - 1];
    if (last && last[0]!.init === e.init && !e.discontinuity) last.push(e);
    else runs.push([e]);
  }
  const work = join(dir, '.finalize');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const runFiles: string[] = [];
  for (let i = 0; i < runs.length; i++) {
    const f = join(work, `run${i}.mp4`);
    await writeRunFile(join(dir, top), runs[i]!, f);
    runFiles.push(f);
  }
  const tmp = join(work, 'recording.mp4');
  await remux(runFiles, join(work, 'list.txt'), tmp, ffmpegPath);
  const mp4 = join(dir, 'recording.mp4');
  renameSync(tmp, mp4);
  rmSync(work, { recursive: true, force: true });
  const durationSeconds = Math.round(entries.reduce((a, e) => a + e.duration, 0) * 1000) / 1000;
  return { durationSeconds, sizeBytes: statSync(mp4).size, mp4, renditions: kept };
}
