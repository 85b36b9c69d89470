/**
 * The narrow persistence interface the rest of the server depends on. The embedded default is
 * SQLite (src/store/sqlite-store.ts); a multi-node deployment swaps in another implementation of
 * this interface without touching callers. All methods are synchronous on purpose: the embedded
 * store answers in microseconds, and a networked implementation would wrap this behind a cache.
 */

/**
 * 'interrupted': the server stopped (SIGTERM, a deploy) while the stream was live; the next process
 * waits streams.reconnectGraceMs for the same key to continue it, then ends it.
 */
export type StreamState = 'idle' | 'live' | 'interrupted' | 'ended';

export interface CreatorRecord {
  id: string;
  handle: string;
  displayName: string;
  /** sha256 hex of the current API token; the token itself is never stored. */
  tokenHash: string;
  disabled: boolean;
  createdAt: number;
}

export interface StreamRecord {
  id: string;
  /** null for streams the operator owns. */
  ownerId: string | null;
  title: string;
  description: string;
  /** sha256 hex of the stream key; the key itself is shown once (create / rotate) and never stored. */
  streamKeyHash: string;
  /** The first characters of the key, for logs and UIs. */
  streamKeyPrefix: string;
  state: StreamState;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Why the stream ended (e.g. 'publisher-stopped', 'interrupted', 'deleted'), null while not ended. */
  endReason: string | null;
  /** Free-form JSON owned by other features (recording state, analytics summaries). */
  extra: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, null at the end. */
  nextCursor: string | null;
}

export interface CreatorStore {
  createCreator(rec: CreatorRecord): CreatorRecord;
  getCreator(id: string): CreatorRecord | undefined;
  getCreatorByHandle(handle: string): CreatorRecord | undefined;
  getCreatorByTokenHash(tokenHash: string): CreatorRecord | undefined;
  updateCreator(id: string, patch: Partial<Pick<CreatorRecord, 'tokenHash' | 'disabled' | 'displayName'>>): CreatorRecord | undefined;
}

export interface StreamStore {
  createStream(rec: StreamRecord): StreamRecord;
  getStream(id: string): StreamRecord | undefined;
  getStreamByKeyHash(streamKeyHash: string): StreamRecord | undefined;
  /**
   * Newest first (created_at DESC, id DESC); ownerId undefined lists every stream (operator), null the
   * operator's own streams. limit is capped by the implementation; an invalid cursor is a BAD_REQUEST.
   */
  listStreams(opts: { ownerId?: string | null; limit: number; cursor?: string | null }): Page<StreamRecord>;
  /**
   * Changes only the fields present in patch (undefined means "leave as is", null clears a nullable
   * field). `extra` is merged by top-level key, so features owning different keys never overwrite
   * each other; a key set to null is removed. Returns the updated record, undefined if there is none.
   */
  updateStream(id: string, patch: Partial<Omit<StreamRecord, 'id' | 'createdAt'>>): StreamRecord | undefined;
  deleteStream(id: string): boolean;
  /**
   * Streams in a state: at start-up, 'live' ones a process that died left (marked ended) and
   * 'interrupted' ones a stopped process left (waiting for their publisher to reconnect).
   */
  listStreamsInState(state: StreamState): StreamRecord[];
}

export interface Store extends CreatorStore, StreamStore {
  /** Schema version the file is at after migrations. */
  readonly schemaVersion: number;
  /** Writes a consistent copy of the store to dest while it stays in use (optional per implementation). */
  backup?(dest: string): Promise<void>;
  /** Releases the file; idempotent. */
  close(): void;
}
