import t from 'tap';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';
import type { StreamWatchTotals } from '../../src/metrics/stream-watch-stats.js';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';
import { HyperLogLog } from '../../src/metrics/hyperloglog.js';

/** A table + ticker on a fake clock (ticks and touches name their time explicitly). */
function setup(opts: { timeoutMs?: number; graceMs?: number; timelineMinutes?: number; capacity?: number } = {}) {
  let now = 0;
  // A fixed hash key makes viewer-key hashes, and so the unique-viewer estimates, reproducible.
  const table = new ViewerSessionTable({ timeoutMs: opts.timeoutMs ?? 6000, capacity: opts.capacity, now: () => now, hashKey: Buffer.from('test') });
  const dropped: StreamWatchTotals[] = [];
  const warnings: string[] = [];
  const ticker = new WatchTicker({
    table,
    graceMs: opts.graceMs ?? 60_000,
    timelineMinutes: opts.timelineMinutes,
    onStreamDropped: (totals) => dropped.push(totals),
    logger: { warn: (_obj, msg) => warnings.push(msg) },
  });
  return { table, ticker, dropped, warnings, setNow: (ms: number) => (now = ms) };
}

t.test('N sessions touched every second for T seconds give exactly N x T watch seconds', async (t) => {
  const { table, ticker } = setup();
  const N = 1000;
  const T = 150;
  const hlsLive: string[] = [];
  const hlsReplay: string[] = [];
  for (let i = 0; i < 700; i++) hlsLive.push(table.issue('s1', 'hls', 'live', { nowMs: 0 }));
  for (let i = 0; i < 200; i++) hlsReplay.push(table.issue('s1', 'hls', 'replay', { nowMs: 0 }));
  for (let i = 0; i < 100; i++) table.open('s1', 'live', { nowMs: 0 });
  let touched = 0;
  for (let s = 1; s <= T; s++) {
    const now = s * 1000;
    // Players fetch at uneven times within the second; all that matters is the last touch.
    for (const id of hlsLive) if (table.touch(id, now - 300)) touched++;
    for (const id of hlsReplay) if (table.touch(id, now - 900, 's1')) touched++; // heartbeats are touches
    ticker.tick(now);
  }
  t.equal(touched, 900 * T, 'every touch was accepted');
  const snap = ticker.snapshot('s1')!;
  t.equal(snap.watchSecondsTotal, N * T);
  t.same(snap.watchSeconds, { hls: { live: 700 * T, replay: 200 * T }, webrtc: { live: 100 * T, replay: 0 } });
  t.same(snap.viewers, { hls: { live: 700, replay: 200 }, webrtc: { live: 100, replay: 0 } });
  t.equal(snap.viewersTotal, N);
  t.equal(snap.peakViewers, N);
  const timeline = ticker.timeline('s1')!;
  t.same(timeline.map((b) => b.ticks), [59, 60, 31], 'ticks at 1..150 s fall into minutes 0, 1, 2');
  t.equal(timeline.reduce((sum, b) => sum + b.watchSeconds, 0), N * T, 'the timeline adds up to the counter');
  t.same(timeline.map((b) => [b.viewersAvg, b.viewersPeak]), [[N, N], [N, N], [N, N]]);
});

t.test('sessions that stop fetching stop counting after the timeout', async (t) => {
  const { table, ticker } = setup({ timeoutMs: 6000 });
  const stays = Array.from({ length: 50 }, () => table.issue('s1', 'hls', 'live', { nowMs: 0 }));
  const leaves = Array.from({ length: 30 }, () => table.issue('s1', 'hls', 'live', { nowMs: 0 }));
  for (let s = 1; s <= 20; s++) {
    for (const id of stays) table.touch(id, s * 1000);
    if (s <= 10) for (const id of leaves) table.touch(id, s * 1000);
    ticker.tick(s * 1000);
  }
  // Leavers: 10 touched ticks, then active while now - 10 s < 6 s: ticks 11..15.
  t.equal(ticker.snapshot('s1')!.watchSecondsTotal, 50 * 20 + 30 * (10 + 5));
  t.equal(ticker.snapshot('s1')!.viewersTotal, 50);
  t.equal(table.size, 50, 'the leavers were reclaimed');
  t.equal(table.touch(leaves[0], 20_000), false);
});

t.test('WebRTC consumers count from open to close', async (t) => {
  const { table, ticker } = setup();
  const ids = Array.from({ length: 10 }, () => table.open('s1', 'live', { nowMs: 0 }));
  for (let s = 1; s <= 10; s++) ticker.tick(s * 1000);
  for (const id of ids.slice(0, 5)) t.equal(table.close(id), true);
  for (let s = 11; s <= 20; s++) ticker.tick(s * 1000);
  t.same(ticker.snapshot('s1')!.watchSeconds.webrtc, { live: 10 * 10 + 5 * 10, replay: 0 });
  t.equal(ticker.snapshot('s1')!.viewers.webrtc.live, 5);
  t.equal(ticker.snapshot('s1')!.peakViewers, 10);
});

t.test('unique viewers: a viewer key counts once; 10k and 100k within the HLL bound', async (t) => {
  const { table, ticker } = setup({ capacity: 250_000 });
  for (let i = 0; i < 5; i++) table.issue('s1', 'hls', 'live', { nowMs: 0, viewerKey: 'same-person' });
  ticker.tick(1000);
  t.equal(ticker.snapshot('s1')!.uniqueViewers, 1, 'five reconnects of one viewer');

  const bound = 3 * HyperLogLog.relativeStandardError(14);
  for (const [stream, n] of [['ten-k', 10_000], ['hundred-k', 100_000]] as const) {
    for (let i = 0; i < n; i++) table.issue(stream, 'hls', 'live', { nowMs: 1500, viewerKey: `viewer-${i}` });
    for (let i = 0; i < n / 10; i++) table.issue(stream, 'hls', 'live', { nowMs: 1500, viewerKey: `viewer-${i}` }); // returning viewers
    ticker.tick(2000);
    const est = ticker.snapshot(stream)!.uniqueViewers;
    t.ok(Math.abs(est / n - 1) < bound, `${n} uniques estimated as ${est}`);
  }
  // Without a viewer key every session is a viewer.
  for (let i = 0; i < 10_000; i++) table.issue('anon', 'hls', 'live', { nowMs: 2500 });
  ticker.tick(3000);
  // Random hashes here, so allow 4 sigma (a false alarm once in ~16,000 runs).
  const est = ticker.snapshot('anon')!.uniqueViewers;
  t.ok(Math.abs(est / 10_000 - 1) < (bound * 4) / 3, `anonymous sessions: ${est}`);
});

t.test('ended streams are dropped after the grace period, totals handed over first', async (t) => {
  const { table, ticker, dropped } = setup({ graceMs: 30_000, timeoutMs: 6000 });
  const seen: string[] = [];
  ticker.on('streamdropped', (totals) => seen.push(`${totals.streamId}:${ticker.isTracked(totals.streamId)}`));
  ticker.markLive('a', 0);
  ticker.markLive('b', 0);
  const ids = Array.from({ length: 4 }, () => table.issue('a', 'hls', 'live', { nowMs: 0 }));
  for (let s = 1; s <= 10; s++) {
    for (const id of ids) table.touch(id, s * 1000);
    ticker.tick(s * 1000);
  }
  ticker.markEnded('a', 10_000);
  // Viewers linger until 16 s (timeout); the grace runs from the last viewer (15 s tick).
  for (let s = 11; s <= 44; s++) ticker.tick(s * 1000);
  t.ok(ticker.isTracked('a'), 'still within grace at 44 s');
  t.equal(dropped.length, 0);
  ticker.tick(45_000);
  t.equal(ticker.isTracked('a'), false, 'dropped at 45 s: 30 s after its last viewer');
  t.equal(dropped.length, 1);
  t.equal(dropped[0]!.streamId, 'a');
  t.equal(dropped[0]!.watchSecondsTotal, 4 * (10 + 5));
  t.equal(dropped[0]!.endedAtMs, 10_000);
  t.equal(dropped[0]!.timeline.reduce((s, b) => s + b.watchSeconds, 0), 60);
  t.equal(dropped[0]!.uniqueSketch.length, 16384);
  t.same(seen, ['a:true'], 'listeners run before the stream is gone');
  t.equal(table.streamIndexOf('a'), -1, 'the stream index is released');
  t.ok(ticker.isTracked('b'), 'a live stream with no viewers stays');
  t.same(ticker.trackedStreams(), ['b']);

  // A stream nobody marked live (e.g. a replay) is dropped grace after its last viewer.
  table.issue('vod', 'hls', 'replay', { nowMs: 50_000 });
  ticker.tick(50_500);
  t.ok(ticker.isTracked('vod'));
  for (let s = 51; s <= 86; s++) ticker.tick(s * 1000);
  t.equal(ticker.isTracked('vod'), false);
  t.equal(dropped.at(-1)!.watchSeconds.hls.replay, 6, 'ticks at 50.5..55 s');

  // A stream coming back gets fresh figures.
  ticker.markLive('a', 90_000);
  ticker.tick(91_000);
  t.equal(ticker.snapshot('a')!.watchSecondsTotal, 0);
});

t.test('a throwing callback is logged, not thrown; dropAll hands over everything', async (t) => {
  const table = new ViewerSessionTable({ now: () => 0 });
  const warnings: string[] = [];
  const ticker = new WatchTicker({
    table,
    graceMs: 0,
    onStreamDropped: () => {
      throw new Error('store down');
    },
    logger: { warn: (_o, msg) => warnings.push(msg) },
  });
  ticker.markLive('a', 0);
  ticker.markEnded('a', 0);
  t.doesNotThrow(() => ticker.tick(1000));
  t.same(warnings, ['watch totals callback failed']);
  const got: string[] = [];
  ticker.on('streamdropped', (x) => got.push(x.streamId));
  ticker.markLive('x', 2000);
  ticker.markLive('y', 2000);
  ticker.dropAll(3000);
  t.same(got.sort(), ['x', 'y']);
  t.same(ticker.trackedStreams(), []);
});

t.test('the timeline is bounded', async (t) => {
  const { ticker } = setup({ timelineMinutes: 3 });
  ticker.markLive('s', 0);
  for (let s = 0; s < 5 * 60; s++) ticker.tick(s * 1000);
  const timeline = ticker.timeline('s')!;
  t.same(timeline.map((b) => b.startMs), [120_000, 180_000, 240_000]);
  t.same(ticker.timeline('s', 180_000)!.map((b) => b.startMs), [180_000, 240_000]);
  t.equal(ticker.timeline('nope'), undefined);
});

t.test('the real timer ticks once a second, is unref()d and stops on close', async (t) => {
  const table = new ViewerSessionTable();
  const ticker = new WatchTicker({ table });
  table.open('s', 'live');
  ticker.start();
  ticker.start();
  await new Promise((resolve) => setTimeout(resolve, 1150));
  t.equal(ticker.ticks, 1);
  t.equal(ticker.snapshot('s')!.watchSecondsTotal, 1);
  ticker.close();
  ticker.close();
  t.ok(ticker.closed);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.equal(ticker.ticks, 1, 'no tick after close');
});

t.test('the per-minute timeline carries the mean ingest bitrate of the minutes a stream was live', async (t) => {
  const table = new ViewerSessionTable({ timeoutMs: 6000, now: () => 0, hashKey: Buffer.from('test') });
  const rate = new Map<number, number>([[0, 2_000_000], [1, 4_000_000]]);
  const ticker = new WatchTicker({ table, graceMs: 600_000, ingestBitsPerSecond: (_id, nowMs) => rate.get(Math.floor(nowMs / 60_000)) });
  ticker.markLive('s1', 0);
  for (let s = 1; s <= 120; s++) ticker.tick(s * 1000);
  ticker.markEnded('s1', 120_000);
  for (let s = 121; s <= 180; s++) ticker.tick(s * 1000);
  const buckets = ticker.timeline('s1')!;
  t.same(buckets.map((b) => b.ingestBitsPerSecond), [2_000_000, 4_000_000, undefined, undefined], 'one mean per minute with ingest, none without or once ended');
  t.same(buckets.map((b) => b.ticks), [59, 60, 60, 1]);
});
