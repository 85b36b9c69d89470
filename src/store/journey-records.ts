import type { FollowRecord } from './types.js';
import { pageSize } from './records.js';
import { encodeStreamCursor } from './stream-cursor.js';

/**
 * Row <-> record mapping and paging rules for the creator's journey tables (followers), shared by
 * the SQLite and PostgreSQL stores so both hand callers the same records and pages.
 */

export interface FollowRow {
  creator_id: string;
  shopper_id: string;
  created_at: number;
}

/** The most ids one listFollowers batch returns, whatever limit asks for. */
export const MAX_FOLLOWER_BATCH = 10_000;

/** A follow record from its row. */
export function followFromRow(r: FollowRow): FollowRecord {
  return { creatorId: r.creator_id, shopperId: r.shopper_id, createdAt: r.created_at };
}

/** The batch size listFollowers uses (at least 1, at most MAX_FOLLOWER_BATCH). */
export function followerBatch(limit: number): number {
  return Math.min(pageSize(limit), MAX_FOLLOWER_BATCH);
}

/** A page of follows from `take + 1` rows: the extra row says whether another page exists. */
export function followPage(rows: FollowRow[], take: number): { items: FollowRecord[]; nextCursor: string | null } {
  const items = rows.slice(0, take).map(followFromRow);
  const last = items[items.length - 1];
  // The cursor is the last row's sort key (created_at DESC, creator_id DESC), as for streams.
  return { items, nextCursor: rows.length > take && last ? encodeStreamCursor({ createdAt: last.createdAt, id: last.creatorId }) : null };
}
