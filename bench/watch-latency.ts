/**
 * What a shopper sees, from one real-time RTMP publish on loopback watched in Debian Chromium by two
 * players in the same run, side by side: stock hls.js (its defaults plus lowLatencyMode, as a shop's
 * own embed runs it: bench/stock-hls-player.ts) and the project's watch page. For each:
 *  - hls.js live latency (hls.latency: live edge estimate minus playhead) sampled every 250 ms,
 *    p50/p95, and "behind ingest" (now minus the EXT-X-PROGRAM-DATE-TIME of the frame on screen,
 *    which adds the transcoder's delay);
 *  - time to first frame from page open (navigation start to the first video frame callback),
 *    over several fresh browser contexts while the stream is live;
 *  - stalls, and the distinct warnings hls.js logged (which playlist rule it trips on, if any).
 * Run: node dist/bench/watch-latency.js [--seconds 60] [--height 360] [--preset veryfast] [--opens 5] [--hold-back-parts 3] [--segment-seconds 2] [--part-seconds 0.334]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { ShowcaseApp } from '../src/app.js';
import { watchRoutes, defaultWebAssetsDir } from '../src/http/watch-routes.js';
import { serveStockPlayer } from './stock-hls-player.js';
import { provideAll } from '../src/http/services.js';

/** One player's figures. */
export interface PlayerLatency {
  targetLatencyS: number | null;
  latencyP50S: number;
  latencyP95S: number;
  behindIngestP50S: number;
  behindIngestP95S: number;
  firstFrameP50Ms: number;
  firstFrameMaxMs: number;
  pageOpens: number;
  stalls: number;
  /** Stalls from the first frame of the sampled open on, the warm-up included (the watch page counts them). */
  stallsSinceFirstFrame: number;
  /** Media buffered ahead of the playhead while sampling, p50 (s), where the player reports it. */
  aheadP50S: number | null;
  /** hls.js BUFFER_STALLED_ERRORs from the first request on (each adds 1 s to its target), where the player reports them. */
  stallErrors: number | null;
  /** hls.js's target latency when the first frame showed, where the player reports it. */
  targetAtFirstFrameS: number | null;
  /** hls.js's latency at the first frame and its start-up events (ms since page start), where the player reports them. */
  latencyAtFirstFrameS: number | null;
  startup: string[];
  /** Time spent waiting (video 'waiting' to 'playing') after the first frame, where the player reports it. */
  waitedMs: number | null;
  /** The requests before the first frame: "name sent/first byte/last byte" in ms since page start. */
  requests: string[];
  /** How far the watch page's live start jumped to its target (seconds), where the player reports it. */
  joinedS: number | null;
  samples: number;
  seconds: number;
  playedRendition: string;
  hlsWarnings: string[];
}

export interface WatchLatencyResult {
  partTargetMs: number;
  /** EXT-X-SERVER-CONTROL PART-HOLD-BACK: where low-latency players start behind the live edge. */
  partHoldBackS: number;
  renditions: string[];
  /** Stock hls.js (defaults + lowLatencyMode); target p50 <= 1.5 s. */
  stock: PlayerLatency;
  /** The project's watch page; target p50 <= 1.0 s. */
  page: PlayerLatency;
  /** The part grid as the playlists list it at the end of the run (complete segments that still list parts). */
  grid: PartGridCheck[];
}

/** Parts of one rendition's complete segments, read from its media playlist. */
export interface PartGridCheck {
  rendition: string;
  /** Parts per complete segment (each is one request per segment per viewer at the live edge). */
  partsPerSegment: number[];
  /** Distinct part durations (ms) over those segments, with how often each occurs. */
  durationsMs: string[];
  /** Parts, other than a segment's last, more than 1.5 ms from PART-TARGET (announced rounded up to the ms). */
  offGrid: number;
  /** Parts longer than PART-TARGET (the spec's MUST) or, other than a segment's last, under half of it. */
  outOfBounds: number;
}

/** Reads the EXT-X-PART lines of each complete segment in one media playlist. */
export function checkPartGrid(rendition: string, media: string, partTargetS: number): PartGridCheck {
  const segments: number[][] = [];
  let parts: number[] = [];
  for (const line of media.split('\n')) {
    const part = /^#EXT-X-PART:DURATION=([\d.]+)/.exec(line);
    if (part) parts.push(Number(part[1]));
    else if (line.startsWith('#EXTINF')) {
      if (parts.length) segments.push(parts);
      parts = [];
    }
  }
  const counts = new Map<number, number>();
  let offGrid = 0;
  let outOfBounds = 0;
  for (const seg of segments) {
    seg.forEach((d, i) => {
      const ms = Math.round(d * 1000);
      counts.set(ms, (counts.get(ms) ?? 0) + 1);
      const last = i === seg.length - 1;
      if (!last && Math.abs(d - partTargetS) > 0.0015) offGrid++;
      if (d > partTargetS + 1e-9 || (!last && d < partTargetS / 2)) outOfBounds++;
    });
  }
  return {
    rendition,
    partsPerSegment: segments.map((s) => s.length),
    durationsMs: [...counts].sort((a, b) => b[1] - a[1]).map(([ms, n]) => `${ms}x${n}`),
    offGrid,
    outOfBounds,
  };
}

/** hls.js's ErrorDetails.BUFFER_STALLED_ERROR, as the watch page lists it in __showcase.errors. */
const ErrorDetailsStalled = 'bufferStalledError';

/** What the page exposes as window.__showcase (src/web/watch/watch.ts). */
interface Hook {
  view: string;
  latency: number | null;
  wallLatency: number | null;
  targetLatency: number | null;
  /** Media buffered ahead of the playhead (s). */
  buffer?: number;
  level: number;
  levels: Array<{ name: string }>;
  firstFrameMs: number | null;
  stalls: number;
  fatal: string | null;
  errors: string[];
  /** Only the watch page has this one. */
  joinedS?: number;
  /** Only the stock player has these. */
  stallErrors?: number;
  targetAtFirstFrame?: number | null;
  latencyAtFirstFrame?: number | null;
  startup?: string[];
  waitedMs?: number;
  requests?: string[];
}

/** The browser flags this workplace's Debian Chromium needs headless (no sandbox, no GPU, no network chatter). */
/** The command line's `--name value` options: `arg` as text, `num` as a number (undefined when absent). */
export function cliArgs(argv: string[] = process.argv): { arg(name: string): string | undefined; num(name: string): number | undefined } {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i > 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => (arg(name) === undefined ? undefined : Number(arg(name)));
  return { arg, num };
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required', '--disable-renderer-backgrounding', '--disable-background-timer-throttling'];

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

const round = (n: number, d = 3): number => Number(n.toFixed(d));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The built page (scripts/build-web.mjs), building it first when dist/web has none. */
export function ensureWebAssets(): string {
  const dir = defaultWebAssetsDir();
  if (!existsSync(join(dir, 'manifest.json'))) execFileSync(process.execPath, [join(dirname(dirname(dir)), 'scripts', 'build-web.mjs')], { stdio: 'inherit' });
  return dir;
}

/** Pre-encodes the source once so the publisher costs almost nothing (-c copy). */
function sourceFile(height: number, seconds: number): string {
  const file = join(tmpdir(), `showcase-bench-watch-${height}p-${seconds}s.flv`);
  if (!existsSync(file)) {
    const width = Math.round((height * 16) / 9 / 2) * 2;
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-b:v', `${Math.max(600, Math.round(height * 4))}k`, '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file]);
  }
  return file;
}

/** The page's URL base: the app itself once it serves /watch, else a side server beside it (CORS lets it pull /hls). */
async function watchBase(app: ShowcaseApp, assetsDir: string): Promise<{ base: string; side?: FastifyInstance }> {
  const base = `http://127.0.0.1:${app.httpPort}`;
  if (app.http.hasRoute({ method: 'GET', url: '/watch/:id' })) return { base };
  const side = Fastify({ loggerInstance: app.log.child({ component: 'watch-side' }) as unknown as FastifyBaseLogger });
  await provideAll(side, { config: app.config, store: app.store, registry: app.registry });
  await side.register(watchRoutes, { assetsDir, publicBaseUrl: base });
  await side.listen({ host: '127.0.0.1', port: 0 });
  return { base: `http://127.0.0.1:${(side.server.address() as { port: number }).port}`, side };
}

/** Opens the page in fresh contexts and reads the time to its first frame, one open at a time. */
export async function measureFirstFrames(browser: Browser, url: string, opens: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < opens; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    // Polled from here: page.waitForFunction would need eval, which the page's CSP forbids.
    let ms: number | null = null;
    for (let t = 0; t < 400 && ms === null; t++) {
      ms = await page.evaluate(() => (window as unknown as { __showcase?: Hook }).__showcase?.firstFrameMs ?? null);
      if (ms === null) await sleep(50);
    }
    if (ms === null) throw new Error('no first frame within 20 s');
    out.push(ms);
    await ctx.close();
  }
  return out;
}

/** Figures read from the page: time to first frame over fresh opens, then latency sampled for a while. */
export async function measureWatch(browser: Browser, url: string, opts: { seconds: number; opens: number }): Promise<PlayerLatency> {
  const { seconds, opens } = opts;
  const firstFrames = await measureFirstFrames(browser, url, opens);
  const page = await browser.newPage();
  const warnings = new Map<string, number>();
  page.on('console', (msg) => {
    const text = msg.text();
    if (!text.startsWith('[hls.js]')) return;
    // Numbers differ from one warning to the next: count by shape.
    const shape = text.replace(/\d+(\.\d+)?/g, '#').slice(0, 200);
    warnings.set(shape, (warnings.get(shape) ?? 0) + 1);
  });
  const read = (): Promise<Hook> => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __showcase: Hook }).__showcase)) as Hook);
  await page.goto(`${url}${url.includes('?') ? '&' : '?'}debug=1`);
  for (let i = 0; i < 200 && (await read()).view !== 'playing'; i++) await sleep(100);
  await sleep(3000);
  const latency: number[] = [];
  const behind: number[] = [];
  const ahead: number[] = [];
  let hook = await read();
  const stallsBefore = hook.stalls;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    hook = await read();
    if (hook.latency !== null) latency.push(hook.latency);
    if (hook.wallLatency !== null) behind.push(hook.wallLatency);
    if (typeof hook.buffer === 'number') ahead.push(hook.buffer);
    await sleep(250);
  }
  await page.close();
  if (hook.fatal) throw new Error(`page gave up: ${hook.fatal}`);
  if (!latency.length) throw new Error(`no latency samples; page state ${JSON.stringify(hook)}`);
  return {
    targetLatencyS: hook.targetLatency === null ? null : round(hook.targetLatency),
    latencyP50S: round(pct(latency, 50)),
    latencyP95S: round(pct(latency, 95)),
    behindIngestP50S: round(pct(behind, 50)),
    behindIngestP95S: round(pct(behind, 95)),
    firstFrameP50Ms: Math.round(pct(firstFrames, 50)),
    firstFrameMaxMs: Math.round(Math.max(...firstFrames)),
    pageOpens: firstFrames.length,
    stalls: hook.stalls - stallsBefore,
    stallsSinceFirstFrame: hook.stalls,
    aheadP50S: ahead.length ? round(pct(ahead, 50)) : null,
    // The page reports hls.js errors as type/details strings.
    stallErrors: hook.stallErrors ?? hook.errors.filter((e) => e.includes(ErrorDetailsStalled)).length,
    targetAtFirstFrameS: hook.targetAtFirstFrame == null ? null : round(hook.targetAtFirstFrame),
    latencyAtFirstFrameS: hook.latencyAtFirstFrame == null ? null : round(hook.latencyAtFirstFrame),
    startup: hook.startup ?? [],
    waitedMs: hook.waitedMs === undefined ? null : Math.round(hook.waitedMs),
    requests: hook.requests ?? [],
    joinedS: hook.joinedS === undefined ? null : round(hook.joinedS),
    samples: latency.length,
    seconds,
    playedRendition: hook.level >= 0 ? (hook.levels[hook.level]?.name ?? String(hook.level)) : '-',
    hlsWarnings: [...warnings].map(([w, n]) => `${n}x ${w}`),
  };
}

/** Runs the benchmark and returns its figures. */
export async function runWatchLatencyBench(opts: { seconds?: number; height?: number; preset?: string; opens?: number; quick?: boolean; holdBackParts?: number; segmentSeconds?: number; partSeconds?: number } = {}): Promise<WatchLatencyResult> {
  const seconds = opts.seconds ?? (opts.quick ? 10 : 60);
  const height = opts.height ?? 360;
  const opens = opts.opens ?? (opts.quick ? 3 : 5);
  if (!existsSync('/usr/bin/chromium')) throw new Error('Debian chromium missing (/usr/bin/chromium): apt-get install -y chromium');
  const assetsDir = ensureWebAssets();
  // The publish outlives every phase: warm-up, the page opens, the sampled minute, a margin.
  const publishSeconds = seconds + opens * 4 + 25;
  const src = sourceFile(height, publishSeconds);
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-'));
  const app = await ShowcaseApp.start({
    env: {},
    overrides: { logLevel: 'warn', dataDir, adminToken: 'bench', http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' }, transcode: { x264Preset: (opts.preset ?? 'veryfast') as 'veryfast' }, hls: { ...(opts.holdBackParts ? { partHoldBackParts: opts.holdBackParts } : {}), ...(opts.segmentSeconds ? { segmentSeconds: opts.segmentSeconds } : {}), ...(opts.partSeconds ? { partSeconds: opts.partSeconds } : {}) } },
    logDestination: process.stderr,
  });
  let browser: Browser | undefined;
  let side: FastifyInstance | undefined;
  let stock: Awaited<ReturnType<typeof serveStockPlayer>> | undefined;
  const pub = { proc: undefined as ReturnType<typeof spawn> | undefined };
  try {
    const api = `http://127.0.0.1:${app.httpPort}`;
    const res = await fetch(`${api}/v1/streams`, { method: 'POST', headers: { authorization: 'Bearer bench', 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Watch latency bench' }) });
    const s = (await res.json()) as { id: string; streamKey: string };
    const w = await watchBase(app, assetsDir);
    side = w.side;
    pub.proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', src, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${app.rtmpPort}/live/${s.streamKey}`], { stdio: 'ignore' });

    // Wait until the ladder has a few complete segments: a shopper arriving mid-show.
    let partTargetMs = NaN;
    let partHoldBackS = NaN;
    let renditions: string[] = [];
    for (let i = 0; i < 200; i++) {
      const m = await fetch(`${api}/hls/${s.id}/master.m3u8`).catch(() => undefined);
      if (m?.status === 200) {
        renditions = (await m.text()).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('/')[0]!);
        const media = await (await fetch(`${api}/hls/${s.id}/${renditions[0]}/index.m3u8`)).text();
        partTargetMs = Math.round(Number(/PART-TARGET=([\d.]+)/.exec(media)?.[1]) * 1000);
        partHoldBackS = Number(/PART-HOLD-BACK=([\d.]+)/.exec(media)?.[1]);
        if ((media.match(/#EXTINF/g) ?? []).length >= 2) break;
      }
      await sleep(100);
    }
    if (!renditions.length) throw new Error('stream never became playable');

    // Playwright gives every launch a fresh temporary profile (--user-data-dir) and removes it on close.
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    stock = await serveStockPlayer();
    // Both at once, so they see the same stream, origin and machine load.
    const [stockFigures, pageFigures] = await Promise.all([
      measureWatch(browser, stock.url(`${api}/hls/${s.id}/master.m3u8`), { seconds, opens }),
      measureWatch(browser, `${w.base}/watch/${s.id}`, { seconds, opens }),
    ]);
    const grid: PartGridCheck[] = [];
    for (const r of renditions) grid.push(checkPartGrid(r, await (await fetch(`${api}/hls/${s.id}/${r}/index.m3u8`)).text(), partTargetMs / 1000));
    return { partTargetMs, partHoldBackS, renditions, stock: stockFigures, page: pageFigures, grid };
  } finally {
    await browser?.close().catch(() => {});
    pub.proc?.kill('SIGKILL');
    await side?.close().catch(() => {});
    await stock?.close().catch(() => {});
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { arg, num } = cliArgs();
  const r = await runWatchLatencyBench({ seconds: num('seconds'), height: num('height'), preset: arg('preset'), opens: num('opens'), holdBackParts: num('hold-back-parts'), segmentSeconds: num('segment-seconds'), partSeconds: num('part-seconds') });
  const row = (figure: string, f: (p: PlayerLatency) => string, target: [string, string]) =>
    ({ figure, 'stock hls.js': f(r.stock), 'watch page': f(r.page), target: `${target[0]} / ${target[1]}` });
  console.log(`part target ${r.partTargetMs} ms, PART-HOLD-BACK ${r.partHoldBackS} s, ladder ${r.renditions.join(',')}`);
  console.table([
    row('live latency p50 / p95 (s)', (p) => `${p.latencyP50S} / ${p.latencyP95S}`, ['p50 <= 1.5', 'p50 <= 1.0']),
    row('hls.js target latency (s)', (p) => String(p.targetLatencyS), ['', '']),
    row('behind ingest p50 / p95 (s)', (p) => `${p.behindIngestP50S} / ${p.behindIngestP95S}`, ['', '']),
    row('first frame p50 / max (ms)', (p) => `${p.firstFrameP50Ms} / ${p.firstFrameMaxMs} (${p.pageOpens} opens)`, ['<= 1000', '<= 1000']),
    row('stalls while sampling / since first frame', (p) => `${p.stalls} / ${p.stallsSinceFirstFrame}`, ['0', '0']),
    row('buffered ahead p50 (s)', (p) => String(p.aheadP50S ?? '-'), ['', '']),
    row('hls.js stall errors since load', (p) => String(p.stallErrors ?? '-'), ['0', '0']),
    row('hls.js target at first frame (s)', (p) => String(p.targetAtFirstFrameS ?? '-'), ['', '']),
    row('hls.js latency at first frame (s)', (p) => String(p.latencyAtFirstFrameS ?? '-'), ['', '']),
    row('live start jumped (s)', (p) => String(p.joinedS ?? '-'), ['', '']),
    row('waited after first frame (ms)', (p) => String(p.waitedMs ?? '-'), ['', '']),
    row('samples / played', (p) => `${p.samples} over ${p.seconds} s / ${p.playedRendition}`, ['', '']),
  ]);
  for (const g of r.grid) console.log(`parts ${g.rendition}: per segment ${g.partsPerSegment.join(',')}; durations (ms x count) ${g.durationsMs.join(' ')}; off grid ${g.offGrid}; out of bounds ${g.outOfBounds}`);
  for (const [name, p] of [['stock hls.js', r.stock], ['watch page', r.page]] as const) {
    if (p.startup.length) console.log(`${name} start-up (ms since page start): ${p.startup.join(' ')}`);
    if (p.requests.length) console.log(`${name} requests before the first frame (sent/first byte/last byte, ms): ${p.requests.join(', ')}`);
    if (p.hlsWarnings.length) console.log(`${name} hls.js warnings:\n  ${p.hlsWarnings.join('\n  ')}`);
  }
  process.exit(0);
}
