import { ShowcaseError } from '../core/errors.js';
import type { RoomAuthorRole, RoomMessageRecord, ShopperRecord } from './types.js';

/**
 * Row <-> record mapping for the room's tables (shoppers, room_messages), shared by the SQLite and
 * PostgreSQL stores so both hand callers the same records.
 */

/** The most messages one listRoomMessages / recentRoomMessages call returns. */
export const MAX_ROOM_PAGE = 500;

export const SHOPPER_COLUMNS = ['id', 'display_name', 'token_hash', 'created_at'] as const;
export const ROOM_MESSAGE_COLUMNS = ['id', 'stream_id', 'author_id', 'author_role', 'author_name', 'text', 'at', 'media_time', 'deleted_at'] as const;

export interface ShopperRow {
  id: string;
  display_name: string;
  token_hash: string;
  created_at: number;
}

export interface RoomMessageRow {
  id: string;
  stream_id: string;
  author_id: string;
  author_role: RoomAuthorRole;
  author_name: string;
  text: string;
  at: number;
  media_time: number;
  deleted_at: number | null;
}

/** A shopper record from its row. */
export function shopperFromRow(r: ShopperRow): ShopperRecord {
  return { id: r.id, displayName: r.display_name, tokenHash: r.token_hash, createdAt: r.created_at };
}

/** The row of a shopper record. */
export function shopperToRow(s: ShopperRecord): ShopperRow {
  return { id: s.id, display_name: s.displayName, token_hash: s.tokenHash, created_at: s.createdAt };
}

/** A message record from its row. */
export function roomMessageFromRow(r: RoomMessageRow): RoomMessageRecord {
  return {
    id: r.id, streamId: r.stream_id, authorId: r.author_id, authorRole: r.author_role, authorName: r.author_name,
    text: r.text, at: r.at, mediaTime: r.media_time, deletedAt: r.deleted_at,
  };
}

/** The row of a message record. */
export function roomMessageToRow(m: RoomMessageRecord): RoomMessageRow {
  return {
    id: m.id, stream_id: m.streamId, author_id: m.authorId, author_role: m.authorRole, author_name: m.authorName,
    text: m.text, at: m.at, media_time: m.mediaTime, deleted_at: m.deletedAt,
  };
}

/** The page size for a requested room-message limit; BAD_REQUEST for a non-positive or non-integer one. */
export function roomPageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'limit must be a positive integer');
  return Math.min(limit, MAX_ROOM_PAGE);
}
