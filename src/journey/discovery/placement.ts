/**
 * Placement order (issue 15): listings put A-List creators first (the home page's featured slot),
 * then Insider, then Rising Star; within a level the most watched first. Pure functions over
 * already-read rows, so the order is unit-testable without a server.
 */
import type { StreamRecord } from '../../store/types.js';
import { LEVELS, comparePlacement, type CreatorLevel } from '../levels/creator-levels.js';

/** A row to place: the stream, its creator's level (operator streams: rising-star) and its current viewers. */
export interface PlacedStream {
  stream: StreamRecord;
  level: CreatorLevel;
  viewers: number;
}

const rank = (l: CreatorLevel): number => LEVELS.indexOf(l);

/** "Live now": level (A-List first), then current viewers, then the stream id (stable). */
export function orderLive<T extends PlacedStream>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => comparePlacement(
    { level: a.level, popularity: a.viewers, id: a.stream.id },
    { level: b.level, popularity: b.viewers, id: b.stream.id },
  ));
}

/** "Upcoming": level (A-List first), then the soonest scheduled (nobody watches yet), then the id. */
export function orderUpcoming<T extends PlacedStream>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => rank(b.level) - rank(a.level)
    || (a.stream.scheduledAt ?? 0) - (b.stream.scheduledAt ?? 0)
    || (a.stream.id < b.stream.id ? -1 : a.stream.id > b.stream.id ? 1 : 0));
}

/** The featured slot: the first live row when its creator is A-List, else none. */
export function featuredOf<T extends PlacedStream>(ordered: readonly T[]): T | undefined {
  const first = ordered[0];
  return first?.level === 'a-list' ? first : undefined;
}

/** The levels whose streams product placements list (Insider and A-List). */
export const PLACEMENT_LEVELS: ReadonlySet<CreatorLevel> = new Set<CreatorLevel>(['insider', 'a-list']);

/**
 * Product placements: Insider and A-List rows only; level first, then live before recent, then
 * current viewers, then the newest start.
 */
export function orderProductStreams<T extends PlacedStream>(rows: readonly T[]): T[] {
  const live = (r: PlacedStream): number => (r.stream.state === 'live' ? 1 : 0);
  return rows.filter((r) => PLACEMENT_LEVELS.has(r.level)).sort((a, b) => rank(b.level) - rank(a.level)
    || live(b) - live(a)
    || b.viewers - a.viewers
    || (b.stream.startedAt ?? 0) - (a.stream.startedAt ?? 0)
    || (a.stream.id < b.stream.id ? -1 : a.stream.id > b.stream.id ? 1 : 0));
}
