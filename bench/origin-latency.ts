/**
 * Origin latency and CPU split, from one real-time publish on loopback:
 *  - origin latency = wall time since publish start - media time of the newest part available,
 *    sampled every 5 ms (p50/p95; computed from the parts' arrival times, so the measuring costs
 *    the server's process nothing), and the same at the instant each part appears;
 *  - CPU seconds of the Node process vs the stream's ffmpeg per second of stream.
 * Run: node dist/bench/origin-latency.js [--seconds 30] [--height 720] [--preset veryfast] [--no-recording]
 *   [--part-seconds 0.2] (hls.partSeconds) [--no-passthrough] (the full ladder, transcode.passthrough off)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShowcaseApp } from '../src/app.js';
import { processCpuSeconds } from '../src/core/proc-stat.js';
import type { RenditionTimeline } from '../src/playback/hls/rendition-timeline.js';

export interface OriginLatencyResult {
  partTargetMs: number;
  sampledP50Ms: number;
  sampledP95Ms: number;
  atArrivalP50Ms: number;
  atArrivalP95Ms: number;
  nodeCpuPerStreamSecond: number;
  ffmpegCpuPerStreamSecond: number;
  nodeToFfmpegCpuRatio: number;
  /** The kernel's part of the Node figure (socket and file I/O system calls). */
  nodeSystemCpuPerStreamSecond: number;
  /** Whether the stream was recorded meanwhile (the recorder's disk writes are Node's too). */
  recording: boolean;
  renditions: string[];
  seconds: number;
  sourceHeight: number;
}

export function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

/** Origin latency over one window: sampled every 5 ms, and at each part's arrival (ms). */
export interface OriginLatencyWindow {
  sampledP50Ms: number;
  sampledP95Ms: number;
  atArrivalP50Ms: number;
  atArrivalP95Ms: number;
}

/**
 * Measures origin latency on a rendition for windowMs (or until `stop` resolves): wall time since
 * publishStartMs minus the media end of the newest part available. Every part is taken as it
 * appears (an event: no polling, so the measurement costs the measured process nothing); the
 * sampled latency is then computed exactly, every 5 ms of the window: at instant tau the newest
 * part available is the last one with availableAt <= tau.
 */
export async function measureOriginLatency(top: RenditionTimeline, publishStartMs: number, windowMs: number, stop?: Promise<void>): Promise<OriginLatencyWindow> {
  const w0 = Date.now();
  const parts = collectParts(top);
  const end = w0 + windowMs;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((r) => (timer = setTimeout(r, end - Date.now()))), ...(stop ? [stop] : [])]);
  clearTimeout(timer);
  parts.stop();
  const { sampled, arrival } = latencySamples(parts.parts, publishStartMs, w0, Math.min(Date.now(), end));
  return {
    sampledP50Ms: Math.round(pct(sampled, 50)),
    sampledP95Ms: Math.round(pct(sampled, 95)),
    atArrivalP50Ms: Math.round(pct(arrival, 50)),
    atArrivalP95Ms: Math.round(pct(arrival, 95)),
  };
}

/** Pre-encodes the source once so the publisher costs almost nothing (-c copy). */
export function sourceFile(height: number, seconds: number): string {
  const file = join(tmpdir(), `showcase-bench-src-noise-gop2s-${height}p-${seconds}s.flv`);
  if (!existsSync(file)) {
    const width = Math.round((height * 16) / 9 / 2) * 2;
    // testsrc2 plus temporal noise: encoders work on it as on a camera's picture (a clean synthetic
    // pattern costs x264 almost nothing and would flatter the ffmpeg side of the CPU ratio). Keyframes
    // every 2 s exactly (no scene cuts): a regular GOP runs passthrough, as OBS at the README's settings.
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30,noise=alls=10:allf=t+u`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-b:v', '3000k', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file]);
  }
  return file;
}

/** Waits (15 s at most) for a published stream's first part: its transcoder, top rendition and publish start (wall ms). */
export async function liveOrigin(app: ShowcaseApp, streamId: string): Promise<{ tc: NonNullable<ReturnType<ShowcaseApp['transcoders']['get']>>; top: RenditionTimeline; publishStart: number }> {
  let stream;
  for (let i = 0; i < 300 && !(stream = app.origin.get(streamId))?.ready(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!stream?.ready()) throw new Error('stream never became ready');
  return { tc: app.transcoders.get(streamId)!, top: [...stream.timelines.values()][0]!, publishStart: app.registry.get(streamId)!.clock!.wallAtFirstMs };
}

/** What the latency figures are computed from: each part's arrival (wall ms) and media end (s since the publish start). */
export interface PartArrival {
  availableAt: number;
  mediaEnd: number;
}

/** A rendition timeline's part events, as they come, from the newest part there is now; stop() stops listening. */
export function collectParts(top: { segments: ReadonlyArray<{ parts: ReadonlyArray<PartArrival> }>; on(e: 'part', f: (p: PartArrival) => void): unknown; off(e: 'part', f: (p: PartArrival) => void): unknown }): { parts: PartArrival[]; stop(): void } {
  const parts: PartArrival[] = [];
  const onPart = (part: PartArrival) => parts.push({ availableAt: part.availableAt, mediaEnd: part.mediaEnd });
  const lastSeg = top.segments[top.segments.length - 1];
  const lastPart = lastSeg?.parts[lastSeg.parts.length - 1];
  if (lastPart) parts.push({ availableAt: lastPart.availableAt, mediaEnd: lastPart.mediaEnd });
  top.on('part', onPart);
  return { parts, stop: () => void top.off('part', onPart) };
}

/**
 * Origin latency from part arrivals: at each part's arrival, and sampled every 5 ms of [w0, stop)
 * (at instant tau the newest part available is the last one with availableAt <= tau), both as
 * wall time since the publish start minus the media time of the newest part.
 */
export function latencySamples(parts: readonly PartArrival[], publishStart: number, w0: number, stop: number): { sampled: number[]; arrival: number[] } {
  const sampled: number[] = [];
  const arrival = parts.slice(1).map((p) => p.availableAt - publishStart - p.mediaEnd * 1000);
  for (let tau = w0, i = 0; tau < stop; tau += 5) {
    while (i + 1 < parts.length && parts[i + 1]!.availableAt <= tau) i++;
    const p = parts[i];
    if (p && p.availableAt <= tau) sampled.push(tau - publishStart - p.mediaEnd * 1000);
  }
  return { sampled, arrival };
}

/** Runs the benchmark and returns its figures. */
export async function runOriginLatencyBench(opts: { seconds?: number; height?: number; preset?: string; recording?: boolean; partSeconds?: number; passthrough?: boolean } = {}): Promise<OriginLatencyResult> {
  const recording = opts.recording ?? true;
  const seconds = opts.seconds ?? 30;
  const height = opts.height ?? 720;
  const src = sourceFile(height, seconds + 5);
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-'));
  const app = await ShowcaseApp.start({
    env: {},
    overrides: { logLevel: 'warn', dataDir, adminToken: 'bench', http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' }, transcode: { x264Preset: (opts.preset ?? 'veryfast') as 'veryfast', ...(opts.passthrough === false ? { passthrough: false } : {}) }, ...(opts.partSeconds ? { hls: { partSeconds: opts.partSeconds } } : {}), recording: { enabled: recording, minFreeBytes: 0 } },
    logDestination: process.stderr,
  });
  try {
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/streams`, { method: 'POST', headers: { authorization: 'Bearer bench', 'content-type': 'application/json' }, body: JSON.stringify({ title: 'bench' }) });
    const s = (await res.json()) as { id: string; streamKey: string };
    const pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', src, '-t', String(seconds), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${app.rtmpPort}/live/${s.streamKey}`], { stdio: 'ignore' });
    const pubDone = new Promise((r) => pub.on('exit', r));
    // Wait for the first part, then measure over the stream's remaining life (minus a warm-up).
    const { tc, top, publishStart } = await liveOrigin(app, s.id);
    await new Promise((r) => setTimeout(r, 3000));
    const cpu0 = process.cpuUsage();
    const ff0 = processCpuSeconds(tc.pid!);
    const w0 = Date.now();
    const gone = new Promise<void>((r) => tc.once('state', () => r()));
    const lat = await measureOriginLatency(top, publishStart, (seconds - 8) * 1000, gone);
    const wall = (Date.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const nodeCpu = (cpu.user + cpu.system) / 1e6 / wall;
    const ffCpu = (processCpuSeconds(tc.pid!) - ff0) / wall;
    pub.kill('SIGINT');
    await pubDone;
    return {
      partTargetMs: app.config.hls.partSeconds * 1000,
      ...lat,
      nodeCpuPerStreamSecond: Number(nodeCpu.toFixed(4)),
      ffmpegCpuPerStreamSecond: Number(ffCpu.toFixed(4)),
      nodeToFfmpegCpuRatio: Number((nodeCpu / ffCpu).toFixed(4)),
      nodeSystemCpuPerStreamSecond: Number((cpu.system / 1e6 / wall).toFixed(4)),
      recording,
      renditions: tc.renditions?.map((r) => r.name) ?? [],
      seconds: wall,
      sourceHeight: height,
    };
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runOriginLatencyBench({ seconds: Number(arg('seconds') ?? 30), height: Number(arg('height') ?? 720), preset: arg('preset'), recording: !process.argv.includes('--no-recording'), passthrough: !process.argv.includes('--no-passthrough'), ...(arg('part-seconds') ? { partSeconds: Number(arg('part-seconds')) } : {}) });
  console.table({
    'part target (ms)': r.partTargetMs,
    'origin latency sampled p50 / p95 (ms)': `${r.sampledP50Ms} / ${r.sampledP95Ms}`,
    'origin latency at part arrival p50 / p95 (ms)': `${r.atArrivalP50Ms} / ${r.atArrivalP95Ms}`,
    'target: latency <= part target + 300 ms': r.sampledP50Ms <= r.partTargetMs + 300 ? 'met (p50)' : 'missed (p50)',
    'Node CPU s per stream s (of which kernel)': `${r.nodeCpuPerStreamSecond} (${r.nodeSystemCpuPerStreamSecond})`,
    'recording meanwhile': r.recording,
    'ffmpeg CPU s per stream s': r.ffmpegCpuPerStreamSecond,
    'Node / ffmpeg CPU': `${(r.nodeToFfmpegCpuRatio * 100).toFixed(2)} % (target <= 5 %)`,
    renditions: r.renditions.join(','),
    'source height': r.sourceHeight,
  });
}
