import t from 'tap';
import {
  comparePlacement, computeLevels, DEFAULT_LEVEL_THRESHOLDS as T, msLiveByMonth, previousMonth, type Sale,
} from '../../src/journey/levels/creator-levels.js';

const MIN = 60_000;
const midnightMar1 = Date.UTC(2026, 2, 1);
const sales = (n: number, at: number): Sale[] => Array.from({ length: n }, (_, i) => ({ at: at + i, currency: 'USD', amountUnits: 120_000 }));

t.test('a stream spanning midnight of the 1st splits its minutes between the two months', async (t) => {
  const by = msLiveByMonth([{ startedAt: midnightMar1 - 90 * MIN, endedAt: midnightMar1 + 30 * MIN }]);
  t.same([...by.entries()], [['2026-02', 90 * MIN], ['2026-03', 30 * MIN]]);
  t.same([...msLiveByMonth([{ startedAt: 10, endedAt: 5 }]).entries()], [], 'an interval ending before it starts adds nothing');
  t.equal(previousMonth('2026-01'), '2025-12');
});

t.test('minutes and sales across a month boundary give the right level; a level holds through the next month', async (t) => {
  // 1,000 minutes: 700 in February, 300 in March; one stream of 1,000 minutes would be A-List in one month.
  const intervals = [{ startedAt: midnightMar1 - 700 * MIN, endedAt: midnightMar1 + 300 * MIN }];
  const feb = Date.UTC(2026, 1, 10);
  const r = computeLevels(intervals, [...sales(25, feb), ...sales(5, midnightMar1 + MIN)], Date.UTC(2026, 3, 15), T);
  t.same(r.months.map((m) => [m.month, m.minutesStreamed, m.sales, m.level]), [
    ['2026-02', 700, 25, 'insider'],
    ['2026-03', 300, 5, 'insider'],
    ['2026-04', 0, 0, 'insider'],
  ], 'not A-List in either month: the minutes split at midnight; March earned Insider itself, April holds it');
  t.equal(r.level, 'insider');
  t.same(r.months[0]?.revenueUnits, { USD: 3_000_000 });
  t.same(r.months[1]?.progress, { nextLevel: 'a-list', minutesNeeded: 700, salesNeeded: 20 });

  const may = computeLevels(intervals, sales(30, feb), Date.UTC(2026, 4, 2), T);
  t.same(may.months.map((m) => m.level), ['insider', 'insider', 'rising-star', 'rising-star'],
    'February\'s Insider holds through March only');
  t.same(may.months[3]?.progress, { nextLevel: 'insider', minutesNeeded: 300, salesNeeded: 5 });

  const top = computeLevels([{ startedAt: feb, endedAt: feb + 1000 * MIN }], sales(25, feb), feb + 2000 * MIN, T);
  t.equal(top.level, 'a-list');
  t.equal(top.months[0]?.progress, null, 'no progress at the top');
  t.equal(computeLevels([{ startedAt: feb, endedAt: feb + 999 * MIN }], sales(25, feb), feb + 2000 * MIN, T).level, 'insider', 'one minute short');
});

t.test('a live stream counts up to now; a new creator is Rising Star', async (t) => {
  const now = Date.UTC(2026, 5, 10);
  const r = computeLevels([{ startedAt: now - 10 * MIN, endedAt: Number.MAX_SAFE_INTEGER }], [], now, T);
  t.same(r.months.map((m) => m.minutesStreamed), [10]);
  t.same(computeLevels([], [], now, T), { level: 'rising-star', months: [{ month: '2026-06', minutesStreamed: 0, sales: 0, revenueUnits: {}, level: 'rising-star', progress: { nextLevel: 'insider', minutesNeeded: 300, salesNeeded: 5 } }] });
});

t.test('placement: A-List, Insider, Rising Star, then most watched', async (t) => {
  const rows = [
    { id: 'a', level: 'rising-star' as const, popularity: 900 },
    { id: 'b', level: 'insider' as const, popularity: 1 },
    { id: 'c', level: 'a-list' as const, popularity: 2 },
    { id: 'd', level: 'a-list' as const, popularity: 50 },
    { id: 'e', level: 'insider' as const, popularity: 1 },
  ];
  t.same(rows.sort(comparePlacement).map((r) => r.id), ['d', 'c', 'b', 'e', 'a']);
});
