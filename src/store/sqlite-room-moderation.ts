import type { Database } from 'better-sqlite3';
import {
  MAX_BANS_LISTED, MAX_ROOM_MINUTES, ROOM_BAN_COLUMNS, blockedWordsFromText, roomBanFromRow, roomBanId, roomBanToRow, roomMinuteFromRow,
  type RoomBanRow, type RoomMinuteRow,
} from './room-moderation-records.js';
import type { SqliteCallWrappers } from './sqlite-room.js';
import type { RoomMinuteCounts, RoomModerationStore } from './types.js';

const B = ROOM_BAN_COLUMNS.join(', ');

/** Room moderation methods of the SQLite store (bans, blocked words, minute counts), statements prepared once. */
export function sqliteRoomModerationMethods(db: Database, { run, write }: SqliteCallWrappers): RoomModerationStore {
  const q = {
    putBan: db.prepare(`INSERT INTO room_bans (${B}) VALUES (${ROOM_BAN_COLUMNS.map((c) => `@${c}`).join(', ')})
      ON CONFLICT (id) DO UPDATE SET until = excluded.until, created_at = excluded.created_at, issued_by = excluded.issued_by`),
    deleteBan: db.prepare<[string]>('DELETE FROM room_bans WHERE id = ?'),
    bans: db.prepare<[string, string | null, number, number], RoomBanRow>(
      `SELECT ${B} FROM room_bans WHERE (stream_id = ? OR creator_id = ?) AND (until IS NULL OR until > ?) ORDER BY created_at, id LIMIT ?`),
    bansOf: db.prepare<[string, string | null, string, number, number], RoomBanRow>(
      `SELECT ${B} FROM room_bans WHERE (stream_id = ? OR creator_id = ?) AND shopper_id = ? AND (until IS NULL OR until > ?) ORDER BY created_at, id LIMIT ?`),
    words: db.prepare<[string], { words: string }>('SELECT words FROM room_blocked_words WHERE creator_id = ?'),
    creatorExists: db.prepare<[string], { id: string }>('SELECT id FROM creators WHERE id = ?'),
    putWords: db.prepare<[string, string, number]>(`INSERT INTO room_blocked_words (creator_id, words, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (creator_id) DO UPDATE SET words = excluded.words, updated_at = excluded.updated_at`),
    addMinute: db.prepare<[string, number, number, number]>(`INSERT INTO room_minutes (stream_id, start_ms, messages, reactions) VALUES (?, ?, ?, ?)
      ON CONFLICT (stream_id, start_ms) DO UPDATE SET messages = messages + excluded.messages, reactions = reactions + excluded.reactions`),
    minutes: db.prepare<[string, number], RoomMinuteRow>('SELECT start_ms, messages, reactions FROM room_minutes WHERE stream_id = ? ORDER BY start_ms LIMIT ?'),
  };
  const addMinutes = db.transaction((streamId: string, minutes: readonly RoomMinuteCounts[]) => {
    for (const m of minutes) q.addMinute.run(streamId, m.startMs, m.messages, m.reactions);
  });
  return {
    putRoomBan: (rec) => run(() => {
      write(() => q.putBan.run(roomBanToRow(rec)));
    }),
    deleteRoomBan: (scope, scopeId, shopperId) => run(() => q.deleteBan.run(roomBanId(scope, scopeId, shopperId)).changes > 0),
    listRoomBans: (o) => run(() => (o.shopperId === undefined
      ? q.bans.all(o.streamId, o.creatorId, o.now, MAX_BANS_LISTED)
      : q.bansOf.all(o.streamId, o.creatorId, o.shopperId, o.now, MAX_BANS_LISTED)).map(roomBanFromRow)),
    getBlockedWords: (creatorId) => run(() => blockedWordsFromText(q.words.get(creatorId)?.words)),
    putBlockedWords: (creatorId, words, at) => run(() => {
      if (!q.creatorExists.get(creatorId)) return false;
      write(() => q.putWords.run(creatorId, JSON.stringify(words), at));
      return true;
    }),
    addRoomCounts: (streamId, minutes) => run(() => {
      write(() => addMinutes.immediate(streamId, minutes));
    }),
    listRoomCounts: (streamId) => run(() => q.minutes.all(streamId, MAX_ROOM_MINUTES).map(roomMinuteFromRow)),
  };
}
