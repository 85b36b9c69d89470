/**
 * Watch-metrics benchmark: 100,000 concurrent simulated viewer sessions across 100 streams.
 * Targets (from the metrics issue): tick p99 < 5 ms, < 200 bytes of memory per session,
 * /metrics scrape < 50 ms. Run: npx tsc -p tsconfig.json && node --expose-gc dist/bench/metrics-watch.js
 */
import { createMetricsRegistry } from '../src/metrics/metrics-registry.js';
import { ViewerSessionTable } from '../src/metrics/session-table.js';
import { WatchTicker } from '../src/metrics/watch-ticker.js';

const SESSIONS = 100_000;
const STREAMS = 100;
/** One in ten viewers is on WebRTC (open consumers); the rest fetch HLS. */
const WEBRTC_EVERY = 10;
/** One in five is watching a replay. */
const REPLAY_EVERY = 5;
/** Share of HLS viewers replaced by new ones every second (leavers linger until they time out). */
const CHURN_PER_SECOND = 0.01;
const WARMUP_TICKS = 10;
const MEASURED_TICKS = 300;
const SCRAPES = 30;

/** Figures of one run. */
export interface MetricsBenchResult {
  tickP99Ms: number;
  bytesPerSession: number;
  scrapeMs: number;
  tickP50Ms: number;
  tickMaxMs: number;
  columnBytesPerSession: number;
  touchNs: number;
  issueNs: number;
  scrapeP50Ms: number;
  scrapeBytes: number;
  gcExposed: boolean;
}

const streamIds = Array.from({ length: STREAMS }, (_, i) => `stream-${String(i).padStart(3, '0')}`);

/** Options of runMetricsBench (bench/run.ts passes quick for a short run). */
export interface MetricsBenchOptions {
  /** Fewer measured ticks (60 instead of 300). */
  quick?: boolean;
}

/** Runs the three measurements; scrapeMs is the slowest of the timed scrapes. */
export async function runMetricsBench(options: MetricsBenchOptions = {}): Promise<MetricsBenchResult> {
  const measuredTicks = options.quick ? 60 : MEASURED_TICKS;
  const gc = (globalThis as { gc?: () => void }).gc;
  const memory = (): number => {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };

  // 1. Memory: a table and ticker holding 100k sessions; ids are not kept (they live in the players' URLs).
  const before = memory();
  let clock = 0;
  const memTable = new ViewerSessionTable({ now: () => clock });
  const memTicker = new WatchTicker({ table: memTable });
  for (let i = 0; i < SESSIONS; i++) issueOne(memTable, i, 0);
  memTicker.tick(1000); // creates the per-stream accumulators (HyperLogLog sketches, timelines)
  const after = memory();
  const bytesPerSession = (after - before) / SESSIONS;
  const columnBytesPerSession = memTable.columnBytes() / SESSIONS;
  memTicker.close();

  // 2. Ticks under load: every HLS viewer fetches each second, 1 % of them leave and are replaced.
  clock = 0;
  const table = new ViewerSessionTable({ now: () => clock });
  const ticker = new WatchTicker({ table });
  for (const id of streamIds) ticker.markLive(id, 0);
  const hlsIds: string[] = [];
  const issueStart = performance.now();
  for (let i = 0; i < SESSIONS; i++) {
    const id = issueOne(table, i, 0);
    if (i % WEBRTC_EVERY !== 0) hlsIds.push(id);
  }
  const issueNs = ((performance.now() - issueStart) * 1e6) / SESSIONS;
  const churn = Math.round(hlsIds.length * CHURN_PER_SECOND);
  let churnAt = 0;
  let touchTotalMs = 0;
  let touches = 0;
  const tickMs: number[] = [];
  for (let s = 1; s <= WARMUP_TICKS + measuredTicks; s++) {
    clock = s * 1000;
    for (let k = 0; k < churn; k++) {
      const i = (churnAt + k) % hlsIds.length;
      hlsIds[i] = issueHls(table, i, clock - 500);
    }
    churnAt = (churnAt + churn) % hlsIds.length;
    const touchStart = performance.now();
    for (const id of hlsIds) table.touch(id, clock - 200);
    touchTotalMs += performance.now() - touchStart;
    touches += hlsIds.length;
    const info = ticker.tick(clock);
    if (s > WARMUP_TICKS) tickMs.push(info.durationMs);
  }
  tickMs.sort((a, b) => a - b);

  // 3. Scrapes of the full registry (default process metrics included) at that load.
  const metrics = createMetricsRegistry({ ticker });
  let scrapeBytes = 0;
  for (let i = 0; i < 3; i++) scrapeBytes = (await metrics.metrics()).length;
  const scrapeMs: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const start = performance.now();
    await metrics.metrics();
    scrapeMs.push(performance.now() - start);
  }
  scrapeMs.sort((a, b) => a - b);
  metrics.close();
  ticker.close();

  return {
    tickP99Ms: percentile(tickMs, 0.99),
    bytesPerSession,
    scrapeMs: scrapeMs.at(-1)!,
    tickP50Ms: percentile(tickMs, 0.5),
    tickMaxMs: tickMs.at(-1)!,
    columnBytesPerSession,
    touchNs: (touchTotalMs * 1e6) / touches,
    issueNs,
    scrapeP50Ms: percentile(scrapeMs, 0.5),
    scrapeBytes,
    gcExposed: gc !== undefined,
  };
}

/** Issues session i of the simulated audience (protocol, mode and stream derived from i). */
function issueOne(table: ViewerSessionTable, i: number, nowMs: number): string {
  const streamId = streamIds[i % STREAMS]!;
  const mode = i % REPLAY_EVERY === 0 ? 'replay' : 'live';
  return i % WEBRTC_EVERY === 0 ? table.open(streamId, mode, { nowMs }) : table.issue(streamId, 'hls', mode, { nowMs });
}

/** Issues a replacement HLS viewer. */
function issueHls(table: ViewerSessionTable, i: number, nowMs: number): string {
  return table.issue(streamIds[i % STREAMS]!, 'hls', i % REPLAY_EVERY === 0 ? 'replay' : 'live', { nowMs });
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runMetricsBench();
  const row = (what: string, value: string, target: string, ok?: boolean): string =>
    `${what.padEnd(34)} ${value.padStart(12)}   ${target.padEnd(10)} ${ok === undefined ? '' : ok ? 'ok' : 'MISSED'}`;
  console.log(`watch metrics: ${SESSIONS.toLocaleString('en')} sessions, ${STREAMS} streams, node ${process.version}${r.gcExposed ? '' : ' (no --expose-gc: memory figure is noisy)'}`);
  console.log(row('figure', 'measured', 'target'));
  console.log(row('tick p99', `${r.tickP99Ms.toFixed(3)} ms`, '< 5 ms', r.tickP99Ms < 5));
  console.log(row('tick p50 / max', `${r.tickP50Ms.toFixed(3)} / ${r.tickMaxMs.toFixed(3)}`, 'ms'));
  console.log(row('memory per session (heap+arrayBuf)', `${r.bytesPerSession.toFixed(1)} B`, '< 200 B', r.bytesPerSession < 200));
  console.log(row('  of which session columns', `${r.columnBytesPerSession.toFixed(1)} B`, ''));
  console.log(row('scrape (slowest of 30)', `${r.scrapeMs.toFixed(2)} ms`, '< 50 ms', r.scrapeMs < 50));
  console.log(row('scrape p50', `${r.scrapeP50Ms.toFixed(2)} ms`, `${(r.scrapeBytes / 1024).toFixed(0)} KiB`));
  console.log(row('touch', `${r.touchNs.toFixed(0)} ns`, 'per call'));
  console.log(row('issue', `${r.issueNs.toFixed(0)} ns`, 'per call'));
}
