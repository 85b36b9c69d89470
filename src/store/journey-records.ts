import type { FollowRecord, Page, ProductStream, StreamRecord } from './types.js';
import { pageSize } from './records.js';
import { encodeStreamCursor } from './stream-cursor.js';
import { PRODUCT_COLUMNS, productFromRow, type ProductRow } from './commerce-records.js';

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

/** The product columns of a products-join-streams query, each aliased `p_<column>` (both tables have id, title, created_at). */
export const PRODUCT_ALIASED = PRODUCT_COLUMNS.map((c) => `p.${c} AS p_${c}`).join(', ');

/** The product half of a joined row (its `p_` columns) as a ProductRow. */
export function aliasedProductRow(r: Record<string, unknown>): ProductRow {
  return Object.fromEntries(PRODUCT_COLUMNS.map((c) => [c, r[`p_${c}`]])) as unknown as ProductRow;
}

/**
 * Stream/product rows (live first, then newest start; a stream's products by position) to one
 * entry per stream, its first matching product, at most `take`.
 */
export function productStreams(rows: Array<{ stream: StreamRecord; product: ProductRow }>, take: number): ProductStream[] {
  const seen = new Set<string>();
  const out: ProductStream[] = [];
  for (const r of rows) {
    if (seen.has(r.stream.id)) continue;
    seen.add(r.stream.id);
    out.push({ stream: r.stream, product: productFromRow(r.product) });
    if (out.length >= take) break;
  }
  return out;
}

/** A page of past streams from `take + 1` rows; the cursor is the last one's (started_at, id). */
export function pastPage(rows: StreamRecord[], take: number): Page<StreamRecord> {
  const items = rows.slice(0, take);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > take && last ? encodeStreamCursor({ createdAt: last.startedAt ?? 0, id: last.id }) : null };
}
