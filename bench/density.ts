/**
 * Density: how many concurrent 720p30 sources the server holds at >= 0.98x real time, with source
 * passthrough and with the full ladder, beside ffmpeg alone running the same ladder command line.
 * Publishers cost nothing (`ffmpeg -re -stream_loop -1 -i src.flv -c copy`, the 720p30 ~3 Mbit/s
 * noisy file of bench/rtmp-ingest, 2 s GOP so passthrough applies). For N = 1, 2, ... each mode runs
 * N streams and reads, per stream, how fast its media advances against the wall clock over the
 * window: the server from its slowest rendition's timeline in the origin (the media end of its newest
 * part), ffmpeg alone from its -progress out_time. A mode holds N when
 * its slowest stream runs at >= 0.98x and the server dropped nothing for a slow reader.
 * Run: npm run build && node dist/bench/density.js [--max-streams 8] [--seconds 30] [--modes passthrough,ladder,ffmpeg] [--streams 3,5]
 * (--streams: only those counts, each run whether or not a smaller one held: a short run on a busy machine)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShowcaseApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { ladderFilterGraph, ladderOutput, partGrid, planLadder } from '../src/transcode/ladder.js';
import { makeBenchSource } from './rtmp-ingest.js';

export type DensityMode = 'passthrough' | 'ladder' | 'ffmpeg';

/** One mode at one stream count. */
export interface DensityStep {
  streams: number;
  /** The slowest stream's media seconds per wall second over the window. */
  minSpeed: number;
  meanSpeed: number;
  /** Packets the server dropped for a reader that could not keep up (0 for ffmpeg alone). */
  readerDrops: number;
  /** Streams of a passthrough step that fell back to the full ladder (their source's keyframes); such a step does not hold. */
  fellBack: number;
  held: boolean;
}

export interface DensityResult {
  seconds: number;
  threshold: number;
  /** Streams held at >= threshold per mode (the highest N that passed; 0 if even one did not). */
  held: Partial<Record<DensityMode, number>>;
  steps: Partial<Record<DensityMode, DensityStep[]>>;
}

const THRESHOLD = 0.98;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function publisher(source: string, url: string): ChildProcess {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', source, '-c', 'copy', '-f', 'flv', url], { stdio: 'ignore' });
}

async function killAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGKILL');
  })));
}

/** N publishers into one server; each stream's media advance over the window from its slowest rendition's playlist. */
async function measureServer(source: string, streams: number, seconds: number, passthrough: boolean): Promise<DensityStep> {
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-density-'));
  const app = await ShowcaseApp.start({
    env: {},
    overrides: { logLevel: 'warn', dataDir, adminToken: 'bench', http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' }, transcode: { passthrough }, recording: { enabled: false } },
    logDestination: process.stderr,
  });
  const pubs: ChildProcess[] = [];
  try {
    const api = `http://127.0.0.1:${app.httpPort}`;
    const auth = { authorization: 'Bearer bench', 'content-type': 'application/json' };
    const ids: string[] = [];
    for (let i = 0; i < streams; i++) {
      const res = await fetch(`${api}/v1/streams`, { method: 'POST', headers: auth, body: JSON.stringify({ title: `density ${i}` }) });
      const s = (await res.json()) as { id: string; streamKey: string };
      ids.push(s.id);
      pubs.push(publisher(source, `rtmp://127.0.0.1:${app.rtmpPort}/live/${s.streamKey}`));
    }
    // The slowest rendition's media end, from the origin's own timelines (each part's media end, in
    // seconds of the stream's media clock): with passthrough the copied top rung keeps real time
    // (ffmpeg's muxer lets it run ahead of slow encodes by up to its interleave delay) while the
    // encoded rungs may not, so the top rendition alone would read a saturated box as keeping up.
    // (Not the playlists' EXT-X-PROGRAM-DATE-TIME: that follows the ingest wall clock, which a
    // looping publisher's bursts move against the media.)
    type Newest = { media: number; at: number };
    const newest = new Map<string, Map<unknown, Newest>>();
    const watched = new Set<unknown>();
    const top = (id: string): Map<unknown, Newest> | undefined => {
      const origin = app.origin.get(id);
      if (!origin?.ready()) return undefined;
      let ends = newest.get(id);
      if (!ends) newest.set(id, (ends = new Map()));
      for (const tl of origin.timelines.values()) {
        if (watched.has(tl)) continue;
        watched.add(tl);
        const seen = ends;
        tl.on('part', (p: { mediaEnd: number; availableAt: number }) => void seen.set(tl, { media: p.mediaEnd * 1000, at: p.availableAt }));
      }
      return ends.size === origin.timelines.size && ends.size > 0 ? new Map(ends) : undefined;
    };
    // Warm-up: every stream has media, then a few seconds more.
    for (let i = 0; i < 300; i++) {
      const ends = ids.map(top);
      if (ends.every((e) => e !== undefined)) break;
      if (i === 299) throw new Error('not every stream became playable within 30 s');
      await sleep(100);
    }
    await sleep(5000);
    const drops = async (): Promise<number> => {
      let n = 0;
      for (const id of ids) {
        const v = (await (await fetch(`${api}/v1/streams/${id}`, { headers: auth })).json()) as { live?: { readerDrops?: Record<string, number> } };
        n += Object.values(v.live?.readerDrops ?? {}).reduce((a, b) => a + b, 0);
      }
      return n;
    };
    const drops0 = await drops();
    const e0 = ids.map(top);
    await sleep(seconds * 1000);
    const e1 = ids.map(top);
    // Per rendition, media time over wall time between its newest part at the start and at the end
    // (both at part arrivals, so no part-sized rounding); a stream runs at its slowest rendition's pace.
    const speeds = ids.map((_, i) => Math.min(...[...e1[i]!].map(([tl, b]) => {
      const a = e0[i]!.get(tl);
      return a && b.at > a.at ? (b.media - a.media) / (b.at - a.at) : 0;
    })));
    const readerDrops = (await drops()) - drops0;
    const fellBack = passthrough ? ids.filter((id) => app.transcoders.get(id)?.passthroughRefusal !== undefined).length : 0;
    return summarize(streams, speeds, readerDrops, fellBack);
  } finally {
    await killAll(pubs);
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** N ffmpeg processes running the server's full-ladder command line on the file in real time, output discarded. */
async function measureFfmpeg(source: string, streams: number, seconds: number): Promise<DensityStep> {
  const cfg = loadConfig({ env: {} });
  const plan = planLadder(cfg.transcode.ladder, 720, { passthrough: false });
  const grid = partGrid(cfg.hls, 30);
  const opts = { renditions: plan, outputs: plan.map(() => '/dev/null'), grid, audioBitrateKbps: cfg.transcode.audioBitrateKbps, x264Preset: cfg.transcode.x264Preset, sourceFrameRate: 30, hasAudio: true };
  const out = ladderOutput(opts);
  const filter = ladderFilterGraph(opts);
  const procs: ChildProcess[] = [];
  const outTime: number[] = Array.from({ length: streams }, () => 0);
  try {
    for (let i = 0; i < streams; i++) {
      const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-progress', 'pipe:1', '-re', '-stream_loop', '-1', '-i', source,
        ...(filter ? ['-filter_complex', filter] : []), ...out.options, out.url], { stdio: ['ignore', 'pipe', 'ignore'] });
      let rest = '';
      p.stdout!.on('data', (d: Buffer) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l.startsWith('out_time_us=')) outTime[i] = Number(l.slice(12)) / 1000 || outTime[i]!;
      });
      procs.push(p);
    }
    await sleep(8000);
    const t0 = Date.now();
    const o0 = [...outTime];
    await sleep(seconds * 1000);
    const wall = Date.now() - t0;
    if (procs.some((p) => p.exitCode !== null)) throw new Error('an ffmpeg ladder exited early');
    return summarize(streams, outTime.map((o, i) => (o - o0[i]!) / wall), 0);
  } finally {
    await killAll(procs);
  }
}

function summarize(streams: number, speeds: number[], readerDrops: number, fellBack = 0): DensityStep {
  const minSpeed = Math.min(...speeds);
  const meanSpeed = speeds.reduce((a, b) => a + b, 0) / speeds.length;
  return { streams, minSpeed: Number(minSpeed.toFixed(3)), meanSpeed: Number(meanSpeed.toFixed(3)), readerDrops, fellBack, held: minSpeed >= THRESHOLD && readerDrops === 0 && fellBack === 0 };
}

/** Steps N up per mode until a step fails (or maxStreams); returns every step and the highest N held. */
export async function runDensityBench(opts: { maxStreams?: number; seconds?: number; modes?: DensityMode[]; quick?: boolean; streams?: number[] } = {}): Promise<DensityResult> {
  const maxStreams = opts.maxStreams ?? (opts.quick ? 2 : 10);
  const seconds = opts.seconds ?? (opts.quick ? 8 : 30);
  const modes = opts.modes ?? ['passthrough', 'ladder', 'ffmpeg'];
  const source = await makeBenchSource();
  const result: DensityResult = { seconds, threshold: THRESHOLD, held: {}, steps: {} };
  for (const mode of modes) {
    const steps: DensityStep[] = [];
    let held = 0;
    const counts = opts.streams ?? Array.from({ length: maxStreams }, (_, i) => i + 1);
    for (const n of counts) {
      const step = mode === 'ffmpeg' ? await measureFfmpeg(source, n, seconds) : await measureServer(source, n, seconds, mode === 'passthrough');
      steps.push(step);
      process.stderr.write(`density ${mode} x${n}: min ${step.minSpeed}x, mean ${step.meanSpeed}x, drops ${step.readerDrops}${step.fellBack ? `, ${step.fellBack} fell back to the full ladder` : ''}\n`);
      if (step.held) held = Math.max(held, n);
      else if (!opts.streams) break;
    }
    result.held[mode] = held;
    result.steps[mode] = steps;
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => (arg(name) === undefined ? undefined : Number(arg(name)));
  const r = await runDensityBench({ maxStreams: num('max-streams'), seconds: num('seconds'), modes: arg('modes')?.split(',') as DensityMode[] | undefined, streams: arg('streams')?.split(',').map(Number) });
  const modes = Object.keys(r.steps) as DensityMode[];
  const most = Math.max(...modes.map((m) => r.steps[m]!.length));
  // Side by side: one row per stream count, the slowest stream's speed in each mode.
  console.table(Array.from({ length: most }, (_, i) => Object.fromEntries([['streams', r.steps[modes.find((m) => r.steps[m]![i])!]![i]!.streams], ...modes.map((m) => {
    const s = r.steps[m]![i];
    return [m, s ? `${s.minSpeed}x${s.readerDrops ? ` (${s.readerDrops} drops)` : ''}${s.held ? '' : ' FAIL'}` : '-'];
  })])));
  console.log(`held at >= ${r.threshold}x over ${r.seconds} s: ${modes.map((m) => `${m} ${r.held[m]}`).join(', ')} (target: passthrough >= 5 on 2 cores)`);
  process.exit(0);
}
