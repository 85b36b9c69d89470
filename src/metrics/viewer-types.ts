/** How a viewer receives media. */
export type ViewerProtocol = 'hls' | 'webrtc';
/** Whether a viewer watches the live edge or a replay (VOD / DVR). */
export type ViewMode = 'live' | 'replay';
/** Why touch(), close() or lookup() turned an id down (counted per reason for operators). */
export type SessionRejectReason = 'malformed' | 'unknown' | 'forged' | 'expired';

/** Number of (protocol, mode) buckets a count array holds per stream. */
export const BUCKETS = 4;
/** The (protocol, mode) of each bucket index, in bucket order (webrtc adds 1, replay adds 2). */
export const BUCKET_KEYS: ReadonlyArray<readonly [ViewerProtocol, ViewMode]> = [
  ['hls', 'live'], ['webrtc', 'live'], ['hls', 'replay'], ['webrtc', 'replay'],
];

/** The bucket index of a (protocol, mode) pair in per-stream count arrays. */
export function bucketOf(protocol: ViewerProtocol, mode: ViewMode): number {
  return (protocol === 'webrtc' ? 1 : 0) + (mode === 'replay' ? 2 : 0);
}

/** Epoch milliseconds that never go backwards (NTP steps would otherwise expire or revive sessions). */
export function monotonicNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Options of a ViewerSessionTable. */
export interface ViewerSessionTableOptions {
  /** Most sessions held at once; past it the least recently seen is evicted (default 200,000). */
  capacity?: number;
  /** A timed session is active while its last touch is younger than this (default 6,000 ms: a few target durations). */
  timeoutMs?: number;
  /** Most distinct streams with sessions at once (default 4,096, at most 65,535). */
  maxStreams?: number;
  /** Clock for calls that omit nowMs (default monotonicNowMs). */
  now?: () => number;
  /** Key of the hash applied to viewer keys; persist it to keep unique counts mergeable across restarts (default random). */
  hashKey?: Uint8Array;
}

/** Per-call options of issue() and open(). */
export interface IssueOptions {
  /** Time of issue (defaults to the table's clock). */
  nowMs?: number;
  /** Stable viewer identity (user id, or a hash of IP + user agent) so reconnects count once as unique; default: the session. */
  viewerKey?: string;
}

/** What a valid session id refers to. */
export interface SessionInfo {
  streamId: string;
  protocol: ViewerProtocol;
  mode: ViewMode;
  /** True for an open WebRTC consumer (active until closed). */
  open: boolean;
  lastSeenMs: number;
}

/** Counters of a ViewerSessionTable, for /metrics. */
export interface SessionTableStats {
  sessions: number;
  capacity: number;
  allocatedSlots: number;
  streams: number;
  issued: number;
  evicted: number;
  expired: number;
  closed: number;
  /** issue()/open() calls that got no id because maxStreams streams already have sessions. */
  refused: number;
  rejected: Readonly<Record<SessionRejectReason, number>>;
}

/** Called once per session, on the first tick it is active: (streamIndex, hashHigh, hashLow, whether it watches a replay). */
export type FirstActiveVisitor = (streamIndex: number, hashHigh: number, hashLow: number, replay: boolean) => void;
