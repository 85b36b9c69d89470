import type pg from 'pg';
import {
  MAX_BANS_LISTED, MAX_ROOM_MINUTES, ROOM_BAN_COLUMNS, blockedWordsFromText, roomBanFromRow, roomBanId, roomBanToRow, roomMinuteFromRow,
  type RoomBanRow, type RoomMinuteRow,
} from './room-moderation-records.js';
import type { PgCallWrappers } from './pg-room.js';
import type { RoomModerationStore } from './types.js';

const B = ROOM_BAN_COLUMNS.join(', ');

/** Room moderation methods of the PostgreSQL store (bans, blocked words, minute counts). */
export function pgRoomModerationMethods(pool: pg.Pool, { run, writeOne }: PgCallWrappers): RoomModerationStore {
  return {
    putRoomBan: (rec) => run(async () => {
      const row = roomBanToRow(rec);
      await writeOne(pool, `INSERT INTO room_bans (${B}) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET until = excluded.until, created_at = excluded.created_at, issued_by = excluded.issued_by`,
      ROOM_BAN_COLUMNS.map((c) => row[c]));
    }),
    deleteRoomBan: (scope, scopeId, shopperId) => run(async () =>
      ((await pool.query('DELETE FROM room_bans WHERE id = $1', [roomBanId(scope, scopeId, shopperId)])).rowCount ?? 0) > 0),
    listRoomBans: (o) => run(async () => {
      const res = await pool.query<RoomBanRow>(
        `SELECT ${B} FROM room_bans WHERE (stream_id = $1 OR creator_id = $2) AND ($3::text IS NULL OR shopper_id = $3)
         AND (until IS NULL OR until > $4) ORDER BY created_at, id LIMIT $5`, [o.streamId, o.creatorId, o.shopperId ?? null, o.now, MAX_BANS_LISTED]);
      return res.rows.map(roomBanFromRow);
    }),
    getBlockedWords: (creatorId) => run(async () =>
      blockedWordsFromText((await pool.query<{ words: string }>('SELECT words FROM room_blocked_words WHERE creator_id = $1', [creatorId])).rows[0]?.words)),
    putBlockedWords: (creatorId, words, at) => run(async () => {
      // One statement: nothing is written for an unknown creator, and no foreign-key error to translate.
      const r = await writeOne<{ creator_id: string }>(pool, `INSERT INTO room_blocked_words (creator_id, words, updated_at)
        SELECT id, $2, $3 FROM creators WHERE id = $1
        ON CONFLICT (creator_id) DO UPDATE SET words = excluded.words, updated_at = excluded.updated_at RETURNING creator_id`,
      [creatorId, JSON.stringify(words), at]);
      return r !== undefined;
    }),
    addRoomCounts: (streamId, minutes) => run(async () => {
      if (minutes.length === 0) return;
      await writeOne(pool, `INSERT INTO room_minutes (stream_id, start_ms, messages, reactions)
        SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::int[])
        ON CONFLICT (stream_id, start_ms) DO UPDATE SET messages = room_minutes.messages + excluded.messages, reactions = room_minutes.reactions + excluded.reactions`,
      [streamId, minutes.map((m) => m.startMs), minutes.map((m) => m.messages), minutes.map((m) => m.reactions)]);
    }),
    listRoomCounts: (streamId) => run(async () =>
      (await pool.query<RoomMinuteRow>('SELECT start_ms, messages, reactions FROM room_minutes WHERE stream_id = $1 ORDER BY start_ms LIMIT $2', [streamId, MAX_ROOM_MINUTES]))
        .rows.map(roomMinuteFromRow)),
  };
}
