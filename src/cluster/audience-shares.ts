import { BUCKETS } from '../metrics/viewer-types.js';

/**
 * One node's share of a stream's audience as it writes it to Redis every tick: its watch sessions
 * by (protocol, mode) bucket (BUCKET_KEYS order: hls live, webrtc live, hls replay, webrtc replay)
 * and its room sockets, stamped with its wall clock.
 */
export interface AudienceShare {
  sessions: number[];
  room: number;
  /** The writing node's Date.now() when it wrote this share. */
  at: number;
}

/** A stream's audience summed over the nodes: sessions by bucket, their total, room sockets, and how many nodes had a share. */
export interface AudienceTotals {
  sessions: number[];
  watching: number;
  room: number;
  nodes: number;
}

/** A share is small: anything larger in the hash is not ours. */
const MAX_SHARE_CHARS = 256;
/** A count over this is not a count (a damaged or foreign value). */
const MAX_COUNT = 10_000_000;

/** The share as stored in a stream's hash field: compact JSON. */
export function formatShare(s: AudienceShare): string {
  return JSON.stringify({ t: s.at, s: s.sessions, r: s.room });
}

/** A share read from Redis, or undefined when missing or not one of ours. */
export function parseShare(raw: string | null | undefined): AudienceShare | undefined {
  if (!raw || raw.length > MAX_SHARE_CHARS) return undefined;
  let v: { t?: unknown; s?: unknown; r?: unknown };
  try {
    v = JSON.parse(raw) as typeof v;
  } catch {
    return undefined;
  }
  const count = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= MAX_COUNT;
  if (typeof v !== 'object' || v === null || typeof v.t !== 'number' || !Number.isFinite(v.t) || !count(v.r)) return undefined;
  if (!Array.isArray(v.s) || v.s.length !== BUCKETS || !v.s.every(count)) return undefined;
  return { at: v.t, sessions: v.s as number[], room: v.r };
}

/** Sums shares (this node's own and the others' fresh ones). */
export function sumShares(shares: Iterable<AudienceShare>): AudienceTotals {
  const sessions = new Array<number>(BUCKETS).fill(0);
  let room = 0;
  let nodes = 0;
  for (const s of shares) {
    for (let b = 0; b < BUCKETS; b++) sessions[b]! += s.sessions[b]!;
    room += s.room;
    nodes++;
  }
  return { sessions, watching: sessions.reduce((a, b) => a + b, 0), room, nodes };
}

/** Whether a share counts for anything (a node with none deletes its field instead of writing zeros). */
export function isEmptyShare(s: Pick<AudienceShare, 'sessions' | 'room'>): boolean {
  return s.room === 0 && s.sessions.every((n) => n === 0);
}
