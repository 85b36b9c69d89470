// Discovery's pure parts (issue 15): placement order of live, upcoming and product listings, the
// featured slot, the countdown's words, and the creator directory's cache (TTL, LRU, one read for
// concurrent asks, a level from this and last month only).
import t from 'tap';
import { featuredOf, orderLive, orderProductStreams, orderUpcoming, type PlacedStream } from '../../src/journey/discovery/placement.js';
import { CreatorDirectory, previousMonthStart, type DirectoryStore } from '../../src/journey/discovery/creator-directory.js';
import { DEFAULT_LEVEL_THRESHOLDS, type CreatorLevel } from '../../src/journey/levels/creator-levels.js';
import { countdownText } from '../../src/web/watch/countdown.js';
import type { LevelActivity, StreamRecord } from '../../src/store/types.js';

const rec = (id: string, over: Partial<StreamRecord> = {}): StreamRecord => ({
  id, ownerId: `c-${id}`, title: id, description: '', streamKeyHash: '', streamKeyPrefix: '', state: 'live', createdAt: 0, startedAt: 0,
  endedAt: null, endReason: null, extra: {}, lease: null, scheduledAt: null, practice: false, ...over,
});
const row = (id: string, level: CreatorLevel, viewers: number, over: Partial<StreamRecord> = {}): PlacedStream => ({ stream: rec(id, over), level, viewers });

t.test('live: A-List, Insider, Rising Star, then viewers, then id; the featured slot is A-List only', async (t) => {
  const rows = [row('r-busy', 'rising-star', 900), row('i-quiet', 'insider', 1), row('a', 'a-list', 0), row('i-busy', 'insider', 50), row('r-b', 'rising-star', 3), row('r-a', 'rising-star', 3)];
  const o = orderLive(rows);
  t.same(o.map((r) => r.stream.id), ['a', 'i-busy', 'i-quiet', 'r-busy', 'r-a', 'r-b'], 'a Rising Star with 900 viewers stays below an Insider with 1');
  t.equal(featuredOf(o)?.stream.id, 'a');
  t.equal(featuredOf(orderLive(rows.filter((r) => r.level !== 'a-list'))), undefined, 'no A-List live: no featured slot');
  t.same(rows.map((r) => r.stream.id)[0], 'r-busy', 'the input is not sorted in place');
});

t.test('upcoming: level, then the soonest', async (t) => {
  const o = orderUpcoming([row('r-soon', 'rising-star', 0, { scheduledAt: 100 }), row('a-late', 'a-list', 0, { scheduledAt: 900 }), row('a-soon', 'a-list', 0, { scheduledAt: 200 })]);
  t.same(o.map((r) => r.stream.id), ['a-soon', 'a-late', 'r-soon']);
});

t.test('product placements: Insider and A-List only; live before ended; viewers; newest', async (t) => {
  const o = orderProductStreams([
    row('r-live', 'rising-star', 99), row('i-old', 'insider', 0, { state: 'ended', startedAt: 10 }), row('i-new', 'insider', 0, { state: 'ended', startedAt: 20 }),
    row('i-live', 'insider', 2), row('a-ended', 'a-list', 0, { state: 'ended', startedAt: 5 }), row('a-live', 'a-list', 1),
  ]);
  t.same(o.map((r) => r.stream.id), ['a-live', 'a-ended', 'i-live', 'i-new', 'i-old']);
});

t.test('countdown words', async (t) => {
  t.equal(countdownText(1000 + 299_000, 1000), 'Starts in 04:59');
  t.equal(countdownText(1000 + 299_001, 1000), 'Starts in 05:00', 'a part second rounds up: never reads 00:00 early');
  t.equal(countdownText(2 * 3_600_000 + 5 * 60_000, 0), 'Starts in 2 h 05 min');
  t.equal(countdownText(3 * 86_400_000 + 4 * 3_600_000, 0), 'Starts in 3 d 4 h');
  t.equal(countdownText(0, 0), 'Starting any moment');
  t.equal(countdownText(0, 5000), 'Starting any moment', 'running late');
});

t.test('creator directory: level from last month on, cached for the TTL, LRU bound, one read per creator at a time', async (t) => {
  let now = Date.UTC(2026, 2, 15); // 15 March
  const reads: Array<{ id: string; since: number }> = [];
  const activity: Record<string, LevelActivity> = {
    // February: 1,000 minutes and 25 sales: A-List through March.
    star: { intervals: [{ startedAt: Date.UTC(2026, 1, 3), endedAt: Date.UTC(2026, 1, 3) + 1000 * 60_000 }], sales: [{ at: Date.UTC(2026, 1, 4), count: 25 }] },
    // Live now since 5 hours, 5 sales this month: Insider.
    mid: { intervals: [{ startedAt: Date.UTC(2026, 2, 15) - 300 * 60_000, endedAt: null }], sales: [{ at: Date.UTC(2026, 2, 2), count: 5 }] },
  };
  const store: DirectoryStore = {
    getCreator: async (id) => (id === 'gone' ? undefined : { id, handle: `h_${id}`, displayName: id, tokenHash: '', disabled: id === 'off', createdAt: 0 }),
    getCreatorByHandle: async (h) => ({ id: h.slice(2), handle: h, displayName: h, tokenHash: '', disabled: false, createdAt: 0 }),
    followerCount: async () => 7,
    levelActivity: async (id, since) => {
      reads.push({ id, since });
      await new Promise((r) => setImmediate(r));
      return activity[id] ?? { intervals: [], sales: [] };
    },
  };
  const dir = new CreatorDirectory({ store, thresholds: DEFAULT_LEVEL_THRESHOLDS, ttlMs: 60_000, maxEntries: 2, now: () => now });
  t.equal(previousMonthStart(now), Date.UTC(2026, 1, 1));
  const [a, b] = await Promise.all([dir.card('star'), dir.card('star')]);
  t.same(a, { id: 'star', handle: 'h_star', displayName: 'star', level: 'a-list', followerCount: 7 });
  t.equal(a, b, 'concurrent asks share one read');
  t.same(reads, [{ id: 'star', since: Date.UTC(2026, 1, 1) }], 'read from the first of last month');
  t.equal((await dir.card('mid'))?.level, 'insider', 'a live interval counts up to now');
  t.equal(await dir.card('off'), undefined, 'a disabled creator has no card');
  t.equal(await dir.card('gone'), undefined);
  t.equal(dir.size, 2, 'bounded');
  now += 30_000;
  reads.length = 0;
  await dir.card('off');
  t.same(reads, [], 'kept for the TTL');
  now += 60_000;
  await dir.card('off');
  t.same(reads, [], 'a disabled creator needs no activity read');
  await dir.card('star');
  t.same(reads.map((r) => r.id), ['star'], 'evicted (LRU) or expired: read again');
  t.same([...(await dir.cards(['mid', null, 'mid', 'gone'])).keys()], ['mid'], 'many at once: repeats and nulls fine, unknown left out');
  t.equal((await dir.cardByHandle('h_mid'))?.id, 'mid');
  // April: February's A-List no longer holds, and March earned nothing for "star".
  now = Date.UTC(2026, 3, 2);
  dir.forget('star');
  t.equal((await dir.card('star'))?.level, 'rising-star', 'a level holds one month, not two');
});
