/**
 * Creator levels (issue 15): Rising Star, Insider, A-List, earned per calendar month (UTC) by
 * minutes streamed (live, non-practice) and sales (attributed conversions). A level earned in a
 * month holds through the next one. Pure: callers pass the live intervals and sales they read from
 * the store, so this is unit-testable across month boundaries without a clock or a database.
 */

/** A creator's level, lowest first. */
export type CreatorLevel = 'rising-star' | 'insider' | 'a-list';

/** Levels in ascending order (the index is the rank). */
export const LEVELS: readonly CreatorLevel[] = ['rising-star', 'insider', 'a-list'];

/** What a level needs within one calendar month. */
export interface LevelThreshold { minutes: number; sales: number }

/** The thresholds of the two earned levels (`journey.levels`). */
export interface LevelThresholds { insider: LevelThreshold; aList: LevelThreshold }

/** The defaults from the issue: Insider 300 min + 5 sales, A-List 1,000 min + 25 sales. */
export const DEFAULT_LEVEL_THRESHOLDS: LevelThresholds = {
  insider: { minutes: 300, sales: 5 },
  aList: { minutes: 1000, sales: 25 },
};

/** One span a stream was live (epoch ms); practice streams must be left out by the caller. */
export interface LiveInterval { startedAt: number; endedAt: number }

/** Attributed sales at one instant (epoch ms): how many, and their amount in the store's units (ten-thousandths). */
export interface Sale { at: number; currency: string; amountUnits: number; count?: number }

/** The progress to the next level, or null at the top. */
export interface LevelProgress { nextLevel: CreatorLevel; minutesNeeded: number; salesNeeded: number }

/** One month of a creator's stats, in the shape GET /v1/creators/:id/stats returns. */
export interface MonthStats {
  month: string;
  minutesStreamed: number;
  sales: number;
  revenueUnits: Record<string, number>;
  /** The level held during this month (earned in it or in the month before). */
  level: CreatorLevel;
  progress: LevelProgress | null;
}

/** "YYYY-MM" of an epoch-ms instant, in UTC. */
export function monthKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Epoch ms of the first instant of the UTC month after the one holding `ms`. */
function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The "YYYY-MM" before a "YYYY-MM". */
export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return monthKey(Date.UTC(y, m - 2, 1));
}

/** Milliseconds live per month: an interval spanning a month boundary splits at midnight UTC of the 1st. */
export function msLiveByMonth(intervals: readonly LiveInterval[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { startedAt, endedAt } of intervals) {
    let from = startedAt;
    // Bounded: one step per month crossed; a malformed interval (end before start) adds nothing.
    while (from < endedAt) {
      const to = Math.min(endedAt, nextMonthStart(from));
      const key = monthKey(from);
      out.set(key, (out.get(key) ?? 0) + (to - from));
      from = to;
    }
  }
  return out;
}

/** The level one month's minutes and sales earn by themselves. */
export function earnedLevel(minutes: number, sales: number, t: LevelThresholds): CreatorLevel {
  if (minutes >= t.aList.minutes && sales >= t.aList.sales) return 'a-list';
  if (minutes >= t.insider.minutes && sales >= t.insider.sales) return 'insider';
  return 'rising-star';
}

/** The higher of two levels. */
export function maxLevel(a: CreatorLevel, b: CreatorLevel): CreatorLevel {
  return LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b;
}

/** What is still missing this month for the level above the one held, or null at A-List. */
export function progressFrom(held: CreatorLevel, minutes: number, sales: number, t: LevelThresholds): LevelProgress | null {
  const next = LEVELS[LEVELS.indexOf(held) + 1];
  if (next === undefined) return null;
  const need = next === 'a-list' ? t.aList : t.insider;
  return {
    nextLevel: next,
    minutesNeeded: Math.max(0, need.minutes - minutes),
    salesNeeded: Math.max(0, need.sales - sales),
  };
}

/**
 * Per-month stats from the first month with activity to the month of `now`, oldest first, and the
 * level held now. Minutes are the month's live milliseconds floored to whole minutes, so a stream
 * spanning midnight of the 1st counts its minutes in each month it was live in.
 */
export function computeLevels(
  intervals: readonly LiveInterval[], sales: readonly Sale[], now: number, t: LevelThresholds,
): { level: CreatorLevel; months: MonthStats[] } {
  const ms = msLiveByMonth(intervals.map((i) => ({ startedAt: i.startedAt, endedAt: Math.min(i.endedAt, now) })));
  const salesBy = new Map<string, { count: number; revenue: Record<string, number> }>();
  for (const s of sales) {
    if (s.at > now) continue;
    const key = monthKey(s.at);
    const m = salesBy.get(key) ?? { count: 0, revenue: {} };
    m.count += s.count ?? 1;
    m.revenue[s.currency] = (m.revenue[s.currency] ?? 0) + s.amountUnits;
    salesBy.set(key, m);
  }
  const current = monthKey(now);
  const keys = [...ms.keys(), ...salesBy.keys()].sort();
  const first = keys[0] ?? current;
  const months: MonthStats[] = [];
  let earnedBefore: CreatorLevel = 'rising-star';
  // Walk every month from the first to now so an empty month still shows the level carried into it.
  for (let key = first, guard = 0; key <= current && guard < 1200; guard += 1) {
    const minutes = Math.floor((ms.get(key) ?? 0) / 60_000);
    const s = salesBy.get(key);
    const count = s?.count ?? 0;
    const earned = earnedLevel(minutes, count, t);
    const level = maxLevel(earned, earnedBefore);
    months.push({ month: key, minutesStreamed: minutes, sales: count, revenueUnits: { ...(s?.revenue ?? {}) }, level, progress: progressFrom(level, minutes, count, t) });
    earnedBefore = earned;
    const [y, m] = key.split('-').map(Number) as [number, number];
    key = monthKey(Date.UTC(y, m, 1));
  }
  return { level: months[months.length - 1]?.level ?? 'rising-star', months };
}

/** One row candidate for placement ordering (home page, GET /v1/live, product placements). */
export interface PlacementCandidate { level: CreatorLevel; popularity: number; id: string }

/** Placement order: A-List, then Insider, then Rising Star, then most watched; the id breaks ties stably. */
export function comparePlacement(a: PlacementCandidate, b: PlacementCandidate): number {
  return LEVELS.indexOf(b.level) - LEVELS.indexOf(a.level) || b.popularity - a.popularity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
