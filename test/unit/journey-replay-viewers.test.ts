// Replay viewers (issue 15): the ticker counts the sessions that watch a replay in a sketch of
// their own (made on the first one), the persisted analytics carry it, and later periods merge it
// exactly (a viewer back the next day is counted once).
import t from 'tap';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';
import { fromTicker, mergeAnalytics } from '../../src/metrics/stream-analytics.js';

function setup() {
  let now = 0;
  const table = new ViewerSessionTable({ timeoutMs: 6000, now: () => now, hashKey: Buffer.from('test') });
  const ticker = new WatchTicker({ table, graceMs: 60_000, onStreamDropped: () => {}, logger: { warn: () => {} } });
  return { table, ticker, setNow: (ms: number) => (now = ms) };
}

t.test('replay sessions are counted apart; live-only streams carry no replay sketch', async (t) => {
  const { table, ticker } = setup();
  for (let i = 0; i < 40; i++) table.issue('s1', 'hls', 'live', { nowMs: 0 });
  for (let i = 0; i < 30; i++) table.issue('s1', 'hls', 'replay', { nowMs: 0 });
  for (let i = 0; i < 5; i++) table.open('s1', 'replay', { nowMs: 0 });
  for (let i = 0; i < 10; i++) table.issue('s2', 'hls', 'live', { nowMs: 0 });
  ticker.tick(1000);
  const s1 = ticker.snapshot('s1')!;
  t.ok(Math.abs(s1.uniqueViewers - 75) <= 2, `all viewers ${s1.uniqueViewers} ~ 75`);
  t.ok(Math.abs(s1.replayUniqueViewers - 35) <= 1, `replay viewers ${s1.replayUniqueViewers} ~ 35 (HLS and WebRTC)`);
  t.equal(ticker.snapshot('s2')!.replayUniqueViewers, 0);
  t.equal(ticker.replaySketch('s2'), undefined, 'no sketch allocated for a stream nobody replays');
  const stored = fromTicker(s1, [], ticker.uniqueSketch('s1'), 1000, ticker.replaySketch('s1'));
  t.equal(stored.replayUniqueViewers, s1.replayUniqueViewers);
  t.ok(stored.replaySketch, 'the sketch is kept for later merges');
  const live = fromTicker(ticker.snapshot('s2')!, [], ticker.uniqueSketch('s2'), 1000, ticker.replaySketch('s2'));
  t.equal(live.replayUniqueViewers, undefined, 'nothing stored when nobody replayed');
});

t.test('periods merge: the same replay viewer twice counts once, new ones add', async (t) => {
  const a = setup();
  const b = setup();
  // The same hash key and the same client keys: the second period sees 20 of the same viewers and 10 new.
  for (let i = 0; i < 30; i++) a.table.issue('s1', 'hls', 'replay', { nowMs: 0, viewerKey: `viewer-${i}` });
  for (let i = 10; i < 40; i++) b.table.issue('s1', 'hls', 'replay', { nowMs: 0, viewerKey: `viewer-${i}` });
  a.ticker.tick(1000);
  b.ticker.tick(1000);
  const p1 = fromTicker(a.ticker.snapshot('s1')!, [], a.ticker.uniqueSketch('s1'), 1000, a.ticker.replaySketch('s1'));
  const p2 = fromTicker(b.ticker.snapshot('s1')!, [], b.ticker.uniqueSketch('s1'), 2000, b.ticker.replaySketch('s1'));
  const m = mergeAnalytics(p1, p2);
  t.ok(Math.abs(m.replayUniqueViewers! - 40) <= 1, `union ${m.replayUniqueViewers} ~ 40, not the sum 60`);
  const liveOnly = { ...p1, replayUniqueViewers: undefined, replaySketch: undefined };
  delete liveOnly.replayUniqueViewers;
  delete liveOnly.replaySketch;
  const after = mergeAnalytics(liveOnly, p2);
  t.equal(after.replayUniqueViewers, p2.replayUniqueViewers, 'a live-only base adds nothing');
  t.equal(after.replaySketch, p2.replaySketch, 'and keeps the replay sketch for the next merge');
  t.equal(mergeAnalytics(liveOnly, liveOnly).replayUniqueViewers, undefined, 'never replayed: still absent');
});
