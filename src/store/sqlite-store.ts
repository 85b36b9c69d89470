import type { Logger } from '../core/logger.js';
import { ShowcaseError } from '../core/errors.js';
import { backupDatabase } from './backup.js';
import { openDatabase } from './open-database.js';
import { decodeStreamCursor, encodeStreamCursor } from './stream-cursor.js';
import type { CreatorRecord, Page, Store, StreamRecord, StreamState } from './types.js';

/** Options for openSqliteStore. */
export interface SqliteStoreOptions {
  /** Database file; its folder is created if missing. ':memory:' gives a throwaway store (tests). */
  file: string;
  logger?: Logger;
}

/** The most rows one listStreams page returns, whatever limit asks for. */
export const MAX_PAGE_SIZE = 1000;

interface CreatorRow {
  id: string;
  handle: string;
  display_name: string;
  token_hash: string;
  disabled: number;
  created_at: number;
}

interface StreamRow {
  id: string;
  owner_id: string | null;
  title: string;
  description: string;
  stream_key_hash: string;
  stream_key_prefix: string;
  state: StreamState;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  extra: string;
}

const CREATOR_COLS = 'id, handle, display_name, token_hash, disabled, created_at';
const STREAM_COLS =
  'id, owner_id, title, description, stream_key_hash, stream_key_prefix, state, created_at, started_at, ended_at, end_reason, extra';
const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC';

function creatorFromRow(r: CreatorRow): CreatorRecord {
  return { id: r.id, handle: r.handle, displayName: r.display_name, tokenHash: r.token_hash, disabled: r.disabled === 1, createdAt: r.created_at };
}

function creatorParams(c: CreatorRecord): Record<string, unknown> {
  return { id: c.id, handle: c.handle, display_name: c.displayName, token_hash: c.tokenHash, disabled: c.disabled ? 1 : 0, created_at: c.createdAt };
}

function streamFromRow(r: StreamRow): StreamRecord {
  return {
    id: r.id,
    ownerId: r.owner_id,
    title: r.title,
    description: r.description,
    streamKeyHash: r.stream_key_hash,
    streamKeyPrefix: r.stream_key_prefix,
    state: r.state,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    endReason: r.end_reason,
    extra: JSON.parse(r.extra) as Record<string, unknown>,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function streamParams(s: StreamRecord): Record<string, unknown> {
  if (!isPlainObject(s.extra)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'stream extra must be a JSON object');
  return {
    id: s.id,
    owner_id: s.ownerId,
    title: s.title,
    description: s.description,
    stream_key_hash: s.streamKeyHash,
    stream_key_prefix: s.streamKeyPrefix,
    state: s.state,
    created_at: s.createdAt,
    started_at: s.startedAt,
    ended_at: s.endedAt,
    end_reason: s.endReason,
    extra: JSON.stringify(s.extra),
  };
}

/** Copies the keys of `patch` whose value is not undefined onto `base` (undefined means "leave as is"). */
function applyPatch<T extends object>(base: T, patch: Partial<T>): T {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Shallow merge by top-level key, so features owning different keys never overwrite each other; null deletes a key. */
function mergeExtra(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out;
}

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
      throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'Referenced creator does not exist', { constraint: 'streams.owner_id' });
    }
    throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `Value rejected by the store (${constraint})`, { constraint });
  }
  throw err;
}

/**
 * Opens the embedded SQLite store at `opts.file` (creating and migrating it as needed).
 * Throws StoreError CORRUPT / TOO_NEW / UNAVAILABLE when the file cannot be used.
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const { file, logger } = opts;
  const { db, schemaVersion } = openDatabase(file, logger);

  // Every statement is prepared once, here; the methods below only bind and run.
  const q = {
    insertCreator: db.prepare(
      `INSERT INTO creators (${CREATOR_COLS}) VALUES (@id, @handle, @display_name, @token_hash, @disabled, @created_at)`,
    ),
    creatorById: db.prepare<[string], CreatorRow>(`SELECT ${CREATOR_COLS} FROM creators WHERE id = ?`),
    creatorByHandle: db.prepare<[string], CreatorRow>(`SELECT ${CREATOR_COLS} FROM creators WHERE handle = ?`),
    creatorByToken: db.prepare<[string], CreatorRow>(`SELECT ${CREATOR_COLS} FROM creators WHERE token_hash = ?`),
    updateCreator: db.prepare(
      'UPDATE creators SET display_name = @display_name, token_hash = @token_hash, disabled = @disabled WHERE id = @id',
    ),
    insertStream: db.prepare(
      `INSERT INTO streams (${STREAM_COLS}) VALUES (@id, @owner_id, @title, @description, @stream_key_hash, @stream_key_prefix,
        @state, @created_at, @started_at, @ended_at, @end_reason, @extra)`,
    ),
    streamById: db.prepare<[string], StreamRow>(`SELECT ${STREAM_COLS} FROM streams WHERE id = ?`),
    streamByKey: db.prepare<[string], StreamRow>(`SELECT ${STREAM_COLS} FROM streams WHERE stream_key_hash = ?`),
    updateStream: db.prepare(
      `UPDATE streams SET owner_id = @owner_id, title = @title, description = @description, stream_key_hash = @stream_key_hash,
        stream_key_prefix = @stream_key_prefix, state = @state, started_at = @started_at, ended_at = @ended_at,
        end_reason = @end_reason, extra = @extra WHERE id = @id`,
    ),
    deleteStream: db.prepare<[string]>('DELETE FROM streams WHERE id = ?'),
    streamsInState: db.prepare<[string], StreamRow>(`SELECT ${STREAM_COLS} FROM streams WHERE state = ? ${NEWEST_FIRST}`),
    // `owner_id IS ?` matches NULL (operator streams) as well as an id, and still uses the index.
    pageAll: db.prepare<[number], StreamRow>(`SELECT ${STREAM_COLS} FROM streams ${NEWEST_FIRST} LIMIT ?`),
    pageAllAfter: db.prepare<[number, string, number], StreamRow>(
      `SELECT ${STREAM_COLS} FROM streams WHERE (created_at, id) < (?, ?) ${NEWEST_FIRST} LIMIT ?`,
    ),
    pageOwner: db.prepare<[string | null, number], StreamRow>(`SELECT ${STREAM_COLS} FROM streams WHERE owner_id IS ? ${NEWEST_FIRST} LIMIT ?`),
    pageOwnerAfter: db.prepare<[string | null, number, string, number], StreamRow>(
      `SELECT ${STREAM_COLS} FROM streams WHERE owner_id IS ? AND (created_at, id) < (?, ?) ${NEWEST_FIRST} LIMIT ?`,
    ),
  };

  const getCreator = (id: string): CreatorRecord | undefined => {
    const row = q.creatorById.get(id);
    return row ? creatorFromRow(row) : undefined;
  };
  const getStream = (id: string): StreamRecord | undefined => {
    const row = q.streamById.get(id);
    return row ? streamFromRow(row) : undefined;
  };

  // Read-modify-write in one IMMEDIATE transaction so another process cannot interleave.
  const updateCreatorTx = db.transaction(
    (id: string, patch: Partial<Pick<CreatorRecord, 'tokenHash' | 'disabled' | 'displayName'>>): CreatorRecord | undefined => {
      const current = getCreator(id);
      if (!current) return undefined;
      const next = applyPatch(current, { tokenHash: patch.tokenHash, disabled: patch.disabled, displayName: patch.displayName });
      try {
        q.updateCreator.run(creatorParams(next));
      } catch (err) {
        translateWriteError(err);
      }
      return getCreator(id);
    },
  );

  const updateStreamTx = db.transaction(
    (id: string, patch: Partial<Omit<StreamRecord, 'id' | 'createdAt'>>): StreamRecord | undefined => {
      const current = getStream(id);
      if (!current) return undefined;
      const { extra, ...rest } = patch;
      // id and createdAt are not patchable even when a caller sneaks them in past the type.
      const { id: _id, createdAt: _createdAt, ...fields } = rest as Partial<StreamRecord>;
      const next = applyPatch(current, fields);
      if (extra !== undefined) {
        if (!isPlainObject(extra)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'stream extra must be a JSON object');
        next.extra = mergeExtra(current.extra, extra);
      }
      try {
        q.updateStream.run(streamParams(next));
      } catch (err) {
        translateWriteError(err);
      }
      return getStream(id);
    },
  );

  let closed = false;

  const store: Store = {
    schemaVersion,

    createCreator(rec) {
      try {
        q.insertCreator.run(creatorParams(rec));
      } catch (err) {
        translateWriteError(err);
      }
      return getCreator(rec.id)!;
    },
    getCreator,
    getCreatorByHandle(handle) {
      const row = q.creatorByHandle.get(handle);
      return row ? creatorFromRow(row) : undefined;
    },
    getCreatorByTokenHash(tokenHash) {
      const row = q.creatorByToken.get(tokenHash);
      return row ? creatorFromRow(row) : undefined;
    },
    updateCreator(id, patch) {
      return updateCreatorTx.immediate(id, patch);
    },

    createStream(rec) {
      try {
        q.insertStream.run(streamParams(rec));
      } catch (err) {
        translateWriteError(err);
      }
      return getStream(rec.id)!;
    },
    getStream,
    getStreamByKeyHash(streamKeyHash) {
      const row = q.streamByKey.get(streamKeyHash);
      return row ? streamFromRow(row) : undefined;
    },
    listStreams({ ownerId, limit, cursor }) {
      if (!Number.isInteger(limit) || limit < 1) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'limit must be a positive integer');
      const take = Math.min(limit, MAX_PAGE_SIZE);
      const after = cursor ? decodeStreamCursor(cursor) : undefined;
      // One extra row tells whether another page exists without a COUNT.
      const n = take + 1;
      let rows: StreamRow[];
      if (ownerId === undefined) {
        rows = after ? q.pageAllAfter.all(after.createdAt, after.id, n) : q.pageAll.all(n);
      } else {
        rows = after ? q.pageOwnerAfter.all(ownerId, after.createdAt, after.id, n) : q.pageOwner.all(ownerId, n);
      }
      const items = rows.slice(0, take).map(streamFromRow);
      const last = items[items.length - 1];
      const nextCursor = rows.length > take && last ? encodeStreamCursor({ createdAt: last.createdAt, id: last.id }) : null;
      return { items, nextCursor } satisfies Page<StreamRecord>;
    },
    updateStream(id, patch) {
      return updateStreamTx.immediate(id, patch);
    },
    deleteStream(id) {
      return q.deleteStream.run(id).changes > 0;
    },
    listStreamsInState(state) {
      return q.streamsInState.all(state).map(streamFromRow);
    },

    backup(dest) {
      return backupDatabase(db, dest);
    },

    close() {
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
