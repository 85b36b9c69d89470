import pg from 'pg';
import type { Logger } from '../core/logger.js';
import { ShowcaseError } from '../core/errors.js';
import { migratePg } from './pg-migrations.js';
import { pgCommerce } from './pg-commerce.js';
import {
  ANALYTICS_COLUMNS, CREATOR_COLUMNS, MAX_RENEW_IDS, MINUTE_COLUMNS, RECORDING_COLUMNS, STREAM_COLUMNS,
  analyticsFromRows, analyticsToRow, closedError, creatorFromRow, creatorToRow, minutesToRows, pageSize, patchedStream,
  recordingFromRow, recordingToRow, streamFromRow, streamToRow,
  type AnalyticsRow, type CreatorRow, type MinuteRow, type RecordingRow, type StreamRow,
} from './records.js';
import { StoreError, isStoreError } from './store-error.js';
import { decodeStreamCursor, encodeStreamCursor } from './stream-cursor.js';
import { args, pgRoomMethods } from './pg-room.js';
import { pgJourneyMethods } from './pg-journey.js';
import { pgNotifyMethods } from './pg-notify.js';
import { pgRoomModerationMethods } from './pg-room-moderation.js';
import type { CreatorRecord, Store, StreamRecord } from './types.js';

/** Options for openPgStore. */
export interface PgStoreOptions {
  /** postgres://user:pass@host:port/db (or postgresql://); a host of /path is a unix socket folder. */
  url: string;
  logger?: Logger;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
}

const cols = (c: readonly string[]): string => c.join(', ');
/** $1, $2, … for n values from `from`. */
const S = cols(STREAM_COLUMNS);
const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC';

// bigint (int8, OID 20) columns hold millisecond timestamps and byte counts, all far below 2^53:
// numbers, not the strings node-postgres returns by default. Set per pool, not globally.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

/**
 * Maps PostgreSQL's constraint errors (SQLSTATE class 23, and values a column type refuses) to the
 * errors callers handle, as the SQLite store does: unique -> CONFLICT, foreign key and check ->
 * VALIDATION. Anything else is rethrown as is.
 */
function translateWriteError(err: unknown): never {
  const e = err as { code?: unknown; constraint?: unknown; message?: string };
  const constraint = typeof e.constraint === 'string' ? e.constraint : undefined;
  switch (e.code) {
    case '23505':
      throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', `Already exists (${constraint ?? 'unique'})`, { constraint });
    case '23503':
      throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'Referenced record does not exist', { constraint: 'foreign key' });
    case '23502': case '23514': case '22P02': case '22003': case '22001':
      throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `Value rejected by the store (${constraint ?? e.message ?? 'invalid value'})`, { constraint });
    default:
      throw err;
  }
}

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Opens the PostgreSQL store: a connection pool, migrated at once (under an advisory lock, so
 * several nodes may start together). Throws StoreError UNAVAILABLE when the server cannot be
 * reached or refuses us, TOO_NEW for a schema from a newer build.
 */
export async function openPgStore(opts: PgStoreOptions): Promise<Store> {
  const where = redactUrl(opts.url);
  const log = opts.logger;
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.maxConnections ?? 10, types, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client's connection dropping (server restart) must not crash the process.
  pool.on('error', (err) => log?.warn({ err, store: where }, 'store connection lost; the pool reconnects on the next query'));
  let schemaVersion: number;
  try {
    const client = await pool.connect();
    try {
      schemaVersion = await migratePg(client, where, log);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    if (isStoreError(err)) throw err;
    const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'error';
    throw new StoreError('SHOWCASE_ERR_STORE_UNAVAILABLE', where, `store ${where} cannot be used (${code}: ${(err as Error).message})`, { cause: err });
  }
  log?.debug({ store: where, schemaVersion }, 'store opened');

  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  /** Runs an operation unless closed, and tracks it so close() waits for it. */
  const run = <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(closedError());
    const p = fn();
    inFlight.add(p);
    const done = (): void => void inFlight.delete(p);
    p.then(done, done);
    return p;
  };
  const one = async <R extends pg.QueryResultRow>(db: Queryable, sql: string, values: unknown[]): Promise<R | undefined> => (await db.query<R>(sql, values)).rows[0];
  const writeOne = async <R extends pg.QueryResultRow>(db: Queryable, sql: string, values: unknown[]): Promise<R | undefined> => {
    try {
      return await one<R>(db, sql, values);
    } catch (err) {
      return translateWriteError(err);
    }
  };
  /** fn inside BEGIN … COMMIT on one pooled connection (rolled back on any throw). */
  const tx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  };

  const creatorBy = async (col: 'id' | 'handle' | 'token_hash', v: string): Promise<CreatorRecord | undefined> => {
    const r = await one<CreatorRow>(pool, `SELECT ${cols(CREATOR_COLUMNS)} FROM creators WHERE ${col} = $1`, [v]);
    return r ? creatorFromRow(r) : undefined;
  };
  const streamBy = async (db: Queryable, col: 'id' | 'stream_key_hash', v: string, lock = ''): Promise<StreamRecord | undefined> => {
    const r = await one<StreamRow>(db, `SELECT ${S} FROM streams WHERE ${col} = $1 ${lock}`, [v]);
    return r ? streamFromRow(r) : undefined;
  };
  const rowValues = (row: StreamRow): unknown[] => STREAM_COLUMNS.map((c) => (c === 'extra' ? JSON.stringify(row.extra) : row[c]));

  const store: Store = {
    kind: 'postgres',
    schemaVersion,

    createCreator: (rec) => run(async () => {
      const row = creatorToRow(rec);
      const r = await writeOne<CreatorRow>(pool, `INSERT INTO creators (${cols(CREATOR_COLUMNS)}) VALUES (${args(CREATOR_COLUMNS.length)}) RETURNING ${cols(CREATOR_COLUMNS)}`, CREATOR_COLUMNS.map((c) => row[c]));
      return creatorFromRow(r!);
    }),
    getCreator: (id) => run(() => creatorBy('id', id)),
    getCreatorByHandle: (handle) => run(() => creatorBy('handle', handle)),
    getCreatorByTokenHash: (hash) => run(() => creatorBy('token_hash', hash)),
    // One statement: COALESCE keeps a field the patch leaves out, so no transaction is needed.
    updateCreator: (id, patch) => run(async () => {
      const r = await writeOne<CreatorRow>(pool,
        `UPDATE creators SET token_hash = COALESCE($2, token_hash), disabled = COALESCE($3, disabled), display_name = COALESCE($4, display_name)
         WHERE id = $1 RETURNING ${cols(CREATOR_COLUMNS)}`,
        [id, patch.tokenHash ?? null, patch.disabled ?? null, patch.displayName ?? null]);
      return r ? creatorFromRow(r) : undefined;
    }),

    createStream: (rec) => run(async () => {
      const r = await writeOne<StreamRow>(pool, `INSERT INTO streams (${S}) VALUES (${args(STREAM_COLUMNS.length)}) RETURNING ${S}`, rowValues(streamToRow(rec)));
      return streamFromRow(r!);
    }),
    getStream: (id) => run(() => streamBy(pool, 'id', id)),
    getStreamByKeyHash: (hash) => run(() => streamBy(pool, 'stream_key_hash', hash)),
    listStreams: ({ ownerId, limit, cursor }) => run(async () => {
      const take = pageSize(limit);
      const after = cursor ? decodeStreamCursor(cursor) : undefined;
      const where: string[] = [];
      const values: unknown[] = [];
      if (ownerId !== undefined) {
        values.push(ownerId);
        where.push(`owner_id IS NOT DISTINCT FROM $${values.length}`);
      }
      if (after) {
        values.push(after.createdAt, after.id);
        where.push(`(created_at, id) < ($${values.length - 1}, $${values.length})`);
      }
      values.push(take + 1);
      const sql = `SELECT ${S} FROM streams ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${NEWEST_FIRST} LIMIT $${values.length}`;
      const rows = (await pool.query<StreamRow>(sql, values)).rows;
      const items = rows.slice(0, take).map(streamFromRow);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > take && last ? encodeStreamCursor({ createdAt: last.createdAt, id: last.id }) : null };
    }),
    // Read-modify-write under a row lock, so concurrent patches to extra merge instead of racing.
    updateStream: (id, patch) => run(() => tx(async (c) => {
      const current = await streamBy(c, 'id', id, 'FOR UPDATE');
      if (!current) return undefined;
      const row = streamToRow(patchedStream(current, patch as Partial<StreamRecord>));
      const set = STREAM_COLUMNS.filter((n) => n !== 'id' && n !== 'created_at');
      const r = await writeOne<StreamRow>(c, `UPDATE streams SET ${set.map((n, i) => `${n} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING ${S}`,
        [id, ...set.map((n) => (n === 'extra' ? JSON.stringify(row.extra) : row[n]))]);
      return r ? streamFromRow(r) : undefined;
    })),
    deleteStream: (id) => run(async () => ((await pool.query('DELETE FROM streams WHERE id = $1', [id])).rowCount ?? 0) > 0),
    listStreamsInState: (state) => run(async () => (await pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE state = $1 ${NEWEST_FIRST}`, [state])).rows.map(streamFromRow)),

    claimLive: (id, o) => run(async () => {
      const r = await one<StreamRow>(pool,
        `UPDATE streams SET state = 'live', lease_node_id = $2, lease_expires_at = $3, started_at = COALESCE(started_at, $4)
         WHERE id = $1 AND state <> 'ended'
           AND (state <> 'live' OR lease_node_id IS NULL OR lease_node_id = $2 OR lease_expires_at IS NULL OR lease_expires_at <= $5)
         RETURNING ${S}`, [id, o.nodeId, o.expiresAt, o.startedAt, o.now]);
      if (r) return { ok: true as const, rec: streamFromRow(r) };
      const rec = await streamBy(pool, 'id', id);
      return { ok: false as const, why: !rec ? 'missing' as const : rec.state === 'ended' ? 'ended' as const : 'held' as const, ...(rec ? { rec } : {}) };
    }),
    renewLeases: (nodeId, ids, expiresAt) => run(async () => {
      if (ids.length === 0) return [];
      if (ids.length > MAX_RENEW_IDS) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', `at most ${MAX_RENEW_IDS} leases per renewal`);
      const res = await pool.query<{ id: string }>(
        `UPDATE streams SET lease_expires_at = $1 WHERE lease_node_id = $2 AND state = 'live' AND id = ANY($3::text[]) RETURNING id`, [expiresAt, nodeId, ids]);
      return res.rows.map((r) => r.id);
    }),
    releaseLive: (id, nodeId, patch) => run(async () => {
      const r = await writeOne<StreamRow>(pool,
        `UPDATE streams SET state = $3, ended_at = $4, end_reason = $5,
           lease_node_id = CASE WHEN $6::bigint IS NULL THEN NULL ELSE $2 END, lease_expires_at = $6::bigint
         WHERE id = $1 AND (lease_node_id IS NULL OR lease_node_id = $2) RETURNING ${S}`,
        [id, nodeId, patch.state, patch.endedAt ?? null, patch.endReason ?? null, patch.state === 'interrupted' ? (patch.interruptedAt ?? null) : null]);
      return r ? streamFromRow(r) : undefined;
    }),
    interruptExpiredLive: (o) => run(async () => {
      const res = await pool.query<{ id: string }>(
        `UPDATE streams SET state = 'interrupted', lease_expires_at = $2
         WHERE state = 'live' AND lease_node_id IS NOT NULL AND ($1::text IS NULL OR lease_node_id <> $1::text) AND lease_expires_at <= $2 RETURNING id`,
        [o.ownNodeId ?? null, o.now]);
      return res.rows.map((r) => r.id);
    }),
    interruptLiveOf: (id, nodeId, now) => run(async () => {
      const res = await pool.query(`UPDATE streams SET state = 'interrupted', lease_expires_at = $3 WHERE id = $1 AND state = 'live' AND lease_node_id = $2`, [id, nodeId, now]);
      return (res.rowCount ?? 0) > 0;
    }),
    endExpiredInterrupted: (o) => run(async () => {
      const res = await pool.query<{ id: string }>(
        `UPDATE streams SET state = 'ended', ended_at = $2, end_reason = $3, lease_node_id = NULL, lease_expires_at = NULL
         WHERE state = 'interrupted' AND lease_node_id IS NOT NULL AND lease_expires_at <= $1 RETURNING id`,
        [o.before, o.now, o.endReason]);
      return res.rows.map((r) => r.id);
    }),
    adoptInterrupted: (nodeId, ids, now) => run(async () => {
      if (ids.length === 0) return [];
      if (ids.length > MAX_RENEW_IDS) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', `at most ${MAX_RENEW_IDS} streams per adoption`);
      const res = await pool.query<{ id: string }>(
        `UPDATE streams SET lease_node_id = $1, lease_expires_at = $2
         WHERE state = 'interrupted' AND (lease_node_id IS NULL OR lease_node_id = $1) AND id = ANY($3::text[]) RETURNING id`, [nodeId, now, ids]);
      return res.rows.map((r) => r.id);
    }),
    endAbandonedLive: (o) => run(async () => {
      const res = await pool.query<{ id: string }>(
        `UPDATE streams SET state = 'ended', ended_at = $2, end_reason = $3, lease_node_id = NULL, lease_expires_at = NULL
         WHERE state = 'live' AND (lease_node_id IS NULL OR lease_node_id = $1 OR lease_expires_at IS NULL OR lease_expires_at <= $2) RETURNING id`,
        [o.ownNodeId ?? null, o.now, o.endReason]);
      return res.rows.map((r) => r.id);
    }),

    getRecording: (streamId) => run(async () => {
      const r = await one<RecordingRow>(pool, `SELECT ${cols(RECORDING_COLUMNS)} FROM recordings WHERE stream_id = $1`, [streamId]);
      return r ? recordingFromRow(r) : undefined;
    }),
    putRecording: (streamId, rec) => run(async () => {
      const row = recordingToRow(rec);
      try {
        await pool.query(
          `INSERT INTO recordings (stream_id, ${cols(RECORDING_COLUMNS)}) VALUES ($1, ${args(RECORDING_COLUMNS.length, 2)})
           ON CONFLICT (stream_id) DO UPDATE SET ${RECORDING_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
          [streamId, ...RECORDING_COLUMNS.map((c) => row[c])]);
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === '23503') return false; // the stream is gone
        return translateWriteError(err);
      }
    }),
    getAnalytics: (streamId) => run(async () => {
      const r = await one<AnalyticsRow>(pool, `SELECT ${cols(ANALYTICS_COLUMNS)} FROM stream_analytics WHERE stream_id = $1`, [streamId]);
      if (!r) return undefined;
      const minutes = await pool.query<MinuteRow>(`SELECT ${cols(MINUTE_COLUMNS)} FROM stream_analytics_minutes WHERE stream_id = $1 ORDER BY start_ms`, [streamId]);
      return analyticsFromRows(r, minutes.rows);
    }),
    putAnalytics: (streamId, a) => run(() => tx(async (c) => {
      // The stream row locked first: a concurrent delete waits, and a missing stream writes nothing.
      if (!(await one(c, 'SELECT 1 FROM streams WHERE id = $1 FOR KEY SHARE', [streamId]))) return false;
      const row = analyticsToRow(a);
      await writeOne(c,
        `INSERT INTO stream_analytics (stream_id, ${cols(ANALYTICS_COLUMNS)}) VALUES ($1, ${args(ANALYTICS_COLUMNS.length, 2)})
         ON CONFLICT (stream_id) DO UPDATE SET ${ANALYTICS_COLUMNS.map((n) => `${n} = excluded.${n}`).join(', ')}`,
        [streamId, ...ANALYTICS_COLUMNS.map((n) => row[n])]);
      const minutes = minutesToRows(a);
      if (minutes.length === 0) {
        await c.query('DELETE FROM stream_analytics_minutes WHERE stream_id = $1', [streamId]);
        return true;
      }
      await c.query('DELETE FROM stream_analytics_minutes WHERE stream_id = $1 AND start_ms < $2', [streamId, minutes[0]!.start_ms]);
      // One statement for the whole timeline (up to a week of minutes), column arrays unnested.
      await writeOne(c,
        `INSERT INTO stream_analytics_minutes (stream_id, ${cols(MINUTE_COLUMNS)})
         SELECT $1, * FROM unnest($2::bigint[], $3::float8[], $4::int[], $5::float8[], $6::float8[])
         ON CONFLICT (stream_id, start_ms) DO UPDATE SET ${MINUTE_COLUMNS.slice(1).map((n) => `${n} = excluded.${n}`).join(', ')}`,
        [streamId, ...MINUTE_COLUMNS.map((n) => minutes.map((m) => m[n]))]);
      return true;
    })),

    ...pgRoomMethods(pool, { run, writeOne, tx }),
    ...pgJourneyMethods(pool, { run, writeOne, tx }),
    ...pgNotifyMethods(pool, { run, writeOne, tx }),
    ...pgCommerce({ pool, run, tx, translateWriteError }),
    ...pgRoomModerationMethods(pool, { run, writeOne, tx }),

    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await pool.end();
      log?.debug({ store: where }, 'store closed');
    },
  };
  return store;
}
