import t from 'tap';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from '../../src/metrics/metrics-registry.js';
import { parsePromText, type PromFamily } from '../helpers/prom-text.js';
import { lintPromFamilies } from '../helpers/prom-lint.js';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';
import type { StreamWatchTotals } from '../../src/metrics/stream-watch-stats.js';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';

function setup(defaultMetrics: boolean) {
  const table = new ViewerSessionTable({ timeoutMs: 6000, now: () => 0 });
  const dropped: StreamWatchTotals[] = [];
  const ticker = new WatchTicker({ table, graceMs: 20_000, onStreamDropped: (x) => dropped.push(x) });
  const metrics = createMetricsRegistry({ ticker, defaultMetrics, labelGraceMs: 5000 });
  return { table, ticker, metrics, dropped };
}

/** The value of one series (by sample name, so histogram _count works too), or undefined when the scrape lacks it. */
function value(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const sample = family.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (sample) return sample.value;
  }
  return undefined;
}

t.test('a scrape parses and every name follows the conventions (default metrics included)', async (t) => {
  const { table, ticker, metrics } = setup(true);
  ticker.markLive('shop-1', 0);
  const ids = [table.issue('shop-1', 'hls', 'live', { nowMs: 0 }), table.issue('shop-1', 'hls', 'replay', { nowMs: 0 })];
  table.open('shop-1', 'live', { nowMs: 0 });
  for (let s = 1; s <= 3; s++) {
    for (const id of ids) table.touch(id, s * 1000);
    ticker.tick(s * 1000);
  }
  table.touch('not-a-session-id', 3000);
  const text = await metrics.metrics();
  t.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  const families = parsePromText(text);
  t.same(lintPromFamilies(families.values()), [], 'no naming problems');
  for (const family of families.values()) {
    t.match(family.name, /^showcase_[a-z0-9_]+$/);
    if (family.type === 'counter') t.match(family.name, /_total$/);
  }
  t.ok(families.has('showcase_process_cpu_seconds_total'), 'default metrics carry the prefix');
  t.notOk(families.has('showcase_nodejs_active_handles_total'), 'gauges named _total are left out');

  t.equal(value(families, 'showcase_stream_viewers', { stream: 'shop-1', protocol: 'hls' }), 2);
  t.equal(value(families, 'showcase_stream_viewers', { stream: 'shop-1', protocol: 'webrtc' }), 1);
  t.equal(value(families, 'showcase_watch_seconds_total', { stream: 'shop-1', protocol: 'hls', mode: 'live' }), 3);
  t.equal(value(families, 'showcase_watch_seconds_total', { stream: 'shop-1', protocol: 'hls', mode: 'replay' }), 3);
  t.equal(value(families, 'showcase_watch_seconds_total', { stream: 'shop-1', protocol: 'webrtc', mode: 'live' }), 3);
  t.equal(value(families, 'showcase_watch_seconds_total', { stream: 'shop-1', protocol: 'webrtc', mode: 'replay' }), 0);
  t.equal(value(families, 'showcase_stream_unique_viewers', { stream: 'shop-1' }), 3);
  t.equal(value(families, 'showcase_stream_peak_viewers', { stream: 'shop-1' }), 3);
  t.equal(value(families, 'showcase_watch_tracked_streams'), 1);
  t.equal(value(families, 'showcase_viewer_sessions'), 3);
  t.equal(value(families, 'showcase_viewer_session_capacity'), 200_000);
  t.equal(value(families, 'showcase_viewer_sessions_issued_total'), 3);
  t.equal(value(families, 'showcase_viewer_sessions_evicted_total'), 0);
  t.equal(value(families, 'showcase_viewer_sessions_rejected_total', { reason: 'malformed' }), 1);
  t.equal(value(families, 'showcase_watch_tick_duration_seconds_count'), 3);
  metrics.close();
  metrics.close();
});

t.test('an ended stream keeps its series for the grace period, then they are removed', async (t) => {
  const { table, ticker, metrics, dropped } = setup(false);
  ticker.markLive('a', 0);
  ticker.markLive('b', 0);
  const id = table.issue('a', 'hls', 'live', { nowMs: 0 });
  // Another part of the server counts per-stream figures through the label set.
  const served = new Counter({ name: 'showcase_hls_parts_served_total', help: 'Parts served.', labelNames: ['stream', 'rendition'], registers: [metrics.registry] });
  metrics.streamLabels.labels(served, { stream: 'a', rendition: '720p' }).inc(5);
  metrics.streamLabels.labels(served, { stream: 'a', rendition: '360p' }).inc();
  metrics.streamLabels.labels(served, { stream: 'b', rendition: '720p' }).inc();
  metrics.streamLabels.labels(served, { stream: 'ghost', rendition: '720p' }).inc(); // never tracked by the ticker

  for (let s = 1; s <= 5; s++) {
    table.touch(id, s * 1000);
    ticker.tick(s * 1000);
  }
  ticker.markEnded('a', 5000);
  const before = await metrics.metrics();
  t.match(before, /showcase_stream_viewers\{stream="a",protocol="hls"\} 1/);
  t.match(before, /showcase_hls_parts_served_total\{stream="a",rendition="720p"\} 5/);
  t.match(before, /stream="ghost"/);

  // Last viewer at the 10 s tick (timeout 6 s after the 5 s touch); grace 20 s: gone at 30 s.
  for (let s = 6; s <= 29; s++) ticker.tick(s * 1000);
  const during = await metrics.metrics();
  t.match(during, /showcase_watch_seconds_total\{stream="a",protocol="hls",mode="live"\} 10/, 'still there within the grace');
  t.notMatch(during, /stream="ghost"/, 'a stream the ticker never tracked goes after the label grace (5 s)');
  t.equal(dropped.length, 0);

  ticker.tick(30_000);
  const after = await metrics.metrics();
  t.equal(dropped.length, 1, 'totals handed over');
  t.equal(dropped[0]!.watchSecondsTotal, 10);
  t.notMatch(after, /stream="a"/, 'every series of the ended stream is gone, ours and the other part\'s');
  t.match(after, /showcase_stream_viewers\{stream="b",protocol="hls"\} 0/, 'the live stream stays');
  t.match(after, /showcase_hls_parts_served_total\{stream="b",rendition="720p"\} 1/);
  t.same(lintPromFamilies(parsePromText(after).values()), []);
  t.same(metrics.streamLabels.streams(), ['b']);
  t.equal(metrics.streamLabels.seriesCount('b'), 1);

  metrics.close();
  metrics.streamLabels.labels(served, { stream: 'late', rendition: '720p' }).inc();
  ticker.tick(100_000);
  t.same(metrics.streamLabels.streams(), ['b', 'late'], 'after close() the ticker no longer drives sweeps');
});

t.test('clustered: every series carries node="<id>"; single node: no node label', async (t) => {
  const table = new ViewerSessionTable({ timeoutMs: 6000, now: () => 0 });
  const ticker = new WatchTicker({ table, graceMs: 20_000, onStreamDropped: () => {} });
  const clustered = createMetricsRegistry({ ticker, defaultMetrics: false, nodeLabel: 'node-b' });
  const single = createMetricsRegistry({ ticker, defaultMetrics: false });
  // A metric another part registers later carries the label too.
  new Counter({ name: 'showcase_late_total', help: 'Registered after the registry was built.', registers: [clustered.registry] }).inc();
  ticker.markLive('shop-1', 0);
  table.issue('shop-1', 'hls', 'live', { nowMs: 0 });
  ticker.tick(1000);

  const families = parsePromText(await clustered.metrics());
  const samples = [...families.values()].flatMap((f) => f.samples);
  t.ok(samples.length > 3, 'the clustered scrape has series');
  t.same(samples.filter((s) => s.labels.node !== 'node-b').map((s) => s.name), [], 'every sample is labelled with the node');
  t.equal(value(families, 'showcase_stream_viewers', { stream: 'shop-1', protocol: 'hls', node: 'node-b' }), 1);
  t.equal(value(families, 'showcase_late_total', { node: 'node-b' }), 1);
  t.same(lintPromFamilies(families.values()), []);

  const plain = await single.metrics();
  t.notMatch(plain, /node="/, 'single node output has no node label');
  t.match(plain, /showcase_stream_viewers\{stream="shop-1",protocol="hls"\} 1/);
  clustered.close();
  single.close();
});
