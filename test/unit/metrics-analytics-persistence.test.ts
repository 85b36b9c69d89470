import t from 'tap';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';
import { AnalyticsPersistence } from '../../src/metrics/analytics-persistence.js';
import { mergeAnalytics, type StoredAnalytics } from '../../src/metrics/stream-analytics.js';
import type { StreamWatchTotals } from '../../src/metrics/stream-watch-stats.js';

/** A one-stream analytics store (copies in and out, as a real store's rows are). */
function fakeStore() {
  const box: { a: StoredAnalytics | undefined } = { a: undefined };
  return {
    get a(): StoredAnalytics | undefined {
      return box.a;
    },
    getAnalytics: async (id: string) => (id === 's1' && box.a ? structuredClone(box.a) : undefined),
    putAnalytics: async (id: string, a: StoredAnalytics) => {
      if (id !== 's1') return false;
      box.a = structuredClone(a);
      return true;
    },
  };
}

/** A table, ticker and persistence on a fake clock, over a given store (a "process"). */
function processOn(store: ReturnType<typeof fakeStore>, startMs: number) {
  let now = startMs;
  const table = new ViewerSessionTable({ timeoutMs: 3000, now: () => now, hashKey: Buffer.from('k') });
  const periods: StreamWatchTotals[] = [];
  const ticker = new WatchTicker({ table, graceMs: 10_000, onStreamDropped: (totals) => { periods.push(totals); persistence.dropped(totals); } });
  const persistence = new AnalyticsPersistence(store, ticker, () => now);
  const sessions = (n: number, mode: 'live' | 'replay') => Array.from({ length: n }, () => table.issue('s1', 'hls', mode, { nowMs: now }));
  /** The sessions watch for `seconds` (touched and ticked every second); then `idle` seconds of ticks alone. */
  const watch = (ids: string[], seconds: number) => {
    for (let s = 0; s < seconds; s++) {
      now += 1000;
      for (const id of ids) table.touch(id, now, 's1');
      ticker.tick(now);
    }
  };
  const idle = (seconds: number) => watch([], seconds);
  return { ticker, persistence, sessions, watch, idle, periods, now: () => now };
}

const sum = (ps: StreamWatchTotals[], pick: (w: StreamWatchTotals['watchSeconds']) => number) => ps.reduce((a, p) => a + pick(p.watchSeconds), 0);

t.test('a live period, its drop, a replay period and a restart add up; nothing counted twice', async (t) => {
  const store = fakeStore();
  const p1 = processOn(store, 0);
  p1.ticker.markLive('s1', 0);
  const live = p1.sessions(10, 'live');
  p1.watch(live, 60);
  await p1.persistence.persistTracked(); // the minute persist while live
  p1.watch(live, 30);
  p1.ticker.markEnded('s1', p1.now());
  p1.idle(20); // sessions time out, then the grace passes: dropped and persisted
  await p1.persistence.flush(); // the drop's write is queued, not awaited by the tick
  t.notOk(p1.ticker.isTracked('s1'), 'dropped after the grace');
  t.equal(p1.periods.length, 1);
  const afterLive = store.a!;
  t.ok(p1.periods[0]!.watchSeconds.hls.live >= 900, 'the ticker counted the live viewing');
  t.equal(afterLive.watchSecondsLive, p1.periods[0]!.watchSeconds.hls.live, 'persisted once, not once per persist');
  t.equal(afterLive.watchSecondsReplay, 0);
  t.ok(afterLive.uniqueSketch, 'the sketch is kept for later merges');

  // Days later, replays are watched: a new tracking period of the same stream.
  const replay = p1.sessions(4, 'replay');
  p1.watch(replay, 30);
  const during = (await p1.persistence.current('s1'))!;
  t.equal(during.watchSecondsLive, afterLive.watchSecondsLive, 'the live figures stay while a replay is tracked');
  t.equal(during.watchSecondsReplay, 4 * 30);
  t.ok(during.uniqueViewers >= 13 && during.uniqueViewers <= 15, `unique viewers merge: ${during.uniqueViewers} of 14`);
  await p1.persistence.persistTracked();
  await p1.persistence.persistTracked(); // twice in one period: still counted once
  t.equal(store.a!.watchSecondsReplay, 4 * 30);

  // The process restarts mid-replay: the new process's period builds on what was stored.
  const p2 = processOn(store, p1.now() + 5000);
  p2.watch(p2.sessions(2, 'replay'), 10);
  p2.idle(20);
  await p2.persistence.flush();
  t.equal(p2.periods.length, 1);
  const end = store.a!;
  t.equal(end.watchSecondsLive, afterLive.watchSecondsLive);
  t.equal(end.watchSecondsReplay, 4 * 30 + sum(p2.periods, (w) => w.hls.replay), 'the replay seconds of both processes');
  t.equal(end.watchSecondsByProtocol.hls, end.watchSecondsLive + end.watchSecondsReplay);
  t.ok(end.uniqueViewers >= 15 && end.uniqueViewers <= 17, `unique viewers of every period: ${end.uniqueViewers} of 16`);
  t.ok(end.timeline.length >= 2 && end.timeline.every((b, i) => i === 0 || b.startMs > end.timeline[i - 1]!.startMs), 'one timeline, in order');
});

t.test('merging without sketches sums unique viewers; a same-minute bucket combines', async (t) => {
  const a: StoredAnalytics = { watchSecondsLive: 10, watchSecondsReplay: 0, watchSecondsByProtocol: { hls: 10, webrtc: 0 }, uniqueViewers: 3, peakViewers: 3, timeline: [{ startMs: 60_000, viewersAvg: 1, viewersPeak: 3, watchSeconds: 10 }], updatedAt: 1 };
  const b: StoredAnalytics = { watchSecondsLive: 0, watchSecondsReplay: 5, watchSecondsByProtocol: { hls: 0, webrtc: 5 }, uniqueViewers: 2, peakViewers: 2, timeline: [{ startMs: 60_000, viewersAvg: 0.5, viewersPeak: 2, watchSeconds: 5 }, { startMs: 120_000, viewersAvg: 1, viewersPeak: 1, watchSeconds: 60 }], updatedAt: 2 };
  const m = mergeAnalytics(a, b);
  t.equal(m.uniqueViewers, 5);
  t.equal(m.peakViewers, 3);
  t.same(m.timeline.map((x) => [x.startMs, x.watchSeconds, x.viewersPeak]), [[60_000, 15, 3], [120_000, 60, 1]]);
  t.same(m.watchSecondsByProtocol, { hls: 10, webrtc: 5 });
  t.equal(mergeAnalytics(undefined, b), b);
  t.equal(mergeAnalytics({ ...a, uniqueSketch: 'AAAA' }, { ...b, uniqueSketch: 'not a sketch' }).uniqueViewers, 5, 'damaged sketches fall back to the sum');
});
