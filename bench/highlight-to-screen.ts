/**
 * Highlight to screen (issue 13): a real ffmpeg RTMP publish (testsrc2 320x180, 2 s GOP) watched
 * by the real watch page in Debian's Chromium; N highlights posted through
 * POST /v1/streams/:id/highlights a few seconds apart. Per highlight, in one run, side by side:
 *  - timeline design (what the page does): the POST to the pop-up appearing on the page (a
 *    MutationObserver on #popup), which should equal the player's live latency (now minus
 *    hls.playingDate) within 250 ms: the highlight rides with the video;
 *  - pushed-event design: the POST to the `highlight` event of the page's event feed (the server-sent
 *    /v1/streams/:id/events) arriving in the page, which is when a page showing pushed highlights
 *    would show it: about one live latency before the creator's frame reaches the shopper.
 * Page times are performance.timeOrigin + performance.now() in the page, converted to this process's
 * Date.now() (the clock the in-process server stamps program dates with) by an offset measured to
 * within a round trip; the POST time is this process's clock just before the request. Run: npm run build && node dist/bench/highlight-to-screen.js [--highlights 10] [--interval 3] [--preset veryfast]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ShowcaseApp } from '../src/app.js';
import { CHROMIUM_ARGS, cliArgs, ensureWebAssets } from './watch-latency.js';

/** One highlight's figures (ms). */
export interface HighlightSample {
  /** POST to the pop-up showing its product. */
  popupMs: number;
  /** POST to the pushed `highlight` event arriving in the page. */
  pushedMs: number;
  /** now minus hls.playingDate when the pop-up appeared (the player's live latency then). */
  latencyAtPopupMs: number;
  /** START-DATE minus the POST time: where the ingest edge's program date stood. */
  startDateMinusPostMs: number;
  /** The playhead's program date when the pop-up appeared minus START-DATE (the page checks every 40 ms). */
  programGapMs: number;
}

/** Figures of one run. */
export interface HighlightToScreenResult {
  highlights: number;
  /** Highlights whose pop-up or pushed event did not reach the page within 15 s (left out of the figures). */
  missed: number;
  intervalS: number;
  renditions: string[];
  /** Timeline design: POST to pop-up. */
  popupP50Ms: number;
  popupP95Ms: number;
  /** The player's live latency (now minus hls.playingDate), sampled every 250 ms during the highlights. */
  liveLatencyP50Ms: number;
  liveLatencyP95Ms: number;
  liveLatencySamples: number;
  /** Per highlight: POST to pop-up minus the live latency when it appeared. */
  popupMinusLatencyP50Ms: number;
  popupMinusLatencyMaxAbsMs: number;
  /** The check: |popup p50 - sampled live latency p50| <= 250 ms. */
  popupP50MinusLatencyP50Ms: number;
  withinTarget: boolean;
  /** Pushed-event design: POST to the event in the page. */
  pushedP50Ms: number;
  pushedP95Ms: number;
  /** Per highlight: how much earlier a pushed design shows the product than the frame it belongs to. */
  pushedEarlyP50Ms: number;
  pushedEarlyP95Ms: number;
  startDateMinusPostP50Ms: number;
  programGapP50Ms: number;
  programGapMaxMs: number;
  /** The page's clock minus this process's, as measured (already taken out of the figures above). */
  pageClockOffsetMs: number;
  /** Load average (1 min) when the highlights began, and the cores: the machine is shared. */
  loadAvg: number;
  samples: HighlightSample[];
}

/** What the in-page recorder holds (installed by instrument()). */
interface BenchRecord {
  popups: Array<{ productId: string; at: number; programMs: number | null }>;
  events: Array<{ id: string; productId: string; ended: boolean; at: number }>;
  latency: number[];
  feedOpen: boolean;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** This process's clock: the one the server stamps program dates with (the app runs in this process). */
const nowMs = (): number => Date.now();

/** Pre-encodes the source once (testsrc2 320x180 30 fps, 2 s GOP, a tone) so publishing costs almost nothing (-c copy). */
function sourceFile(seconds: number): string {
  const file = join(tmpdir(), `showcase-bench-highlight-180p-${seconds}s.flv`);
  if (!existsSync(file)) {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-b:v', '400k', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', `${file}.tmp`]);
    execFileSync('mv', [`${file}.tmp`, file]);
  }
  return file;
}

/**
 * Installs the page-side recorder: a MutationObserver on the pop-up (its product and the playhead's
 * program date when it changed, from the page's own hook), the page's event feed opened once more
 * for `highlight` events, and the hook's live latency sampled every 250 ms.
 */
function instrument(page: Page, eventsUrl: string): Promise<void> {
  return page.evaluate((eventsUrl) => {
    const now = (): number => performance.timeOrigin + performance.now();
    const rec: BenchRecord = { popups: [], events: [], latency: [], feedOpen: false };
    (window as unknown as { __bench: BenchRecord }).__bench = rec;
    const hook = (window as unknown as { __showcase: { wallLatency: number | null; highlight: { productId: string; shownAtProgramMs: number } | null } }).__showcase;
    const el = document.getElementById('popup')!;
    let shown: string | undefined;
    // The observer runs right after the page's 40 ms check changed the pop-up (same task), so the
    // hook already holds the playhead's program date of that check.
    new MutationObserver(() => {
      const pid = el.hidden ? undefined : el.dataset.productId;
      if (pid === shown) return;
      shown = pid;
      if (pid && rec.popups.length < 1000) rec.popups.push({ productId: pid, at: now(), programMs: hook.highlight?.productId === pid ? hook.highlight.shownAtProgramMs : null });
    }).observe(el, { attributes: true, childList: true, subtree: true });
    const es = new EventSource(eventsUrl);
    es.addEventListener('open', () => { rec.feedOpen = true; });
    es.addEventListener('highlight', (e) => {
      const at = now();
      const d = JSON.parse((e as MessageEvent<string>).data) as { highlight: { id: string; productId: string; endDate: string | null } };
      if (rec.events.length < 1000) rec.events.push({ id: d.highlight.id, productId: d.highlight.productId, ended: d.highlight.endDate !== null, at });
    });
    setInterval(() => {
      if (hook.wallLatency !== null && rec.latency.length < 10_000) rec.latency.push(hook.wallLatency * 1000);
    }, 250);
  }, eventsUrl);
}

/** The page's clock minus this process's, from the probe with the shortest round trip. */
async function clockOffset(page: Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 9; i++) {
    const t0 = nowMs();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = nowMs();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: p - (t0 + t1) / 2 };
  }
  return best.offset;
}

/** Polls the page (its CSP forbids the eval page.waitForFunction needs) until pred holds, bounded. */
async function until<T>(read: () => Promise<T>, pred: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs the benchmark and returns its figures. */
export async function runHighlightToScreenBench(opts: { highlights?: number; intervalS?: number; preset?: string; quick?: boolean } = {}): Promise<HighlightToScreenResult> {
  const n = opts.highlights ?? (opts.quick ? 4 : 10);
  const intervalS = opts.intervalS ?? 3;
  if (!existsSync('/usr/bin/chromium')) throw new Error('Debian chromium missing (/usr/bin/chromium): apt-get install -y chromium');
  ensureWebAssets();
  // Start-up (ladder, page playing, latency settling), the highlights, a margin.
  const src = sourceFile(40 + Math.ceil(n * intervalS) + 20);
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-'));
  const app = await ShowcaseApp.start({
    env: {},
    overrides: { logLevel: 'warn', dataDir, adminToken: 'bench', http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' }, transcode: { x264Preset: (opts.preset ?? 'veryfast') as 'veryfast' } },
    logDestination: process.stderr,
  });
  let browser: Browser | undefined;
  let pub: ReturnType<typeof spawn> | undefined;
  try {
    const api = `http://127.0.0.1:${app.httpPort}`;
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${api}${path}`, { method, headers: { authorization: 'Bearer bench', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const s = (await call('POST', '/v1/streams', { title: 'Highlight to screen bench' })).json as { id: string; streamKey: string };
    // One product per highlight (up to the carousel's cap), so the pop-up's product names the highlight.
    const products: string[] = [];
    for (let i = 0; i < Math.min(n, 50); i++) {
      const r = await call('POST', `/v1/streams/${s.id}/products`, { title: `Product ${i + 1}`, url: `https://shop.example/p/${i + 1}`, price: { amount: '19.99', currency: 'USD' } });
      if (r.status !== 201) throw new Error(`product create answered ${r.status}: ${JSON.stringify(r.json)}`);
      products.push(r.json.id as string);
    }
    pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', src, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${app.rtmpPort}/live/${s.streamKey}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let pubStderr = '';
    let pubExit: number | null | undefined;
    pub.stderr!.on('data', (d: Buffer) => { pubStderr = (pubStderr + d.toString()).slice(-2000); });
    pub.on('exit', (code) => { pubExit = code; });
    const publisherGone = (): string => (pubExit === undefined ? '' : `; the publisher exited (${pubExit}): ${pubStderr.trim()}`);

    let renditions: string[] = [];
    for (let i = 0; i < 300 && !renditions.length; i++) {
      const m = await fetch(`${api}/hls/${s.id}/master.m3u8`).catch(() => undefined);
      if (m?.status === 200) renditions = (await m.text()).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('/')[0]!);
      else await sleep(100);
    }
    if (!renditions.length) throw new Error(`stream never became playable${publisherGone()}`);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${api}/watch/${s.id}`);
    const hook = (): Promise<{ playing: boolean; products: string[] }> => page.evaluate(() => {
      const h = (window as unknown as { __showcase: { playing: boolean; products: string[] } }).__showcase;
      return { playing: h.playing, products: [...h.products] };
    });
    await until(hook, (h) => h.playing && h.products.length === products.length, 40_000, 'the page playing with its carousel');
    await instrument(page, `/v1/streams/${s.id}/events`);
    const record = (): Promise<BenchRecord> => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __bench: BenchRecord }).__bench)) as BenchRecord);
    await until(record, (r) => r.feedOpen, 10_000, 'the event feed open');
    // hls.js settles on its target latency a few seconds after the first frame.
    await sleep(4000);
    const offset = await clockOffset(page);
    const latencyFrom = (await record()).latency.length;
    const loadAvg = loadavg()[0]!;

    const samples: HighlightSample[] = [];
    let missed = 0;
    for (let i = 0; i < n; i++) {
      const productId = products[i % products.length]!;
      const postAt = nowMs();
      const r = await call('POST', `/v1/streams/${s.id}/highlights`, { productId });
      if (r.status !== 201) throw new Error(`highlight ${i + 1} answered ${r.status}: ${JSON.stringify(r.json)}`);
      const id = r.json.id as string;
      const startDate = Date.parse(r.json.startDate as string);
      const seen = await until(record, (x) => x.popups.some((p) => p.productId === productId && p.at - offset > postAt) && x.events.some((e) => e.id === id && !e.ended), 15_000, `highlight ${i + 1}'s pop-up and event`)
        .catch(() => undefined);
      const popup = seen?.popups.find((p) => p.productId === productId && p.at - offset > postAt);
      const event = seen?.events.find((e) => e.id === id && !e.ended);
      if (!popup || !event) {
        // Counted, not fatal: the figures of the others still stand, and the count says what went missing.
        missed++;
        continue;
      }
      const popupAt = popup.at - offset;
      samples.push({
        popupMs: Math.round(popupAt - postAt),
        pushedMs: Math.round((event.at - offset - postAt) * 10) / 10,
        // now minus hls.playingDate at the pop-up: the page's clock against the video's program date.
        latencyAtPopupMs: popup.programMs === null ? NaN : Math.round(popupAt - popup.programMs),
        startDateMinusPostMs: Math.round(startDate - postAt),
        programGapMs: popup.programMs === null ? NaN : Math.round(popup.programMs - startDate),
      });
      const rest = postAt + intervalS * 1000 - nowMs();
      if (rest > 0 && i < n - 1) await sleep(rest);
    }
    await call('DELETE', `/v1/streams/${s.id}/highlights/current`);
    if (!samples.length) throw new Error(`none of the ${n} highlights showed on the page within 15 s${publisherGone()}`);
    const latency = (await record()).latency.slice(latencyFrom);
    if (latency.length < 4) throw new Error(`only ${latency.length} live latency samples`);

    const popups = samples.map((x) => x.popupMs);
    const pushed = samples.map((x) => x.pushedMs);
    const diff = samples.map((x) => x.popupMs - x.latencyAtPopupMs).filter((x) => !Number.isNaN(x));
    const early = samples.map((x) => x.popupMs - x.pushedMs);
    const gaps = samples.map((x) => x.programGapMs).filter((x) => !Number.isNaN(x));
    const popupP50Ms = pct(popups, 50);
    const liveLatencyP50Ms = Math.round(pct(latency, 50));
    return {
      highlights: n,
      missed,
      intervalS,
      renditions,
      popupP50Ms,
      popupP95Ms: pct(popups, 95),
      liveLatencyP50Ms,
      liveLatencyP95Ms: Math.round(pct(latency, 95)),
      liveLatencySamples: latency.length,
      popupMinusLatencyP50Ms: pct(diff, 50),
      popupMinusLatencyMaxAbsMs: Math.max(...diff.map(Math.abs)),
      popupP50MinusLatencyP50Ms: popupP50Ms - liveLatencyP50Ms,
      withinTarget: Math.abs(popupP50Ms - liveLatencyP50Ms) <= 250,
      pushedP50Ms: pct(pushed, 50),
      pushedP95Ms: pct(pushed, 95),
      pushedEarlyP50Ms: Math.round(pct(early, 50)),
      pushedEarlyP95Ms: Math.round(pct(early, 95)),
      startDateMinusPostP50Ms: pct(samples.map((x) => x.startDateMinusPostMs), 50),
      programGapP50Ms: pct(gaps, 50),
      programGapMaxMs: Math.max(...gaps),
      pageClockOffsetMs: Math.round(offset * 10) / 10,
      loadAvg: Math.round(loadAvg * 100) / 100,
      samples,
    };
  } finally {
    await browser?.close().catch(() => {});
    pub?.kill('SIGKILL');
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { arg, num } = cliArgs();
  const r = await runHighlightToScreenBench({ highlights: num('highlights'), intervalS: num('interval'), preset: arg('preset'), quick: process.argv.includes('--quick') });
  console.log(`${r.highlights} highlights ${r.intervalS} s apart (${r.missed} missed), ladder ${r.renditions.join(',')}, load ${r.loadAvg}, page clock offset ${r.pageClockOffsetMs} ms (corrected)`);
  console.table(r.samples.map((x, i) => ({ highlight: i + 1, 'POST to pop-up (ms)': x.popupMs, 'live latency then (ms)': x.latencyAtPopupMs, 'POST to pushed event (ms)': x.pushedMs, 'START-DATE - POST (ms)': x.startDateMinusPostMs, 'playhead - START-DATE at pop-up (ms)': x.programGapMs })));
  console.table([
    { figure: 'timeline (DATERANGE): POST to pop-up p50 / p95', value: `${r.popupP50Ms} / ${r.popupP95Ms} ms`, target: '= live latency +- 250 ms' },
    { figure: 'player live latency (now - hls.playingDate) p50 / p95', value: `${r.liveLatencyP50Ms} / ${r.liveLatencyP95Ms} ms (${r.liveLatencySamples} samples)`, target: '' },
    { figure: 'pop-up p50 minus live latency p50', value: `${r.popupP50MinusLatencyP50Ms} ms`, target: '|x| <= 250 ms' },
    { figure: 'pop-up minus live latency then, p50 / max |x|', value: `${r.popupMinusLatencyP50Ms} / ${r.popupMinusLatencyMaxAbsMs} ms`, target: '' },
    { figure: 'pushed event: POST to event in the page p50 / p95', value: `${r.pushedP50Ms} / ${r.pushedP95Ms} ms`, target: '' },
    { figure: 'pushed design shows the product early by p50 / p95', value: `${r.pushedEarlyP50Ms} / ${r.pushedEarlyP95Ms} ms`, target: '~ live latency' },
    { figure: 'playhead minus START-DATE at pop-up p50 / max', value: `${r.programGapP50Ms} / ${r.programGapMaxMs} ms`, target: '0..250 ms' },
  ]);
  console.log(r.withinTarget ? 'pop-up within 250 ms of the live latency: the highlight rides with the video' : 'pop-up NOT within 250 ms of the live latency');
  process.exit(0);
}
