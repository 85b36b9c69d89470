/**
 * The narrow persistence interface the rest of the server depends on. Every method returns a
 * Promise: the embedded default (SQLite, src/store/sqlite-store.ts) answers at once, PostgreSQL
 * (src/store/pg-store.ts) over the network, and callers are written for the second. Nothing on the
 * media path awaits the store: publish decisions are taken before media flows, and writes made
 * while media flows (state changes, recording progress, analytics) are queued, not awaited.
 */
import type { CommerceStore, ProductRecord } from './commerce-types.js';
import type { NotifyStore } from './notify-types.js';

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
  /** The creator's journey (issue 15): when the stream is announced to start (ms), null when unscheduled. Always set on records the store returns. */
  scheduledAt?: number | null;
  /** Practice mode: only the owner and the operator see it; fixed at creation. Always set on records the store returns. */
  practice?: boolean;
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
  /** Unique viewers of the replay (issue 15), and their sketch; absent when nobody watched one. */
  replayUniqueViewers?: number;
  replaySketch?: string;
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
   * nobody does): a node that lost its lease cannot end the stream another node now serves. For
   * 'interrupted' the lease is kept naming nodeId, expired at `patch.interruptedAt` (see
   * interruptExpiredLive). Returns the record after, undefined when it was not this node's to release.
   */
  releaseLive(id: string, nodeId: string, patch: { state: Exclude<StreamState, 'live'>; endedAt?: number | null; endReason?: string | null; interruptedAt?: number }): Promise<StreamRecord | undefined>;
  /**
   * Ends streams left live by a node that no longer serves them: those with no lease, this node's
   * own (ownNodeId, at start-up: this process serves nothing yet), or an expired lease. Another
   * node's unexpired lease is never touched. Returns the ids ended.
   */
  endAbandonedLive(o: { ownNodeId?: string; now: number; endReason: string }): Promise<string[]>;
  /**
   * A dead node's streams: live ones whose lease expired (another node's, never ownNodeId's) become
   * 'interrupted', their lease kept naming the node that held them with expiresAt = now (the moment
   * of the interruption), so whichever node the publisher reconnects to continues them (claimLive).
   * Returns the ids interrupted.
   */
  interruptExpiredLive(o: { ownNodeId?: string; now: number }): Promise<string[]>;
  /**
   * The same for one stream whose node is known to be gone (it left the cluster set) before its
   * lease expired: live under nodeId's lease, expired or not, it becomes 'interrupted' naming
   * nodeId, expired at now. False when the stream is not live under nodeId's lease (any more).
   */
  interruptLiveOf(id: string, nodeId: string, now: number): Promise<boolean>;
  /**
   * Interrupted streams whose lease (interrupted at, or adopted at) is at or before `before`: no
   * publisher came back within the grace; they end (endedAt now, endReason) and lose the lease.
   * An interrupted stream without a lease is left to the next start-up. Returns the ids ended.
   */
  endExpiredInterrupted(o: { before: number; now: number; endReason: string }): Promise<string[]>;
  /**
   * At start-up: of these interrupted streams, those whose lease names nodeId or that have none are
   * stamped as nodeId's from `now` (their reconnect window starts there); another node's are left.
   * Returns the ids adopted.
   */
  adoptInterrupted(nodeId: string, ids: readonly string[], now: number): Promise<string[]>;
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

export interface Store extends CreatorStore, StreamStore, LeaseStore, RecordingStore, AnalyticsStore, ShopperStore, RoomMessageStore, RoomModerationStore, JourneyStore, CommerceStore, NotifyStore {
  /** 'sqlite' or 'postgres', for logs. */
  readonly kind: 'sqlite' | 'postgres';
  /** Schema version the database is at after migrations. */
  readonly schemaVersion: number;
  /** Writes a consistent copy of the store to dest while it stays in use (optional per implementation). */
  backup?(dest: string): Promise<void>;
  /** Waits for calls in flight, then releases the database; idempotent. Calls after it reject. */
  close(): Promise<void>;
}

// ---- The room (issue 14): shoppers and chat messages -------------------------------------------

/** A shopper: a display name and a token (stored as its hash), made by POST /v1/shoppers. */
export interface ShopperRecord {
  id: string;
  displayName: string;
  /** sha256 hex of the shopper's token; the token itself is shown once and never stored. */
  tokenHash: string;
  createdAt: number;
}

/** Who wrote a room message: a shopper, the stream's owner (the host) or the operator. */
export type RoomAuthorRole = 'shopper' | 'host' | 'operator';

/** One chat message of a stream's room (table `room_messages`). */
export interface RoomMessageRecord {
  id: string;
  streamId: string;
  authorId: string;
  authorRole: RoomAuthorRole;
  /** The author's display name when the message was written. */
  authorName: string;
  text: string;
  /** Wall clock (ms) when the server accepted it. */
  at: number;
  /** The program date time (ms) of the stream's live edge when it arrived: replays sync on it. */
  mediaTime: number;
  /** When a moderator deleted it; deleted messages are never listed. */
  deletedAt: number | null;
}

/** Shoppers (table `shoppers`). */
export interface ShopperStore {
  /** Throws CONFLICT for a taken id or token hash. */
  createShopper(rec: ShopperRecord): Promise<ShopperRecord>;
  getShopper(id: string): Promise<ShopperRecord | undefined>;
  getShopperByTokenHash(tokenHash: string): Promise<ShopperRecord | undefined>;
  /** Deletes the shopper and every message they wrote (gone from replays too); false when there was none. */
  deleteShopper(id: string): Promise<boolean>;
}

/** Room messages, kept with their mediaTime for replays. */
export interface RoomMessageStore {
  /** Throws CONFLICT for a taken id, VALIDATION for an unknown stream. */
  addRoomMessage(rec: RoomMessageRecord): Promise<void>;
  /**
   * A stream's messages oldest first by (mediaTime, id), deleted ones left out: those with mediaTime
   * after `after` (all when undefined), at most `limit` (capped by the implementation).
   */
  listRoomMessages(streamId: string, o: { after?: number; limit: number }): Promise<RoomMessageRecord[]>;
  /** The newest `limit` messages that are not deleted, returned oldest first (a joining socket's history). */
  recentRoomMessages(streamId: string, limit: number): Promise<RoomMessageRecord[]>;
  /** Marks a message deleted at `at`; false when the stream has no such message (or it was deleted already). */
  deleteRoomMessage(streamId: string, id: string, at: number): Promise<boolean>;
}

// ---- The creator's journey (issue 15): discovery and followers ---------------------------------

/** A shopper following a creator (table `followers`). */
export interface FollowRecord {
  creatorId: string;
  shopperId: string;
  createdAt: number;
}

/** Discovery (GET /v1/live) and followers. */
export interface JourneyStore {
  /**
   * Public streams (never practice ones): `live` newest start first, and `upcoming`: idle streams
   * scheduled at or after `scheduledSince`, soonest first; each list at most `limit` (capped).
   */
  listDiscoverable(o: { scheduledSince: number; limit: number }): Promise<{ live: StreamRecord[]; upcoming: StreamRecord[] }>;
  /** Makes shopperId follow creatorId; true when new, false when it already did. VALIDATION for an unknown creator or shopper. */
  follow(creatorId: string, shopperId: string, at: number): Promise<boolean>;
  /** Ends a follow; false when there was none. */
  unfollow(creatorId: string, shopperId: string): Promise<boolean>;
  followerCount(creatorId: string): Promise<number>;
  /** Whether shopperId follows creatorId. */
  isFollowing(creatorId: string, shopperId: string): Promise<boolean>;
  /** The follows of a shopper, newest first, paged (an invalid cursor is a BAD_REQUEST; limit capped). */
  listFollowing(shopperId: string, o: { limit: number; cursor?: string | null }): Promise<Page<FollowRecord>>;
  /** A creator's follower ids in ascending order after `after` (exclusive), at most `limit` (capped): fan-out reads in batches. */
  listFollowers(creatorId: string, o: { after?: string; limit: number }): Promise<string[]>;
  /** One creator's public streams (never practice ones): live and upcoming, as listDiscoverable orders them. */
  listCreatorDiscoverable(creatorId: string, o: { scheduledSince: number; limit: number }): Promise<{ live: StreamRecord[]; upcoming: StreamRecord[] }>;
  /** One creator's past public streams (ended after going live), newest start first (started_at DESC, id DESC), paged. */
  listCreatorPast(creatorId: string, o: { limit: number; cursor?: string | null }): Promise<Page<StreamRecord>>;
  /**
   * Public streams live now or ended at or after `endedSince` whose carousel holds a product with
   * this `ref` at a position below `maxPosition`: live first, then newest start; one row per
   * stream (its first such product); at most `limit` (capped).
   */
  listStreamsByProductRef(ref: string, o: { maxPosition: number; endedSince: number; limit: number }): Promise<ProductStream[]>;
  /** What a creator's level is computed from since `since` (ms): live spans of public streams and their sales per minute. */
  levelActivity(creatorId: string, since: number): Promise<LevelActivity>;
  /** How many of a creator's current followers followed within [from, to) (ms). */
  followersGained(creatorId: string, from: number, to: number): Promise<number>;
}

/** A stream and the product of its carousel that a product listing matched. */
export interface ProductStream {
  stream: StreamRecord;
  product: ProductRecord;
}

/** A creator's activity for levels: public streams' live spans (endedAt null while live) and sales per minute. */
export interface LevelActivity {
  intervals: Array<{ startedAt: number; endedAt: number | null }>;
  sales: Array<{ at: number; count: number }>;
}

// ---- Room moderation and counts (issue 14) ------------------------------------------------------

/** Where a ban holds: one stream, or every stream of a creator. */
export type RoomBanScope = 'stream' | 'creator';

/** A shopper timed out of a stream's room or of all a creator's rooms (table `room_bans`). */
export interface RoomBanRecord {
  scope: RoomBanScope;
  /** The stream's id (scope 'stream') or the creator's (scope 'creator'). */
  scopeId: string;
  shopperId: string;
  /** When the time-out ends (ms); null: until lifted. */
  until: number | null;
  createdAt: number;
  /** Who issued it: a creator's id or 'operator'. */
  by: string;
}

/** One minute of a stream's room activity (table `room_minutes`): accepted messages and reactions. */
export interface RoomMinuteCounts {
  startMs: number;
  messages: number;
  reactions: number;
}

/** Bans, per-creator blocked words and per-minute room counts. */
export interface RoomModerationStore {
  /** Adds or replaces the shopper's ban in that scope; VALIDATION for an unknown shopper, stream or creator. */
  putRoomBan(rec: RoomBanRecord): Promise<void>;
  /** Lifts a ban; false when there was none. */
  deleteRoomBan(scope: RoomBanScope, scopeId: string, shopperId: string): Promise<boolean>;
  /**
   * The bans in force at `now` on a stream: its own and, when creatorId is given, its creator's;
   * only one shopper's when shopperId is given. Oldest first, at most 1000.
   */
  listRoomBans(o: { streamId: string; creatorId: string | null; now: number; shopperId?: string }): Promise<RoomBanRecord[]>;
  /** A creator's blocked words (empty when none were set). */
  getBlockedWords(creatorId: string): Promise<string[]>;
  /** Replaces a creator's blocked words; false when there is no such creator. */
  putBlockedWords(creatorId: string, words: readonly string[], at: number): Promise<boolean>;
  /** Adds counts to a stream's minutes (summed with what is there, so nodes and flushes add up); VALIDATION for an unknown stream. */
  addRoomCounts(streamId: string, minutes: readonly RoomMinuteCounts[]): Promise<void>;
  /** A stream's room minutes, oldest first (at most 10,000). */
  listRoomCounts(streamId: string): Promise<RoomMinuteCounts[]>;
}
