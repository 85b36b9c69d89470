import type pg from 'pg';
import {
  ROOM_MESSAGE_COLUMNS, SHOPPER_COLUMNS, roomMessageFromRow, roomMessageToRow, roomPageSize, shopperFromRow, shopperToRow,
  type RoomMessageRow, type ShopperRow,
} from './room-records.js';
import type { RoomMessageStore, ShopperStore } from './types.js';

/** How the PostgreSQL store runs a call (closed check, in-flight tracking), writes (error translation) and transactions. */
export interface PgCallWrappers {
  run: <T>(fn: () => Promise<T>) => Promise<T>;
  writeOne: <R extends pg.QueryResultRow>(db: Pick<pg.PoolClient, 'query'>, sql: string, values: unknown[]) => Promise<R | undefined>;
  tx: <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>;
}

const M = ROOM_MESSAGE_COLUMNS.join(', ');
const SH = SHOPPER_COLUMNS.join(', ');
/** `$from, $from+1, …` n placeholders of a PostgreSQL parameter list (shared by every pg-*.ts). */
export const args = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/** The room's methods of the PostgreSQL store (shoppers, messages). */
export function pgRoomMethods(pool: pg.Pool, { run, writeOne, tx }: PgCallWrappers): ShopperStore & RoomMessageStore {
  const shopperBy = async (col: 'id' | 'token_hash', v: string) => {
    const r = (await pool.query<ShopperRow>(`SELECT ${SH} FROM shoppers WHERE ${col} = $1`, [v])).rows[0];
    return r ? shopperFromRow(r) : undefined;
  };
  return {
    createShopper: (rec) => run(async () => {
      const row = shopperToRow(rec);
      const r = await writeOne<ShopperRow>(pool, `INSERT INTO shoppers (${SH}) VALUES (${args(SHOPPER_COLUMNS.length)}) RETURNING ${SH}`, SHOPPER_COLUMNS.map((c) => row[c]));
      return shopperFromRow(r!);
    }),
    getShopper: (id) => run(() => shopperBy('id', id)),
    getShopperByTokenHash: (hash) => run(() => shopperBy('token_hash', hash)),
    deleteShopper: (id) => run(() => tx(async (c) => {
      await c.query("DELETE FROM room_messages WHERE author_id = $1 AND author_role = 'shopper'", [id]);
      return ((await c.query('DELETE FROM shoppers WHERE id = $1', [id])).rowCount ?? 0) > 0;
    })),
    addRoomMessage: (rec) => run(async () => {
      const row = roomMessageToRow(rec);
      await writeOne(pool, `INSERT INTO room_messages (${M}) VALUES (${args(ROOM_MESSAGE_COLUMNS.length)})`, ROOM_MESSAGE_COLUMNS.map((c) => row[c]));
    }),
    listRoomMessages: (streamId, o) => run(async () => {
      const n = roomPageSize(o.limit);
      const res = o.after === undefined
        ? await pool.query<RoomMessageRow>(`SELECT ${M} FROM room_messages WHERE stream_id = $1 AND deleted_at IS NULL ORDER BY media_time, id LIMIT $2`, [streamId, n])
        : await pool.query<RoomMessageRow>(`SELECT ${M} FROM room_messages WHERE stream_id = $1 AND deleted_at IS NULL AND media_time > $2 ORDER BY media_time, id LIMIT $3`, [streamId, o.after, n]);
      return res.rows.map(roomMessageFromRow);
    }),
    recentRoomMessages: (streamId, limit) => run(async () => {
      const res = await pool.query<RoomMessageRow>(
        `SELECT ${M} FROM room_messages WHERE stream_id = $1 AND deleted_at IS NULL ORDER BY media_time DESC, id DESC LIMIT $2`, [streamId, roomPageSize(limit)]);
      return res.rows.reverse().map(roomMessageFromRow);
    }),
    deleteRoomMessage: (streamId, id, at) => run(async () =>
      ((await pool.query('UPDATE room_messages SET deleted_at = $1 WHERE stream_id = $2 AND id = $3 AND deleted_at IS NULL', [at, streamId, id])).rowCount ?? 0) > 0),
  };
}
