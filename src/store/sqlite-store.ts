import type { Database } from 'better-sqlite3';
import type { Logger } from '../core/logger.js';
import { ShowcaseError } from '../core/errors.js';
import { backupDatabase } from './backup.js';
import { openDatabase } from './open-database.js';
import { sqliteCommerce } from './sqlite-commerce.js';
import {
  ANALYTICS_COLUMNS, CREATOR_COLUMNS, MAX_RENEW_IDS, MINUTE_COLUMNS, RECORDING_COLUMNS, STREAM_COLUMNS,
  analyticsFromRows, analyticsToRow, closedError, creatorFromRow, creatorToRow, minutesToRows, pageSize, patchedStream,
  recordingFromRow, recordingToRow, streamFromRow, streamToRow,
  type AnalyticsRow, type CreatorRow, type MinuteRow, type RecordingRow, type StreamRow,
} from './records.js';
import { decodeStreamCursor, encodeStreamCursor } from './stream-cursor.js';
import { sqliteRoomMethods } from './sqlite-room.js';
import { sqliteJourneyMethods } from './sqlite-journey.js';
import { sqliteNotifyMethods } from './sqlite-notify.js';
import { sqliteRoomModerationMethods } from './sqlite-room-moderation.js';
import type { CreatorRecord, Store, StreamRecord } from './types.js';

export { MAX_PAGE_SIZE } from './records.js';

/** Options for openSqliteStore. */
export interface SqliteStoreOptions {
  /** Database file; its folder is created if missing. ':memory:' gives a throwaway store (tests). */
  file: string;
  logger?: Logger;
}

/** What SQLite hands back: booleans as 0/1, JSON as text. */
type RawCreator = Omit<CreatorRow, 'disabled'> & { disabled: number };
type RawStream = Omit<StreamRow, 'extra' | 'practice'> & { extra: string; practice: number };
type RawRecording = Omit<RecordingRow, 'renditions'> & { renditions: string | null };

const cols = (c: readonly string[]): string => c.join(', ');
const params = (c: readonly string[]): string => c.map((n) => `@${n}`).join(', ');
const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC';
const S = cols(STREAM_COLUMNS);

const creatorIn = (r: RawCreator): CreatorRecord => creatorFromRow({ ...r, disabled: r.disabled === 1 });
const creatorOut = (c: CreatorRecord): Record<string, unknown> => ({ ...creatorToRow(c), disabled: c.disabled ? 1 : 0 });
const streamIn = (r: RawStream): StreamRecord => streamFromRow({ ...r, extra: JSON.parse(r.extra) as Record<string, unknown>, practice: r.practice === 1 });
const streamOut = (s: Parameters<typeof streamToRow>[0]): Record<string, unknown> => {
  const row = streamToRow(s);
  return { ...row, extra: JSON.stringify(row.extra), practice: row.practice ? 1 : 0 };
};

/**
 * Maps constraint failures to the errors callers already handle: a taken handle, token or key is a
 * CONFLICT (409), an unknown owner or a value the schema refuses is a VALIDATION error (400).
 * Anything else is rethrown as is.
 */
function translateWriteError(err: unknown): never {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    const constraint = (err as Error).message.replace(/^[^:]*:\s*/, '');
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', `Already exists (${constraint})`, { constraint });
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'Referenced record does not exist', { constraint: 'foreign key' });
    }
    throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `Value rejected by the store (${constraint})`, { constraint });
  }
  throw err;
}

/** Runs a write, translating constraint errors. */
function write<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    return translateWriteError(err);
  }
}

/** Every statement, prepared once; the store's methods only bind and run. */
function prepare(db: Database) {
  return {
    insertCreator: db.prepare(`INSERT INTO creators (${cols(CREATOR_COLUMNS)}) VALUES (${params(CREATOR_COLUMNS)})`),
    creatorById: db.prepare<[string], RawCreator>(`SELECT ${cols(CREATOR_COLUMNS)} FROM creators WHERE id = ?`),
    creatorByHandle: db.prepare<[string], RawCreator>(`SELECT ${cols(CREATOR_COLUMNS)} FROM creators WHERE handle = ?`),
    creatorByToken: db.prepare<[string], RawCreator>(`SELECT ${cols(CREATOR_COLUMNS)} FROM creators WHERE token_hash = ?`),
    updateCreator: db.prepare('UPDATE creators SET display_name = @display_name, token_hash = @token_hash, disabled = @disabled WHERE id = @id'),
    insertStream: db.prepare(`INSERT INTO streams (${S}) VALUES (${params(STREAM_COLUMNS)})`),
    streamById: db.prepare<[string], RawStream>(`SELECT ${S} FROM streams WHERE id = ?`),
    streamByKey: db.prepare<[string], RawStream>(`SELECT ${S} FROM streams WHERE stream_key_hash = ?`),
    updateStream: db.prepare(
      `UPDATE streams SET owner_id = @owner_id, title = @title, description = @description, stream_key_hash = @stream_key_hash,
        stream_key_prefix = @stream_key_prefix, state = @state, started_at = @started_at, ended_at = @ended_at,
        end_reason = @end_reason, extra = @extra, lease_node_id = @lease_node_id, lease_expires_at = @lease_expires_at,
        scheduled_at = @scheduled_at, practice = @practice WHERE id = @id`,
    ),
    deleteStream: db.prepare<[string]>('DELETE FROM streams WHERE id = ?'),
    streamsInState: db.prepare<[string], RawStream>(`SELECT ${S} FROM streams WHERE state = ? ${NEWEST_FIRST}`),
    // `owner_id IS ?` matches NULL (operator streams) as well as an id, and still uses the index.
    pageAll: db.prepare<[number], RawStream>(`SELECT ${S} FROM streams ${NEWEST_FIRST} LIMIT ?`),
    pageAllAfter: db.prepare<[number, string, number], RawStream>(`SELECT ${S} FROM streams WHERE (created_at, id) < (?, ?) ${NEWEST_FIRST} LIMIT ?`),
    pageOwner: db.prepare<[string | null, number], RawStream>(`SELECT ${S} FROM streams WHERE owner_id IS ? ${NEWEST_FIRST} LIMIT ?`),
    pageOwnerAfter: db.prepare<[string | null, number, string, number], RawStream>(
      `SELECT ${S} FROM streams WHERE owner_id IS ? AND (created_at, id) < (?, ?) ${NEWEST_FIRST} LIMIT ?`,
    ),
    // Leases: each one statement, so the condition and the change are one atomic step.
    claimLive: db.prepare<[Record<string, unknown>], RawStream>(
      `UPDATE streams SET state = 'live', lease_node_id = @node, lease_expires_at = @expires, started_at = COALESCE(started_at, @started_at)
       WHERE id = @id AND state <> 'ended'
         AND (state <> 'live' OR lease_node_id IS NULL OR lease_node_id = @node OR lease_expires_at IS NULL OR lease_expires_at <= @now)
       RETURNING ${S}`,
    ),
    renewLeases: db.prepare<[number, string, string], { id: string }>(
      `UPDATE streams SET lease_expires_at = ? WHERE lease_node_id = ? AND state = 'live' AND id IN (SELECT value FROM json_each(?)) RETURNING id`,
    ),
    releaseLive: db.prepare<[Record<string, unknown>], RawStream>(
      `UPDATE streams SET state = @state, ended_at = @ended_at, end_reason = @end_reason,
         lease_node_id = CASE WHEN @state = 'interrupted' AND @at IS NOT NULL THEN @node ELSE NULL END,
         lease_expires_at = CASE WHEN @state = 'interrupted' THEN @at ELSE NULL END
       WHERE id = @id AND (lease_node_id IS NULL OR lease_node_id = @node) RETURNING ${S}`,
    ),
    interruptExpired: db.prepare<[Record<string, unknown>], { id: string }>(
      `UPDATE streams SET state = 'interrupted', lease_expires_at = @now
       WHERE state = 'live' AND lease_node_id IS NOT NULL AND (@own IS NULL OR lease_node_id <> @own) AND lease_expires_at <= @now
       RETURNING id`,
    ),
    interruptLiveOf: db.prepare<[Record<string, unknown>]>(
      `UPDATE streams SET state = 'interrupted', lease_expires_at = @now WHERE id = @id AND state = 'live' AND lease_node_id = @node`,
    ),
    endExpiredInterrupted: db.prepare<[Record<string, unknown>], { id: string }>(
      `UPDATE streams SET state = 'ended', ended_at = @now, end_reason = @reason, lease_node_id = NULL, lease_expires_at = NULL
       WHERE state = 'interrupted' AND lease_node_id IS NOT NULL AND lease_expires_at <= @before
       RETURNING id`,
    ),
    adoptInterrupted: db.prepare<[Record<string, unknown>], { id: string }>(
      `UPDATE streams SET lease_node_id = @node, lease_expires_at = @now
       WHERE state = 'interrupted' AND (lease_node_id IS NULL OR lease_node_id = @node) AND id IN (SELECT value FROM json_each(@ids))
       RETURNING id`,
    ),
    endAbandoned: db.prepare<[Record<string, unknown>], { id: string }>(
      `UPDATE streams SET state = 'ended', ended_at = @now, end_reason = @reason, lease_node_id = NULL, lease_expires_at = NULL
       WHERE state = 'live' AND (lease_node_id IS NULL OR lease_node_id = @own OR lease_expires_at IS NULL OR lease_expires_at <= @now)
       RETURNING id`,
    ),
    getRecording: db.prepare<[string], RawRecording>(`SELECT ${cols(RECORDING_COLUMNS)} FROM recordings WHERE stream_id = ?`),
    putRecording: db.prepare(
      `INSERT INTO recordings (stream_id, ${cols(RECORDING_COLUMNS)}) VALUES (@stream_id, ${params(RECORDING_COLUMNS)})
       ON CONFLICT (stream_id) DO UPDATE SET ${RECORDING_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    getAnalytics: db.prepare<[string], AnalyticsRow>(`SELECT ${cols(ANALYTICS_COLUMNS)} FROM stream_analytics WHERE stream_id = ?`),
    getMinutes: db.prepare<[string], MinuteRow>(`SELECT ${cols(MINUTE_COLUMNS)} FROM stream_analytics_minutes WHERE stream_id = ? ORDER BY start_ms`),
    putAnalytics: db.prepare(
      `INSERT INTO stream_analytics (stream_id, ${cols(ANALYTICS_COLUMNS)}) VALUES (@stream_id, ${params(ANALYTICS_COLUMNS)})
       ON CONFLICT (stream_id) DO UPDATE SET ${ANALYTICS_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    putMinute: db.prepare(
      `INSERT INTO stream_analytics_minutes (stream_id, ${cols(MINUTE_COLUMNS)}) VALUES (@stream_id, ${params(MINUTE_COLUMNS)})
       ON CONFLICT (stream_id, start_ms) DO UPDATE SET ${MINUTE_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    // Minutes the new timeline no longer holds (it keeps the newest MAX_STORED_MINUTES).
    trimMinutes: db.prepare<[string, number]>('DELETE FROM stream_analytics_minutes WHERE stream_id = ? AND start_ms < ?'),
    clearMinutes: db.prepare<[string]>('DELETE FROM stream_analytics_minutes WHERE stream_id = ?'),
  };
}

/**
 * Opens the embedded SQLite store at `opts.file` (creating and migrating it as needed). better-sqlite3
 * is synchronous, so every method has finished by the time its Promise exists: calls never overlap.
 * Throws StoreError CORRUPT / TOO_NEW / UNAVAILABLE when the file cannot be used.
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const { file, logger } = opts;
  const { db, schemaVersion } = openDatabase(file, logger);
  const q = prepare(db);
  let closed = false;

  /** Runs fn as the body of an async method: a throw becomes a rejection; nothing runs after close. */
  const run = <T>(fn: () => T): Promise<T> => {
    if (closed) return Promise.reject(closedError());
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };

  const getCreator = (id: string): CreatorRecord | undefined => {
    const row = q.creatorById.get(id);
    return row ? creatorIn(row) : undefined;
  };
  const getStream = (id: string): StreamRecord | undefined => {
    const row = q.streamById.get(id);
    return row ? streamIn(row) : undefined;
  };

  // Read-modify-write in one IMMEDIATE transaction so another process cannot interleave.
  const updateCreatorTx = db.transaction((id: string, patch: Partial<Pick<CreatorRecord, 'tokenHash' | 'disabled' | 'displayName'>>) => {
    const current = getCreator(id);
    if (!current) return undefined;
    const next = { ...current };
    if (patch.tokenHash !== undefined) next.tokenHash = patch.tokenHash;
    if (patch.disabled !== undefined) next.disabled = patch.disabled;
    if (patch.displayName !== undefined) next.displayName = patch.displayName;
    write(() => q.updateCreator.run(creatorOut(next)));
    return getCreator(id);
  });
  const updateStreamTx = db.transaction((id: string, patch: Partial<StreamRecord>) => {
    const current = getStream(id);
    if (!current) return undefined;
    write(() => q.updateStream.run(streamOut(patchedStream(current, patch))));
    return getStream(id);
  });
  const putAnalyticsTx = db.transaction((streamId: string, summary: AnalyticsRow, minutes: MinuteRow[]) => {
    if (!q.streamById.get(streamId)) return false;
    write(() => q.putAnalytics.run({ stream_id: streamId, ...summary }));
    if (minutes.length === 0) q.clearMinutes.run(streamId);
    else q.trimMinutes.run(streamId, minutes[0]!.start_ms);
    for (const m of minutes) write(() => q.putMinute.run({ stream_id: streamId, ...m }));
    return true;
  });

  const store: Store = {
    kind: 'sqlite',
    schemaVersion,

    createCreator: (rec) => run(() => {
      write(() => q.insertCreator.run(creatorOut(rec)));
      return getCreator(rec.id)!;
    }),
    getCreator: (id) => run(() => getCreator(id)),
    getCreatorByHandle: (handle) => run(() => {
      const row = q.creatorByHandle.get(handle);
      return row ? creatorIn(row) : undefined;
    }),
    getCreatorByTokenHash: (tokenHash) => run(() => {
      const row = q.creatorByToken.get(tokenHash);
      return row ? creatorIn(row) : undefined;
    }),
    updateCreator: (id, patch) => run(() => updateCreatorTx.immediate(id, patch)),

    createStream: (rec) => run(() => {
      write(() => q.insertStream.run(streamOut(rec)));
      return getStream(rec.id)!;
    }),
    getStream: (id) => run(() => getStream(id)),
    getStreamByKeyHash: (hash) => run(() => {
      const row = q.streamByKey.get(hash);
      return row ? streamIn(row) : undefined;
    }),
    listStreams: ({ ownerId, limit, cursor }) => run(() => {
      const take = pageSize(limit);
      const after = cursor ? decodeStreamCursor(cursor) : undefined;
      // One extra row tells whether another page exists without a COUNT.
      const n = take + 1;
      let rows: RawStream[];
      if (ownerId === undefined) rows = after ? q.pageAllAfter.all(after.createdAt, after.id, n) : q.pageAll.all(n);
      else rows = after ? q.pageOwnerAfter.all(ownerId, after.createdAt, after.id, n) : q.pageOwner.all(ownerId, n);
      const items = rows.slice(0, take).map(streamIn);
      const last = items[items.length - 1];
      const nextCursor = rows.length > take && last ? encodeStreamCursor({ createdAt: last.createdAt, id: last.id }) : null;
      return { items, nextCursor };
    }),
    updateStream: (id, patch) => run(() => updateStreamTx.immediate(id, patch)),
    deleteStream: (id) => run(() => q.deleteStream.run(id).changes > 0),
    listStreamsInState: (state) => run(() => q.streamsInState.all(state).map(streamIn)),

    claimLive: (id, o) => run(() => {
      const row = q.claimLive.get({ id, node: o.nodeId, expires: o.expiresAt, started_at: o.startedAt, now: o.now });
      if (row) return { ok: true as const, rec: streamIn(row) };
      const rec = getStream(id);
      return { ok: false as const, why: !rec ? 'missing' as const : rec.state === 'ended' ? 'ended' as const : 'held' as const, ...(rec ? { rec } : {}) };
    }),
    renewLeases: (nodeId, ids, expiresAt) => run(() => {
      if (ids.length === 0) return [];
      if (ids.length > MAX_RENEW_IDS) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', `at most ${MAX_RENEW_IDS} leases per renewal`);
      return q.renewLeases.all(expiresAt, nodeId, JSON.stringify(ids)).map((r) => r.id);
    }),
    releaseLive: (id, nodeId, patch) => run(() => {
      const at = patch.state === 'interrupted' ? (patch.interruptedAt ?? null) : null;
      const row = write(() => q.releaseLive.get({ id, node: nodeId, state: patch.state, ended_at: patch.endedAt ?? null, end_reason: patch.endReason ?? null, at }));
      return row ? streamIn(row) : undefined;
    }),
    endAbandonedLive: (o) => run(() => q.endAbandoned.all({ own: o.ownNodeId ?? null, now: o.now, reason: o.endReason }).map((r) => r.id)),
    interruptExpiredLive: (o) => run(() => q.interruptExpired.all({ own: o.ownNodeId ?? null, now: o.now }).map((r) => r.id)),
    interruptLiveOf: (id, nodeId, now) => run(() => q.interruptLiveOf.run({ id, node: nodeId, now }).changes > 0),
    endExpiredInterrupted: (o) => run(() => q.endExpiredInterrupted.all({ before: o.before, now: o.now, reason: o.endReason }).map((r) => r.id)),
    adoptInterrupted: (nodeId, ids, now) => run(() => {
      if (ids.length === 0) return [];
      if (ids.length > MAX_RENEW_IDS) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', `at most ${MAX_RENEW_IDS} streams per adoption`);
      return q.adoptInterrupted.all({ node: nodeId, now, ids: JSON.stringify(ids) }).map((r) => r.id);
    }),

    getRecording: (streamId) => run(() => {
      const row = q.getRecording.get(streamId);
      return row ? recordingFromRow({ ...row, renditions: row.renditions === null ? null : (JSON.parse(row.renditions) as string[]) }) : undefined;
    }),
    putRecording: (streamId, rec) => run(() => {
      const row = recordingToRow(rec);
      try {
        q.putRecording.run({ stream_id: streamId, ...row, renditions: row.renditions === null ? null : JSON.stringify(row.renditions) });
      } catch (err) {
        // No such stream (deleted meanwhile): nothing to record against.
        if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return false;
        translateWriteError(err);
      }
      return true;
    }),
    getAnalytics: (streamId) => run(() => {
      const row = q.getAnalytics.get(streamId);
      return row ? analyticsFromRows(row, q.getMinutes.all(streamId)) : undefined;
    }),
    putAnalytics: (streamId, a) => run(() => putAnalyticsTx.immediate(streamId, analyticsToRow(a), minutesToRows(a))),

    ...sqliteRoomMethods(db, { run, write }),
    ...sqliteJourneyMethods(db, { run, write }),
    ...sqliteNotifyMethods(db, { run, write }),
    ...sqliteCommerce(db, run, write),
    ...sqliteRoomModerationMethods(db, { run, write }),

    backup: (dest) => (closed ? Promise.reject(closedError()) : backupDatabase(db, dest)),

    close: async () => {
      if (closed) return;
      closed = true;
      try {
        // Cheap, and keeps the planner's statistics fresh for the next start.
        db.pragma('optimize');
      } catch (err) {
        logger?.warn({ err, file }, 'store optimize on close failed');
      }
      db.close();
      logger?.debug({ file }, 'store closed');
    },
  };
  return store;
}
