import { createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { decodeSessionId, encodeSessionId, MAX_SLOT } from './session-id.js';
import { StreamIndex } from './stream-index.js';
import {
  BUCKETS, monotonicNowMs,
  type FirstActiveVisitor, type IssueOptions, type SessionInfo, type SessionRejectReason, type SessionTableStats,
  type ViewerProtocol, type ViewerSessionTableOptions, type ViewMode,
} from './viewer-types.js';

export {
  BUCKETS, BUCKET_KEYS, bucketOf, monotonicNowMs,
  type FirstActiveVisitor, type IssueOptions, type SessionInfo, type SessionRejectReason, type SessionTableStats,
  type ViewerProtocol, type ViewerSessionTableOptions, type ViewMode,
} from './viewer-types.js';

// One flag byte per slot. WEBRTC and REPLAY sit at bits 1 and 2 so that (flags >> 1) & 3 is the
// (protocol, mode) bucket of viewer-types.ts without a branch in the per-tick walk.
const USED = 1;
const WEBRTC = 2;
const REPLAY = 4;
/** A WebRTC consumer: active until close(), never times out, not in the timed LRU list. */
const OPEN = 8;
/** Already added to its stream's unique-viewer sketch. */
const COUNTED = 16;

const NIL = -1;
/** LRU list of sessions that expire (HLS, heartbeats), ordered by last touch. */
const LIST_TIMED = 0;
/** List of open WebRTC consumers, ordered by open time (evicted only when no timed session is left). */
const LIST_OPEN = 1;
const MIN_ALLOCATION = 1024;
/** Stream indices are stored as Uint16. */
const MAX_STREAM_INDICES = 0xffff;

/**
 * Compact viewer session storage: struct-of-arrays keyed by slot (about 45 bytes a session)
 * instead of a Map of objects (hundreds of bytes each and GC pressure at 100k viewers).
 * Columns grow by doubling up to the capacity, so memory follows the audience.
 */
export class ViewerSessionTable {
  /** Most sessions held at once. */
  readonly capacity: number;
  /** Idle time after which a timed session stops being active. */
  readonly timeoutMs: number;
  /** Most distinct streams with sessions at once. */
  readonly maxStreams: number;
  /** The table's clock (epoch ms). */
  readonly now: () => number;

  #allocated = 0;
  #highWater = 0;
  #size = 0;
  #freeHead = NIL;
  #generation = new Uint32Array(0);
  #tags = new Uint32Array(0);
  #hashes = new Uint32Array(0);
  #stream = new Uint16Array(0);
  #flags = new Uint8Array(0);
  #lastSeen = new Float64Array(0);
  #prev = new Int32Array(0);
  #next = new Int32Array(0);
  readonly #listHead = new Int32Array([NIL, NIL]);
  readonly #listTail = new Int32Array([NIL, NIL]);
  readonly #decoded = new Uint32Array(5);
  readonly #random = new Uint32Array(5 * 256);
  #randomPos = this.#random.length;
  readonly #hashKey: Uint8Array;

  readonly #streams: StreamIndex;
  readonly #streamSessions: Uint32Array;

  #issued = 0;
  #evicted = 0;
  #expired = 0;
  #closed = 0;
  #refused = 0;
  readonly #rejected: Record<SessionRejectReason, number> = { malformed: 0, unknown: 0, forged: 0, expired: 0 };

  constructor(options: ViewerSessionTableOptions = {}) {
    const capacity = options.capacity ?? 200_000;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_SLOT + 1) {
      throw new RangeError(`capacity must be an integer in [1, ${MAX_SLOT + 1}]`);
    }
    const timeoutMs = options.timeoutMs ?? 6000;
    if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    const maxStreams = options.maxStreams ?? 4096;
    if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > MAX_STREAM_INDICES) {
      throw new RangeError(`maxStreams must be an integer in [1, ${MAX_STREAM_INDICES}]`);
    }
    this.capacity = capacity;
    this.timeoutMs = timeoutMs;
    this.maxStreams = maxStreams;
    this.now = options.now ?? monotonicNowMs;
    this.#hashKey = options.hashKey ?? randomBytes(32);
    this.#streams = new StreamIndex(maxStreams);
    this.#streamSessions = new Uint32Array(maxStreams);
  }

  /** Sessions held (active, or timed out and not yet reclaimed). */
  get size(): number {
    return this.#size;
  }

  /** Upper bound (exclusive) of slot indices ever used: the extent sample() walks. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Upper bound (exclusive) of stream indices ever handed out. */
  get streamIndexExtent(): number {
    return this.#streams.extent;
  }

  /** Issues a session id for a viewer of streamId; '' when maxStreams streams already have sessions (viewing must not fail because of metrics). */
  issue(streamId: string, protocol: ViewerProtocol, mode: ViewMode, options?: IssueOptions): string {
    const flags = (protocol === 'webrtc' ? WEBRTC : 0) | (mode === 'replay' ? REPLAY : 0);
    return this.#issue(streamId, flags, options);
  }

  /** Registers a connected WebRTC consumer: active until close(id), whatever the timeout. */
  open(streamId: string, mode: ViewMode, options?: IssueOptions): string {
    return this.#issue(streamId, WEBRTC | OPEN | (mode === 'replay' ? REPLAY : 0), options);
  }

  /** Marks a session as seen now (a playlist/part fetch or a heartbeat); false for unknown, forged, expired or other-stream ids. */
  touch(sessionId: unknown, nowMs: number = this.now(), streamId?: string): boolean {
    const slot = this.#find(sessionId, streamId);
    if (slot === NIL) return false;
    const lastSeen = this.#lastSeen;
    if ((this.#flags[slot]! & OPEN) === 0) {
      if (nowMs - lastSeen[slot]! >= this.timeoutMs) {
        this.#rejected.expired++;
        this.#expired++;
        this.#release(slot);
        return false;
      }
      this.#unlink(slot, LIST_TIMED);
      this.#append(slot, LIST_TIMED);
    }
    if (nowMs > lastSeen[slot]!) lastSeen[slot] = nowMs;
    return true;
  }

  /** Ends a session now (a WebRTC consumer closed, a player said goodbye); false for an invalid id. */
  close(sessionId: unknown, streamId?: string): boolean {
    const slot = this.#find(sessionId, streamId);
    if (slot === NIL) return false;
    this.#closed++;
    this.#release(slot);
    return true;
  }

  /** What a valid, unexpired session id refers to; undefined otherwise. */
  lookup(sessionId: unknown, nowMs: number = this.now()): SessionInfo | undefined {
    const slot = this.#find(sessionId, undefined);
    if (slot === NIL) return undefined;
    const f = this.#flags[slot]!;
    const lastSeenMs = this.#lastSeen[slot]!;
    if ((f & OPEN) === 0 && nowMs - lastSeenMs >= this.timeoutMs) return undefined;
    return {
      streamId: this.#streams.idAt(this.#stream[slot]!)!,
      protocol: f & WEBRTC ? 'webrtc' : 'hls',
      mode: f & REPLAY ? 'replay' : 'live',
      open: (f & OPEN) !== 0,
      lastSeenMs,
    };
  }

  /** Reclaims timed sessions idle for timeoutMs or more; returns how many. O(expired), from the LRU head. */
  expire(nowMs: number = this.now()): number {
    const head = this.#listHead;
    const lastSeen = this.#lastSeen;
    const timeoutMs = this.timeoutMs;
    let n = 0;
    for (let slot = head[LIST_TIMED]!; slot !== NIL && nowMs - lastSeen[slot]! >= timeoutMs; slot = head[LIST_TIMED]!) {
      this.#release(slot);
      n++;
    }
    this.#expired += n;
    return n;
  }

  /**
   * The per-tick walk: adds 1 to counts[streamIndex * BUCKETS + bucket] for every session
   * active at nowMs and returns how many were active. Sessions active for the first time are
   * passed to onFirstActive (for unique-viewer sketches). One linear pass over the columns:
   * cache-friendly, no allocation, no per-session call except for new viewers.
   */
  sample(nowMs: number, counts: Uint32Array, onFirstActive: FirstActiveVisitor): number {
    const flags = this.#flags;
    const lastSeen = this.#lastSeen;
    const stream = this.#stream;
    const hashes = this.#hashes;
    const timeoutMs = this.timeoutMs;
    const end = this.#highWater;
    let active = 0;
    for (let s = 0; s < end; s++) {
      const f = flags[s]!;
      if ((f & USED) === 0) continue;
      if ((f & OPEN) === 0 && nowMs - lastSeen[s]! >= timeoutMs) continue;
      const streamIndex = stream[s]!;
      counts[streamIndex * BUCKETS + ((f >>> 1) & 3)]!++;
      active++;
      if ((f & COUNTED) === 0) {
        flags[s] = f | COUNTED;
        onFirstActive(streamIndex, hashes[2 * s]!, hashes[2 * s + 1]!, (f & REPLAY) !== 0);
      }
    }
    return active;
  }

  /** The index of a stream id, or -1 when it has none. */
  streamIndexOf(streamId: string): number {
    return this.#streams.indexOf(streamId);
  }

  /** The index of a stream id, mapping it when new; -1 when maxStreams are mapped. */
  ensureStream(streamId: string): number {
    return this.#streams.ensure(streamId);
  }

  /** The stream id mapped at an index, if any. */
  streamIdAt(index: number): string | undefined {
    return this.#streams.idAt(index);
  }

  /** Sessions held for a stream index (active or not yet reclaimed). */
  streamSessionCount(index: number): number {
    return this.#streamSessions[index] ?? 0;
  }

  /** Unmaps a stream, ending any sessions it still has (its index will be reused); returns the sessions ended. */
  releaseStream(streamId: string): number {
    const index = this.#streams.indexOf(streamId);
    if (index === NIL) return 0;
    let ended = 0;
    if (this.#streamSessions[index]! > 0) {
      const flags = this.#flags;
      const stream = this.#stream;
      for (let s = 0; s < this.#highWater; s++) {
        if ((flags[s]! & USED) !== 0 && stream[s] === index) {
          this.#release(s);
          ended++;
        }
      }
    }
    this.#streams.release(streamId);
    return ended;
  }

  /** Counters for /metrics and logs. */
  stats(): SessionTableStats {
    return {
      sessions: this.#size,
      capacity: this.capacity,
      allocatedSlots: this.#allocated,
      streams: this.#streams.size,
      issued: this.#issued,
      evicted: this.#evicted,
      expired: this.#expired,
      closed: this.#closed,
      refused: this.#refused,
      rejected: { ...this.#rejected },
    };
  }

  /** Bytes held by the slot columns (what the per-session memory budget is about). */
  columnBytes(): number {
    return this.#generation.byteLength + this.#tags.byteLength + this.#hashes.byteLength + this.#stream.byteLength
      + this.#flags.byteLength + this.#lastSeen.byteLength + this.#prev.byteLength + this.#next.byteLength
      + this.#streamSessions.byteLength;
  }

  #issue(streamId: string, flags: number, options: IssueOptions | undefined): string {
    const nowMs = options?.nowMs ?? this.now();
    const streamIndex = this.ensureStream(streamId);
    if (streamIndex === NIL) {
      this.#refused++;
      return '';
    }
    const slot = this.#takeSlot();
    const tag0 = this.#randomWord() & MAX_SLOT;
    const tag1 = this.#randomWord() & MAX_SLOT;
    const tag2 = this.#randomWord() & MAX_SLOT;
    this.#tags[3 * slot] = tag0;
    this.#tags[3 * slot + 1] = tag1;
    this.#tags[3 * slot + 2] = tag2;
    if (options?.viewerKey !== undefined) {
      // Keyed, so a client choosing its own key cannot grind values that inflate the sketch.
      const digest = createHmac('sha256', this.#hashKey).update(options.viewerKey).digest();
      this.#hashes[2 * slot] = digest.readUInt32BE(0);
      this.#hashes[2 * slot + 1] = digest.readUInt32BE(4);
    } else {
      this.#hashes[2 * slot] = this.#randomWord();
      this.#hashes[2 * slot + 1] = this.#randomWord();
    }
    this.#stream[slot] = streamIndex;
    this.#streamSessions[streamIndex]!++;
    this.#flags[slot] = flags | USED;
    this.#lastSeen[slot] = nowMs;
    this.#append(slot, flags & OPEN ? LIST_OPEN : LIST_TIMED);
    this.#size++;
    this.#issued++;
    return encodeSessionId(slot, this.#generation[slot]!, tag0, tag1, tag2);
  }

  /** Validates an id and returns its slot, or NIL (counting why). */
  #find(sessionId: unknown, streamId: string | undefined): number {
    const d = this.#decoded;
    if (!decodeSessionId(sessionId, d)) {
      this.#rejected.malformed++;
      return NIL;
    }
    const slot = d[0]!;
    if (slot >= this.#highWater || (this.#flags[slot]! & USED) === 0 || this.#generation[slot] !== d[1]) {
      this.#rejected.unknown++;
      return NIL;
    }
    const tags = this.#tags;
    const t = 3 * slot;
    if (((tags[t]! ^ d[2]!) | (tags[t + 1]! ^ d[3]!) | (tags[t + 2]! ^ d[4]!)) !== 0) {
      this.#rejected.forged++;
      return NIL;
    }
    if (streamId !== undefined && this.#streams.idAt(this.#stream[slot]!) !== streamId) {
      this.#rejected.unknown++;
      return NIL;
    }
    return slot;
  }

  #takeSlot(): number {
    if (this.#freeHead !== NIL) {
      const slot = this.#freeHead;
      this.#freeHead = this.#next[slot]!;
      return slot;
    }
    if (this.#highWater === this.#allocated && this.#allocated < this.capacity) this.#grow();
    if (this.#highWater < this.#allocated) return this.#highWater++;
    // Full: evict the least recently seen timed session; open WebRTC consumers go only when none is left.
    const victim = this.#listHead[LIST_TIMED] !== NIL ? this.#listHead[LIST_TIMED]! : this.#listHead[LIST_OPEN]!;
    this.#release(victim);
    this.#evicted++;
    const slot = this.#freeHead;
    this.#freeHead = this.#next[slot]!;
    return slot;
  }

  #release(slot: number): void {
    this.#unlink(slot, this.#flags[slot]! & OPEN ? LIST_OPEN : LIST_TIMED);
    this.#streamSessions[this.#stream[slot]!]!--;
    this.#flags[slot] = 0;
    // A new generation kills every id handed out for the previous occupant.
    this.#generation[slot] = (this.#generation[slot]! + 1) & MAX_SLOT;
    this.#next[slot] = this.#freeHead;
    this.#freeHead = slot;
    this.#size--;
  }

  #append(slot: number, list: number): void {
    const tail = this.#listTail[list]!;
    this.#prev[slot] = tail;
    this.#next[slot] = NIL;
    if (tail === NIL) this.#listHead[list] = slot;
    else this.#next[tail] = slot;
    this.#listTail[list] = slot;
  }

  #unlink(slot: number, list: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev === NIL) this.#listHead[list] = next;
    else this.#next[prev] = next;
    if (next === NIL) this.#listTail[list] = prev;
    else this.#prev[next] = prev;
  }

  #grow(): void {
    const n = Math.min(this.capacity, Math.max(MIN_ALLOCATION, this.#allocated * 2));
    this.#generation = grown(this.#generation, new Uint32Array(n));
    this.#tags = grown(this.#tags, new Uint32Array(3 * n));
    this.#hashes = grown(this.#hashes, new Uint32Array(2 * n));
    this.#stream = grown(this.#stream, new Uint16Array(n));
    this.#flags = grown(this.#flags, new Uint8Array(n));
    this.#lastSeen = grown(this.#lastSeen, new Float64Array(n));
    this.#prev = grown(this.#prev, new Int32Array(n));
    this.#next = grown(this.#next, new Int32Array(n));
    this.#allocated = n;
  }

  #randomWord(): number {
    if (this.#randomPos === this.#random.length) {
      randomFillSync(this.#random);
      this.#randomPos = 0;
    }
    return this.#random[this.#randomPos++]!;
  }
}

/** Copies a column into its larger replacement. */
function grown<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(old: T, next: T): T {
  next.set(old as never);
  return next;
}
