/**
 * The narrow persistence interface the rest of the server depends on. Every method returns a
 * Promise: the embedded default (SQLite, src/store/sqlite-store.ts) answers at once, PostgreSQL
 * (src/store/pg-store.ts) over the network, and callers are written for the second. Nothing on the
 * media path awaits the store: publish decisions are taken before media flows, and writes made
 * while media flows (state changes, recording progress, analytics) are queued, not awaited.
 */
import type { CommerceStore } from './commerce-types.js';

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

/** Which node serves a live stream, until when (renewed while live; another node may take over after). */
export interface StreamLease {
  nodeId: string;
  expiresAt: number;
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
  /** Free-form JSON for features without a table of their own (recording and analytics have tables). */
  extra: Record<string, unknown>;
  /** Set while live: the node serving it (claimLive / renewLeases / releaseLive own this field). */
  lease: StreamLease | null;
}

/** What createStream takes: a stream is created without a lease (claimLive takes one). */
export type NewStreamRecord = Omit<StreamRecord, 'lease'>;

/** The fields updateStream may change. */
export type StreamPatch = Partial<Omit<StreamRecord, 'id' | 'createdAt' | 'lease'>>;

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, null at the end. */
  nextCursor: string | null;
}

/** A recording's lifecycle. */
export type RecordingState = 'recording' | 'stopped' | 'processing' | 'ready' | 'failed' | 'expired';

/** A stream's recording: state, what is kept, and the figures once finalized (table `recordings`). */
export interface RecordingRecord {
  state: RecordingState;
  startedAt?: number;
  /** Kept renditions, highest first. */
  renditions?: string[];
  /** The rendition the MP4 is remuxed from (the highest kept; there is no source passthrough). */
  mp4Rendition?: string;
  durationSeconds?: number;
  sizeBytes?: number;
  segments?: number;
  discontinuities?: number;
  /** Why it stopped early or failed: an error code and a sentence. */
  code?: string;
  reason?: string;
  readyAt?: number;
  /** Milliseconds from the stream's end to ready. */
  finalizeMs?: number;
  /** When the retention sweep deleted the files. */
  expiredAt?: number;
  updatedAt: number;
}

/** One minute of a stream's audience timeline (table `stream_analytics_minutes`). */
export interface AnalyticsMinute {
  startMs: number;
  viewersAvg: number;
  viewersPeak: number;
  watchSeconds: number;
  ingestBitsPerSecond?: number;
}

/** A stream's audience analytics (tables `stream_analytics` and `stream_analytics_minutes`). */
export interface AnalyticsRecord {
  watchSecondsLive: number;
  watchSecondsReplay: number;
  watchSecondsByProtocol: { hls: number; webrtc: number };
  uniqueViewers: number;
  /** The unique-viewer HyperLogLog registers (base64), so later viewing merges exactly. */
  uniqueSketch?: string;
  peakViewers: number;
  /** Oldest first. */
  timeline: AnalyticsMinute[];
  updatedAt: number;
}

export interface CreatorStore {
  createCreator(rec: CreatorRecord): Promise<CreatorRecord>;
  getCreator(id: string): Promise<CreatorRecord | undefined>;
  getCreatorByHandle(handle: string): Promise<CreatorRecord | undefined>;
  getCreatorByTokenHash(tokenHash: string): Promise<CreatorRecord | undefined>;
  updateCreator(id: string, patch: Partial<Pick<CreatorRecord, 'tokenHash' | 'disabled' | 'displayName'>>): Promise<CreatorRecord | undefined>;
}

export interface StreamStore {
  /** Throws CONFLICT for a taken id or key, VALIDATION for an unknown owner or a refused value. */
  createStream(rec: NewStreamRecord): Promise<StreamRecord>;
  getStream(id: string): Promise<StreamRecord | undefined>;
  getStreamByKeyHash(streamKeyHash: string): Promise<StreamRecord | undefined>;
  /**
   * Newest first (created_at DESC, id DESC); ownerId undefined lists every stream (operator), null the
   * operator's own streams. limit is capped by the implementation; an invalid cursor is a BAD_REQUEST.
   */
  listStreams(opts: { ownerId?: string | null; limit: number; cursor?: string | null }): Promise<Page<StreamRecord>>;
  /**
   * Changes only the fields present in patch (undefined means "leave as is", null clears a nullable
   * field). `extra` is merged by top-level key, so features owning different keys never overwrite
   * each other; a key set to null is removed. Returns the updated record, undefined if there is none.
   */
  updateStream(id: string, patch: StreamPatch): Promise<StreamRecord | undefined>;
  /** Deletes a stream and what hangs off it (recording state, analytics). */
  deleteStream(id: string): Promise<boolean>;
  /**
   * Streams in a state, newest first: at start-up, 'live' ones a process that died left (marked
   * ended) and 'interrupted' ones a stopped process left (waiting for their publisher to reconnect).
   */
  listStreamsInState(state: StreamState): Promise<StreamRecord[]>;
}

/**
 * "One publisher per key" across nodes: a stream is live on at most one node, the one holding its
 * lease. Each call is one conditional statement, so two nodes racing for a key cannot both win.
 */
export interface LeaseStore {
  /**
   * Makes a stream live on nodeId until `expiresAt`, if no other node holds an unexpired lease on it
   * and it has not ended. startedAt is kept when already set (a reconnect continues the stream).
   * Returns the record after, or why not: 'missing', 'ended', or 'held' (live on another node).
   */
  claimLive(id: string, o: { nodeId: string; now: number; expiresAt: number; startedAt: number }): Promise<{ ok: true; rec: StreamRecord } | { ok: false; why: 'missing' | 'ended' | 'held'; rec?: StreamRecord }>;
  /** Extends nodeId's leases on these live streams; returns the ids still held (a missing id was lost). */
  renewLeases(nodeId: string, ids: readonly string[], expiresAt: number): Promise<string[]>;
  /**
   * Leaves live for `patch.state` (ended, or idle) and drops the lease, only if nodeId holds it (or
   * nobody does): a node that lost its lease cannot end the stream another node now serves.
   * Returns the record after, undefined when it was not this node's to release.
   */
  releaseLive(id: string, nodeId: string, patch: { state: Exclude<StreamState, 'live'>; endedAt?: number | null; endReason?: string | null }): Promise<StreamRecord | undefined>;
  /**
   * Ends streams left live by a node that no longer serves them: those with no lease, this node's
   * own (ownNodeId, at start-up: this process serves nothing yet), or an expired lease. Another
   * node's unexpired lease is never touched. Returns the ids ended.
   */
  endAbandonedLive(o: { ownNodeId?: string; now: number; endReason: string }): Promise<string[]>;
}

/** Recording state, one row per stream. */
export interface RecordingStore {
  getRecording(streamId: string): Promise<RecordingRecord | undefined>;
  /** Replaces the stream's recording row; false (nothing written) when the stream does not exist. */
  putRecording(streamId: string, rec: RecordingRecord): Promise<boolean>;
}

/** Audience analytics, one summary row and a minute timeline per stream. */
export interface AnalyticsStore {
  getAnalytics(streamId: string): Promise<AnalyticsRecord | undefined>;
  /** Replaces the stream's analytics; false (nothing written) when the stream does not exist. */
  putAnalytics(streamId: string, a: AnalyticsRecord): Promise<boolean>;
}

export interface Store extends CreatorStore, StreamStore, LeaseStore, RecordingStore, AnalyticsStore, CommerceStore {
  /** 'sqlite' or 'postgres', for logs. */
  readonly kind: 'sqlite' | 'postgres';
  /** Schema version the database is at after migrations. */
  readonly schemaVersion: number;
  /** Writes a consistent copy of the store to dest while it stays in use (optional per implementation). */
  backup?(dest: string): Promise<void>;
  /** Waits for calls in flight, then releases the database; idempotent. Calls after it reject. */
  close(): Promise<void>;
}
