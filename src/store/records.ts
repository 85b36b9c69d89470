import { ShowcaseError } from '../core/errors.js';
import type { AnalyticsRecord, CreatorRecord, RecordingRecord, StreamRecord, StreamState } from './types.js';

/**
 * Row <-> record mapping and patch rules shared by the SQLite and PostgreSQL stores, so both give
 * callers exactly the same records. Rows are normalized by each implementation first (booleans,
 * JSON text, bigint strings) into the shapes below.
 */

/** The most rows one listStreams page returns, whatever limit asks for. */
export const MAX_PAGE_SIZE = 1000;

/** The most stream ids one renewLeases call takes (a node serves far fewer live streams). */
export const MAX_RENEW_IDS = 1000;

/** States a recording row may hold (the tables' CHECK constraints say the same). */
export const RECORDING_STATES = ['recording', 'stopped', 'processing', 'ready', 'failed', 'expired'] as const;

export interface CreatorRow {
  id: string;
  handle: string;
  display_name: string;
  token_hash: string;
  disabled: boolean;
  created_at: number;
}

export interface StreamRow {
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
  extra: Record<string, unknown>;
  lease_node_id: string | null;
  lease_expires_at: number | null;
  scheduled_at: number | null;
  practice: boolean;
}

export interface RecordingRow {
  state: RecordingRecord['state'];
  started_at: number | null;
  renditions: string[] | null;
  mp4_rendition: string | null;
  duration_seconds: number | null;
  size_bytes: number | null;
  segments: number | null;
  discontinuities: number | null;
  code: string | null;
  reason: string | null;
  ready_at: number | null;
  finalize_ms: number | null;
  expired_at: number | null;
  updated_at: number;
}

export interface AnalyticsRow {
  watch_seconds_live: number;
  watch_seconds_replay: number;
  watch_seconds_hls: number;
  watch_seconds_webrtc: number;
  unique_viewers: number;
  unique_sketch: string | null;
  replay_unique_viewers: number | null;
  replay_sketch: string | null;
  peak_viewers: number;
  updated_at: number;
}

export interface MinuteRow {
  start_ms: number;
  viewers_avg: number;
  viewers_peak: number;
  watch_seconds: number;
  ingest_bits_per_second: number | null;
}

export const CREATOR_COLUMNS = ['id', 'handle', 'display_name', 'token_hash', 'disabled', 'created_at'] as const;
export const STREAM_COLUMNS = [
  'id', 'owner_id', 'title', 'description', 'stream_key_hash', 'stream_key_prefix', 'state', 'created_at', 'started_at', 'ended_at', 'end_reason', 'extra',
  'lease_node_id', 'lease_expires_at', 'scheduled_at', 'practice',
] as const;
export const RECORDING_COLUMNS = [
  'state', 'started_at', 'renditions', 'mp4_rendition', 'duration_seconds', 'size_bytes', 'segments', 'discontinuities', 'code', 'reason', 'ready_at',
  'finalize_ms', 'expired_at', 'updated_at',
] as const;
export const ANALYTICS_COLUMNS = [
  'watch_seconds_live', 'watch_seconds_replay', 'watch_seconds_hls', 'watch_seconds_webrtc', 'unique_viewers', 'unique_sketch', 'replay_unique_viewers', 'replay_sketch', 'peak_viewers', 'updated_at',
] as const;
export const MINUTE_COLUMNS = ['start_ms', 'viewers_avg', 'viewers_peak', 'watch_seconds', 'ingest_bits_per_second'] as const;

/** A record from a normalized creators row. */
export function creatorFromRow(r: CreatorRow): CreatorRecord {
  return { id: r.id, handle: r.handle, displayName: r.display_name, tokenHash: r.token_hash, disabled: r.disabled, createdAt: r.created_at };
}

/** A normalized creators row from a record. */
export function creatorToRow(c: CreatorRecord): CreatorRow {
  return { id: c.id, handle: c.handle, display_name: c.displayName, token_hash: c.tokenHash, disabled: c.disabled, created_at: c.createdAt };
}

/** A record from a normalized streams row. */
export function streamFromRow(r: StreamRow): StreamRecord {
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
    extra: r.extra,
    lease: r.lease_node_id !== null && r.lease_expires_at !== null ? { nodeId: r.lease_node_id, expiresAt: r.lease_expires_at } : null,
    scheduledAt: r.scheduled_at,
    practice: r.practice,
  };
}

/** A normalized streams row from a record (a new record has no lease). */
export function streamToRow(s: StreamRecord | Omit<StreamRecord, 'lease'>): StreamRow {
  if (!isPlainObject(s.extra)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'stream extra must be a JSON object');
  const lease = 'lease' in s ? s.lease : null;
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
    extra: s.extra,
    lease_node_id: lease?.nodeId ?? null,
    lease_expires_at: lease?.expiresAt ?? null,
    scheduled_at: s.scheduledAt ?? null,
    practice: s.practice ?? false,
  };
}

/** A record from a normalized recordings row (absent figures stay absent, as callers wrote them). */
export function recordingFromRow(r: RecordingRow): RecordingRecord {
  const out: RecordingRecord = { state: r.state, updatedAt: r.updated_at };
  if (r.started_at !== null) out.startedAt = r.started_at;
  if (r.renditions !== null) out.renditions = r.renditions;
  if (r.mp4_rendition !== null) out.mp4Rendition = r.mp4_rendition;
  if (r.duration_seconds !== null) out.durationSeconds = r.duration_seconds;
  if (r.size_bytes !== null) out.sizeBytes = r.size_bytes;
  if (r.segments !== null) out.segments = r.segments;
  if (r.discontinuities !== null) out.discontinuities = r.discontinuities;
  if (r.code !== null) out.code = r.code;
  if (r.reason !== null) out.reason = r.reason;
  if (r.ready_at !== null) out.readyAt = r.ready_at;
  if (r.finalize_ms !== null) out.finalizeMs = r.finalize_ms;
  if (r.expired_at !== null) out.expiredAt = r.expired_at;
  return out;
}

/** A normalized recordings row from a record; throws VALIDATION for a state the table refuses. */
export function recordingToRow(r: RecordingRecord): RecordingRow {
  if (!(RECORDING_STATES as readonly string[]).includes(r.state)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `unknown recording state ${String(r.state)}`);
  return {
    state: r.state,
    started_at: r.startedAt ?? null,
    renditions: r.renditions ?? null,
    mp4_rendition: r.mp4Rendition ?? null,
    duration_seconds: r.durationSeconds ?? null,
    size_bytes: r.sizeBytes ?? null,
    segments: r.segments ?? null,
    discontinuities: r.discontinuities ?? null,
    code: r.code ?? null,
    reason: r.reason ?? null,
    ready_at: r.readyAt ?? null,
    finalize_ms: r.finalizeMs ?? null,
    expired_at: r.expiredAt ?? null,
    updated_at: r.updatedAt,
  };
}

/** A record from a normalized analytics row and its minutes (oldest first). */
export function analyticsFromRows(r: AnalyticsRow, minutes: MinuteRow[]): AnalyticsRecord {
  return {
    watchSecondsLive: r.watch_seconds_live,
    watchSecondsReplay: r.watch_seconds_replay,
    watchSecondsByProtocol: { hls: r.watch_seconds_hls, webrtc: r.watch_seconds_webrtc },
    uniqueViewers: r.unique_viewers,
    ...(r.unique_sketch !== null ? { uniqueSketch: r.unique_sketch } : {}),
    ...(r.replay_unique_viewers !== null ? { replayUniqueViewers: r.replay_unique_viewers } : {}),
    ...(r.replay_sketch !== null ? { replaySketch: r.replay_sketch } : {}),
    peakViewers: r.peak_viewers,
    timeline: minutes.map((m) => ({
      startMs: m.start_ms,
      viewersAvg: m.viewers_avg,
      viewersPeak: m.viewers_peak,
      watchSeconds: m.watch_seconds,
      ...(m.ingest_bits_per_second !== null ? { ingestBitsPerSecond: m.ingest_bits_per_second } : {}),
    })),
    updatedAt: r.updated_at,
  };
}

/** The normalized summary row of an analytics record. */
export function analyticsToRow(a: AnalyticsRecord): AnalyticsRow {
  return {
    watch_seconds_live: a.watchSecondsLive,
    watch_seconds_replay: a.watchSecondsReplay,
    watch_seconds_hls: a.watchSecondsByProtocol.hls,
    watch_seconds_webrtc: a.watchSecondsByProtocol.webrtc,
    unique_viewers: Math.round(a.uniqueViewers),
    unique_sketch: a.uniqueSketch ?? null,
    replay_unique_viewers: a.replayUniqueViewers !== undefined ? Math.round(a.replayUniqueViewers) : null,
    replay_sketch: a.replaySketch ?? null,
    peak_viewers: Math.round(a.peakViewers),
    updated_at: a.updatedAt,
  };
}

/** The normalized minute rows of an analytics record (one per startMs; a repeated minute keeps the last). */
export function minutesToRows(a: AnalyticsRecord): MinuteRow[] {
  const byStart = new Map<number, MinuteRow>();
  for (const m of a.timeline) {
    byStart.set(m.startMs, { start_ms: m.startMs, viewers_avg: m.viewersAvg, viewers_peak: Math.round(m.viewersPeak), watch_seconds: m.watchSeconds, ingest_bits_per_second: m.ingestBitsPerSecond ?? null });
  }
  return [...byStart.values()].sort((x, y) => x.start_ms - y.start_ms);
}

/** True for a non-null, non-array object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copies the keys of `patch` whose value is not undefined onto `base` (undefined means "leave as is"). */
export function applyPatch<T extends object>(base: T, patch: Partial<T>): T {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Shallow merge by top-level key, so features owning different keys never overwrite each other; null deletes a key. */
export function mergeExtra(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * The stream after a patch (shared so both stores apply the same rules): id, createdAt and the
 * lease are not patchable even when a caller sneaks them in past the type; extra merges by key;
 * leaving 'live' drops the lease (nobody serves an ended or idle stream), except that an
 * interrupted stream keeps the expired lease naming its last node.
 */
export function patchedStream(current: StreamRecord, patch: Partial<StreamRecord>): StreamRecord {
  const { extra, id: _id, createdAt: _createdAt, lease: _lease, ...fields } = patch;
  const next = applyPatch(current, fields);
  if (extra !== undefined) {
    if (!isPlainObject(extra)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'stream extra must be a JSON object');
    next.extra = mergeExtra(current.extra, extra);
  }
  // An interrupted stream's expired lease names the node that served it (who may restore it): kept
  // while it stays interrupted; claimLive, releaseLive and the sweeps own it.
  if (next.state !== 'live' && !(next.state === 'interrupted' && current.state === 'interrupted')) next.lease = null;
  return next;
}

/** The page size listStreams uses for a requested limit; BAD_REQUEST for a non-positive or non-integer one. */
export function pageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'limit must be a positive integer');
  return Math.min(limit, MAX_PAGE_SIZE);
}

/** The error every call after close() rejects with. */
export function closedError(): ShowcaseError {
  return new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'the store is closed');
}
