import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ladderFilterGraph, ladderOutput, partGrid, planLadder, type PartGrid, type PlannedRendition } from '../../src/transcode/ladder.js';
import { Fmp4Splitter } from '../../src/playback/hls/fmp4-splitter.js';
import { RenditionTimeline } from '../../src/playback/hls/rendition-timeline.js';
import { announcedPartTarget } from '../../src/playback/hls/playlist-writer.js';
import { TEST_SOURCE } from '../helpers/ffmpeg.js';

// The ladder's real ffmpeg command line (the one the transcoder runs), fed an FLV file the way the
// transcoder feeds stdin, and its output cut into parts and segments by the packager.

const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'showcase-grid-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const LADDER = [
  { name: '180p', height: 180, videoBitrateKbps: 400, maxFrameRate: 30 },
  { name: '144p', height: 144, videoBitrateKbps: 200, maxFrameRate: 30 },
];
const HLS = { segmentSeconds: 2, partSeconds: 0.334 };

/**
 * A 320x180@30 H.264+AAC FLV with a keyframe every gopSeconds (what OBS sends, as a file). Audio
 * starts with the video, as the transcoder's input does (it begins at a keyframe).
 */
async function source(name: string, seconds: number, gopSeconds: number): Promise<string> {
  const file = join(dir, `${name}.flv`);
  const gop = String(Math.round(gopSeconds * 30));
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...TEST_SOURCE, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-af', 'asetpts=PTS+1024/SR/TB', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file]);
  return file;
}

/** Runs the ladder command on a file (input options as the transcoder's FLV input) and returns each rendition's bytes. */
async function ladder(src: string, plan: PlannedRendition[], grid: PartGrid, tag: string, hasAudio = true): Promise<Buffer[]> {
  const outputs = plan.map((r) => join(dir, `${tag}-${r.name}.mp4`));
  const o = { renditions: plan, outputs, grid, audioBitrateKbps: 96, x264Preset: 'ultrafast', sourceFrameRate: 30, hasAudio };
  const graph = ladderFilterGraph(o);
  const out = ladderOutput(o);
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-probesize', '65536', '-analyzeduration', '200000', '-f', 'flv', '-i', src,
    ...(graph ? ['-filter_complex', graph] : []), ...out.options, out.url]);
  return outputs.map((f) => readFileSync(f));
}

function timeline(name: string, bytes: Buffer, grid: PartGrid): RenditionTimeline {
  const tl = new RenditionTimeline({ name, segmentSeconds: HLS.segmentSeconds, partSeconds: grid.partSeconds, windowSegments: 50, retainExtraSegments: 50 });
  for (const c of new Fmp4Splitter().push(bytes)) {
    if (c.type === 'init') tl.startRun(1, c.data, Date.now());
    else tl.addFragment(c.data);
  }
  tl.end();
  return tl;
}

/** The rule: every part at most PART-TARGET, none under half of it but the last of a segment cut early by a keyframe. */
function checkGrid(t: Test, tl: RenditionTimeline, grid: PartGrid): void {
  const target = announcedPartTarget(grid.partSeconds);
  const segments = tl.segments.slice(0, -1); // the stream's last segment ends where the file does
  t.ok(segments.length >= 3, `${tl.name}: ${segments.length} complete segments`);
  let full = 0;
  for (const s of segments) {
    s.parts.forEach((p, i) => {
      t.ok(p.duration <= target + 1e-9, `${tl.name} part ${p.msn}.${i} ${p.duration.toFixed(4)} <= PART-TARGET ${target}`);
      const last = i === s.parts.length - 1;
      if (!last) t.ok(p.duration >= target / 2, `${tl.name} part ${p.msn}.${i} ${p.duration.toFixed(4)} is not a runt`);
      else if (p.duration < target / 2) t.ok(s.parts.length > 1, 'a short last part follows full ones: cut early by the keyframe');
      if (Math.abs(p.duration - grid.partSeconds) < 0.0015) full++;
    });
    t.ok(s.parts[0]!.independent, `${tl.name} segment ${s.msn} starts with a keyframe`);
  }
  const all = segments.reduce((n, s) => n + s.parts.length, 0);
  t.ok(full >= all - segments.length, `${tl.name}: parts are ${grid.partFrames} frames except at most one per segment (${full}/${all})`);
}

t.test('the part grid is a whole number of frames at the source rate', async (t) => {
  const g30 = partGrid(HLS, 30);
  t.match(g30, { frameRate: 30, partFrames: 10, segmentSeconds: 2 });
  t.equal(announcedPartTarget(g30.partSeconds), 0.334, 'PART-TARGET: 10 frames at 30 fps, rounded up to the ms');
  const g25 = partGrid(HLS, 25);
  t.match(g25, { partFrames: 8, segmentSeconds: 1.92 }, '25 fps: 8-frame parts, segments of 6 parts');
  t.equal(announcedPartTarget(partGrid(HLS, 29.97).partSeconds), 0.334);
  t.equal(partGrid(HLS, undefined).frameRate, 30, 'unknown rate: 30');
  t.equal(partGrid(HLS, 60).partFrames, 20);
});

t.test('passthrough plan: the top rung is the source, copied; the rest encoded below it', async (t) => {
  t.same(planLadder(LADDER, 180, { passthrough: true }).map((r) => [r.name, r.height, !!r.copy]), [['180p', 180, true], ['144p', 144, false]]);
  t.same(planLadder(LADDER, 160, { passthrough: true }).map((r) => [r.name, r.height, !!r.copy]), [['180p', 160, true], ['144p', 144, false]]);
  t.same(planLadder(LADDER, 360, { passthrough: true }).map((r) => !!r.copy), [false, false], 'taller than the top rung: full ladder');
  t.same(planLadder(LADDER, 180).map((r) => !!r.copy), [false, false]);
});

const grid = partGrid(HLS, 30);

t.test('full ladder: parts on the frame grid, one AAC encode shared, aligned segments', async (t) => {
  const src = await source('gop2', 8, 2);
  const plan = planLadder(LADDER, 180);
  const bytes = await ladder(src, plan, grid, 'full');
  const tls = plan.map((r, i) => timeline(r.name, bytes[i]!, grid));
  for (const tl of tls) checkGrid(t, tl, grid);
  t.same(tls[0]!.segments.map((s) => s.parts.length), tls[1]!.segments.map((s) => s.parts.length), 'same part count per segment in both rungs');
  t.same(tls[0]!.segments.map((s) => s.duration.toFixed(3)), tls[1]!.segments.map((s) => s.duration.toFixed(3)), 'segments aligned');
  t.equal(tls[0]!.stats()!.codecs.split(',').length, 2, 'every rendition carries video and audio');
  const audio = await Promise.all(plan.map((r) => framemd5(join(dir, `full-${r.name}.mp4`), 'a')));
  t.same(audio[0], audio[1], 'the audio of every rendition is the same AAC encode, sample for sample');
});

t.test('video only (a WHIP publisher without a microphone): every rendition is written, video alone', async (t) => {
  const src = await source('gop2v', 6, 2);
  const plan = planLadder(LADDER, 180);
  const bytes = await ladder(src, plan, grid, 'video-only', false);
  t.equal(bytes.length, plan.length);
  for (const [i, b] of bytes.entries()) {
    const tl = timeline(plan[i]!.name, b, grid);
    t.ok(tl.segments.length >= 2, `${plan[i]!.name}: ${tl.segments.length} segments`);
    t.equal(tl.stats()!.codecs.split(',').length, 1, `${plan[i]!.name} carries video only`);
  }
});

t.test('passthrough: top rung bit-identical to the source, lower rung keyframed with it', async (t) => {
  const src = await source('pt2', 8, 2);
  const plan = planLadder(LADDER, 180, { passthrough: true });
  const bytes = await ladder(src, plan, grid, 'pt');
  const tls = plan.map((r, i) => timeline(r.name, bytes[i]!, grid));
  for (const tl of tls) checkGrid(t, tl, grid);
  t.same(tls[0]!.segments.map((s) => s.duration.toFixed(3)), tls[1]!.segments.map((s) => s.duration.toFixed(3)), 'segments aligned');
  const [srcHashes, topHashes] = await Promise.all([framemd5(src, 'v'), framemd5(join(dir, 'pt-180p.mp4'), 'v')]);
  t.ok(srcHashes.length >= 230, `source has ${srcHashes.length} video samples`);
  t.same(topHashes, srcHashes, 'every video sample of the top rendition is the source\'s, bit for bit');
});

/** One md5 per packet of the first stream of that type (stream copy: the samples' bytes, not a decode). */
async function framemd5(file: string, type: 'v' | 'a'): Promise<string[]> {
  const { stdout } = await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-map', `0:${type}:0`, '-c', 'copy', '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}
