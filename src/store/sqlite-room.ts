import type { Database } from 'better-sqlite3';
import {
  ROOM_MESSAGE_COLUMNS, SHOPPER_COLUMNS, roomMessageFromRow, roomMessageToRow, roomPageSize, shopperFromRow, shopperToRow,
  type RoomMessageRow, type ShopperRow,
} from './room-records.js';
import type { RoomMessageStore, ShopperStore } from './types.js';

/** How the SQLite store runs a call (closed check, throw -> rejection) and translates constraint errors. */
export interface SqliteCallWrappers {
  run: <T>(fn: () => T) => Promise<T>;
  write: <T>(fn: () => T) => T;
}

const M = ROOM_MESSAGE_COLUMNS.join(', ');
const SH = SHOPPER_COLUMNS.join(', ');

/** The room's methods of the SQLite store (shoppers, messages), statements prepared once. */
export function sqliteRoomMethods(db: Database, { run, write }: SqliteCallWrappers): ShopperStore & RoomMessageStore {
  const q = {
    insertShopper: db.prepare(`INSERT INTO shoppers (${SH}) VALUES (${SHOPPER_COLUMNS.map((c) => `@${c}`).join(', ')})`),
    shopperById: db.prepare<[string], ShopperRow>(`SELECT ${SH} FROM shoppers WHERE id = ?`),
    shopperByToken: db.prepare<[string], ShopperRow>(`SELECT ${SH} FROM shoppers WHERE token_hash = ?`),
    deleteShopper: db.prepare<[string]>('DELETE FROM shoppers WHERE id = ?'),
    deleteAuthorMessages: db.prepare<[string]>("DELETE FROM room_messages WHERE author_id = ? AND author_role = 'shopper'"),
    insertMessage: db.prepare(`INSERT INTO room_messages (${M}) VALUES (${ROOM_MESSAGE_COLUMNS.map((c) => `@${c}`).join(', ')})`),
    listAll: db.prepare<[string, number], RoomMessageRow>(
      `SELECT ${M} FROM room_messages WHERE stream_id = ? AND deleted_at IS NULL ORDER BY media_time, id LIMIT ?`),
    listAfter: db.prepare<[string, number, number], RoomMessageRow>(
      `SELECT ${M} FROM room_messages WHERE stream_id = ? AND deleted_at IS NULL AND media_time > ? ORDER BY media_time, id LIMIT ?`),
    recent: db.prepare<[string, number], RoomMessageRow>(
      `SELECT ${M} FROM room_messages WHERE stream_id = ? AND deleted_at IS NULL ORDER BY media_time DESC, id DESC LIMIT ?`),
    deleteMessage: db.prepare<[number, string, string]>('UPDATE room_messages SET deleted_at = ? WHERE stream_id = ? AND id = ? AND deleted_at IS NULL'),
  };
  const deleteShopperTx = db.transaction((id: string): boolean => {
    q.deleteAuthorMessages.run(id);
    return q.deleteShopper.run(id).changes > 0;
  });
  return {
    createShopper: (rec) => run(() => {
      write(() => q.insertShopper.run(shopperToRow(rec)));
      return shopperFromRow(q.shopperById.get(rec.id)!);
    }),
    getShopper: (id) => run(() => {
      const r = q.shopperById.get(id);
      return r ? shopperFromRow(r) : undefined;
    }),
    getShopperByTokenHash: (hash) => run(() => {
      const r = q.shopperByToken.get(hash);
      return r ? shopperFromRow(r) : undefined;
    }),
    deleteShopper: (id) => run(() => deleteShopperTx.immediate(id)),
    addRoomMessage: (rec) => run(() => {
      write(() => q.insertMessage.run(roomMessageToRow(rec)));
    }),
    listRoomMessages: (streamId, o) => run(() => {
      const n = roomPageSize(o.limit);
      const rows = o.after === undefined ? q.listAll.all(streamId, n) : q.listAfter.all(streamId, o.after, n);
      return rows.map(roomMessageFromRow);
    }),
    recentRoomMessages: (streamId, limit) => run(() => q.recent.all(streamId, roomPageSize(limit)).reverse().map(roomMessageFromRow)),
    deleteRoomMessage: (streamId, id, at) => run(() => q.deleteMessage.run(at, streamId, id).changes > 0),
  };
}
