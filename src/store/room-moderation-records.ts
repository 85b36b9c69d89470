import type { RoomBanRecord, RoomBanScope, RoomMinuteCounts } from './types.js';

/**
 * Row <-> record mapping for the room's moderation tables (room_bans, room_blocked_words,
 * room_minutes), shared by the SQLite and PostgreSQL stores.
 */

/** The most bans one listRoomBans call returns, and room minutes one listRoomCounts call returns. */
export const MAX_BANS_LISTED = 1000;
export const MAX_ROOM_MINUTES = 10_000;

export interface RoomBanRow {
  id: string;
  shopper_id: string;
  stream_id: string | null;
  creator_id: string | null;
  until: number | null;
  created_at: number;
  issued_by: string;
}

export const ROOM_BAN_COLUMNS = ['id', 'shopper_id', 'stream_id', 'creator_id', 'until', 'created_at', 'issued_by'] as const;

/** The row id of a ban: one ban per shopper and scope. */
export function roomBanId(scope: RoomBanScope, scopeId: string, shopperId: string): string {
  return `${scope}:${scopeId}:${shopperId}`;
}

/** The row of a ban record. */
export function roomBanToRow(b: RoomBanRecord): RoomBanRow {
  return {
    id: roomBanId(b.scope, b.scopeId, b.shopperId), shopper_id: b.shopperId,
    stream_id: b.scope === 'stream' ? b.scopeId : null, creator_id: b.scope === 'creator' ? b.scopeId : null,
    until: b.until, created_at: b.createdAt, issued_by: b.by,
  };
}

/** A ban record from its row. */
export function roomBanFromRow(r: RoomBanRow): RoomBanRecord {
  const scope: RoomBanScope = r.stream_id !== null ? 'stream' : 'creator';
  return { scope, scopeId: (r.stream_id ?? r.creator_id)!, shopperId: r.shopper_id, until: r.until, createdAt: r.created_at, by: r.issued_by };
}

/** Blocked words as stored (a JSON array), read back tolerantly: anything but an array of strings is none. */
export function blockedWordsFromText(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((w): w is string => typeof w === 'string') : [];
  } catch {
    return [];
  }
}

export interface RoomMinuteRow {
  start_ms: number;
  messages: number;
  reactions: number;
}

/** A room minute from its row. */
export function roomMinuteFromRow(r: RoomMinuteRow): RoomMinuteCounts {
  return { startMs: r.start_ms, messages: r.messages, reactions: r.reactions };
}
