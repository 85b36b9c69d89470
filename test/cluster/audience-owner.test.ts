// One writer of a stream's analytics across nodes (src/cluster/cluster-audience.ts), on a real
// Redis started by the test: two nodes' tickers, session tables and analytics persistence over one
// store, driven tick by tick. Replay viewers on both (nobody holds the stream live): the first to
// claim owns the analytics and stores the sum (watch seconds, the cluster-wide peak), the other
// writes nothing; when the owner stops, the other takes over and adds only what it counted since
// (what it counted before is in the previous owner's figures: nothing is counted twice).
import t from 'tap';
import { pino } from 'pino';
import { startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/server.js';
import { ClusterAudience } from '../../src/cluster/cluster-audience.js';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';
import { AnalyticsPersistence } from '../../src/metrics/analytics-persistence.js';
import type { AnalyticsRecord } from '../../src/store/types.js';

t.test('the first claimer owns a stream\'s analytics and stores the sum; a takeover counts nothing twice', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const rows = new Map<string, AnalyticsRecord>();
  const store = {
    getAnalytics: async (id: string) => (rows.has(id) ? structuredClone(rows.get(id)!) : undefined),
    putAnalytics: async (id: string, a: AnalyticsRecord) => (rows.set(id, structuredClone(a)), true),
  };
  const node = (nodeId: string) => {
    const table = new ViewerSessionTable({ timeoutMs: 600_000 });
    const ticker = new WatchTicker({ table });
    const audience = new ClusterAudience({ redisUrl: redis.url, keyPrefix: 'owners', nodeId, ttlMs: 5000, maxStreams: 64, ticker, roomSockets: () => [], holdsLive: () => false, logger: pino({ level: 'silent' }) });
    const analytics = new AnalyticsPersistence(store, ticker);
    analytics.periodSource = audience;
    t.teardown(() => audience.close());
    /** One tick, and the round trip it started. */
    const step = async () => {
      const r = audience.rounds;
      ticker.tick();
      await waitFor(() => audience.rounds > r, `${nodeId}'s round trip`, 5000, 5);
    };
    return { table, ticker, audience, analytics, step };
  };
  const x = node('x');
  const y = node('y');
  await x.audience.start();
  await y.audience.start();
  for (let i = 0; i < 2; i++) x.table.issue('s', 'hls', 'replay');
  for (let i = 0; i < 3; i++) y.table.issue('s', 'hls', 'replay');
  await x.step(); // x claims first
  await y.step();
  t.equal(await y.audience.ownerOf('s'), 'x', 'x claimed first: it owns the analytics');
  for (let i = 0; i < 6; i++) {
    await x.step();
    await y.step();
  }
  await y.analytics.persistTracked();
  t.notOk(rows.get('s'), 'y, not the owner, writes nothing');
  await x.analytics.persistTracked();
  const stored = rows.get('s')!;
  const ownX = x.ticker.snapshot('s')!.watchSecondsTotal;
  t.equal(stored.peakViewers, 5, 'the peak is the cluster\'s (2 on x + 3 on y)');
  t.equal(x.ticker.snapshot('s')!.peakViewers, 2, 'x alone saw 2');
  // x adds y's 3 at each of its ticks once it owns the stream and has read y's share: x's ticks 3-7
  // (its 1st: no owner answer yet; its 2nd: y's share not read yet, y wrote after x's first read).
  t.equal(stored.watchSecondsReplay, ownX + 3 * 5, `stored ${stored.watchSecondsReplay} s = x's own ${ownX} + y's 3 × 5 ticks`);
  const minute = stored.timeline.at(-1)!;
  t.ok(minute.viewersPeak === 5 && minute.viewersAvg > 2, 'the minute\'s peak and average include y');

  // x stops (its owner key released): y takes over at its next round trip.
  const atClose = rows.get('s')!.watchSecondsReplay;
  await x.audience.close();
  await y.step();
  t.equal(await y.audience.ownerOf('s'), 'y', 'y owns it now');
  const m = 4;
  for (let i = 0; i < m; i++) await y.step();
  await y.analytics.persistTracked();
  t.equal(rows.get('s')!.watchSecondsReplay, atClose + 3 * m, 'y added only its own seconds since the takeover (its earlier ones were in x\'s figures)');
  t.ok(y.ticker.snapshot('s')!.watchSecondsTotal > 3 * m, 'while y\'s own total is larger');
});
