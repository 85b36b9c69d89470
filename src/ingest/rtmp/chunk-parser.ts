/**
 * The RTMP chunk stream, reassembled into messages. Every limit holds before memory is spent:
 * a declared message length over the current limit, more chunk streams than maxChunkStreams, or more
 * bytes held (unparsed input plus partly assembled messages) than maxBufferedBytes is an error
 * thrown from the header alone. Until the connection trusts its peer (an accepted publisher), a
 * message's buffer grows with the bytes that actually arrive, never to what a header claims; after
 * that it is allocated once at its declared length, so a frame is copied exactly once.
 */

export interface RtmpMessage {
  type: number;
  /** Message stream id (0 for the connection, the createStream result for a stream). */
  streamId: number;
  /** Absolute timestamp in ms: deltas accumulated, extended timestamps applied, 32-bit wraps unrolled. */
  timestamp: number;
  payload: Buffer;
}

export interface ChunkParserLimits {
  maxChunkSize: number;
  maxMessageSize: number;
  maxBufferedBytes: number;
  maxChunkStreams: number;
}

export type ChunkStreamErrorReason = 'protocol-error' | 'message-too-large' | 'buffer-overflow' | 'too-many-chunk-streams';

/** Why the parser gave up on a connection (the server counts refusals by this reason). */
export class ChunkStreamError extends Error {
  override name = 'ChunkStreamError';
  constructor(readonly reason: ChunkStreamErrorReason, message: string) {
    super(message);
  }
}

interface ChunkStreamState {
  /** Absolute timestamp of the last message started on this chunk stream. */
  timestamp: number;
  /** The timestamp field a type-3 header repeats (the delta; for type 0, its timestamp, as ffmpeg and SRS read it). */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** The last type 0/1/2 header carried an extended timestamp, so type-3 headers carry one too. */
  extended: boolean;
  /** The message being assembled. */
  buf: Buffer | undefined;
  filled: number;
}

const INITIAL_MESSAGE_BUFFER = 16 * 1024;
/** Largest chunk: 3-byte basic header, 11-byte message header, 4-byte extended timestamp, payload. */
const MAX_CHUNK_OVERHEAD = 18;
const TWO_32 = 0x1_0000_0000;
const TWO_31 = 0x8000_0000;
const EMPTY = Buffer.alloc(0);

/** Incremental chunk-stream parser: feed bytes with push(), receive whole messages in onMessage. */
export class ChunkParser {
  /** The peer's chunk size (Set Chunk Size changes it). */
  chunkSize = 128;
  /** Largest message accepted now: the connection keeps it small until a publish is requested. */
  messageSizeLimit: number;
  /** Allocate each message at its declared length (set once the peer is an accepted publisher). */
  allocateDeclared = false;
  #pending: Buffer = EMPTY;
  readonly #streams = new Map<number, ChunkStreamState>();
  #assembling = 0;
  #lastTimestamp = -1;
  #stopped = false;

  constructor(private readonly limits: ChunkParserLimits, private readonly onMessage: (m: RtmpMessage) => void) {
    this.messageSizeLimit = limits.maxMessageSize;
  }

  /** Bytes currently held: unparsed input plus messages in assembly. */
  get bufferedBytes(): number {
    return this.#pending.length + this.#assembling;
  }

  /** Stops parsing (the connection is closing); later pushes are ignored and buffers released. */
  stop(): void {
    this.#stopped = true;
    this.#pending = EMPTY;
    this.#streams.clear();
    this.#assembling = 0;
  }

  /** Parses as much as possible; throws ChunkStreamError on a violation. */
  push(data: Buffer): void {
    if (this.#stopped) return;
    let offset = 0;
    if (this.#pending.length) {
      // Finish the chunk that straddles two reads by joining only what it can need (its header and
      // one chunk of payload), then parse the rest of this read in place: no copy of the whole read.
      const pl = this.#pending.length;
      const joined = Buffer.concat([this.#pending, data.subarray(0, Math.min(data.length, this.chunkSize + MAX_CHUNK_OVERHEAD))]);
      let off = 0;
      while (off < pl && !this.#stopped) {
        const c = this.#parseChunk(joined, off);
        if (c === 0) break;
        off += c;
      }
      if (this.#stopped) return;
      if (off < pl) {
        // Still short of one chunk (or the chunk size grew meanwhile): keep everything, bounded below.
        this.#pending = Buffer.concat([this.#pending.subarray(off), data]);
        this.#checkBuffered();
        return;
      }
      offset = off - pl;
    }
    while (offset < data.length && !this.#stopped) {
      const consumed = this.#parseChunk(data, offset);
      if (consumed === 0) break;
      offset += consumed;
    }
    if (this.#stopped) return;
    // Keep a copy of the remainder (less than one chunk), not a view pinning the whole socket read.
    this.#pending = offset >= data.length ? EMPTY : Buffer.from(data.subarray(offset));
    this.#checkBuffered();
  }

  #checkBuffered(): void {
    if (this.bufferedBytes > this.limits.maxBufferedBytes) {
      throw new ChunkStreamError('buffer-overflow', `connection holds ${this.bufferedBytes} bytes, over ${this.limits.maxBufferedBytes}`);
    }
  }

  /** Applies a peer's Set Chunk Size; a size outside 1..maxChunkSize is a protocol error. */
  setChunkSize(size: number): void {
    if (size < 1 || size > this.limits.maxChunkSize) throw new ChunkStreamError('protocol-error', `chunk size ${size} outside 1..${this.limits.maxChunkSize}`);
    this.chunkSize = size;
  }

  /** Drops a partly received message (Abort Message). */
  abort(csid: number): void {
    const s = this.#streams.get(csid);
    if (s?.buf) {
      this.#assembling -= s.buf.length;
      s.buf = undefined;
      s.filled = 0;
    }
  }

  /** Parses one chunk at offset; returns the bytes consumed, or 0 if the chunk is incomplete. */
  #parseChunk(buf: Buffer, offset: number): number {
    const avail = buf.length - offset;
    const b0 = buf[offset]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let p = offset + 1;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + buf[p]!;
      p += 1;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + buf[p]! + buf[p + 1]! * 256;
      p += 2;
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - p < headerLen) return 0;
    let s = this.#streams.get(csid);
    if (s === undefined) {
      if (fmt !== 0) throw new ChunkStreamError('protocol-error', `chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.#streams.size >= this.limits.maxChunkStreams) throw new ChunkStreamError('too-many-chunk-streams', `more than ${this.limits.maxChunkStreams} chunk streams`);
    }
    // Read the header without committing it: the chunk may still be incomplete.
    let ts = 0;
    let length = s ? s.length : 0;
    let type = s ? s.type : 0;
    if (fmt <= 2) ts = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
    if (fmt <= 1) {
      length = (buf[p + 3]! << 16) | (buf[p + 4]! << 8) | buf[p + 5]!;
      type = buf[p + 6]!;
    }
    const starting = s === undefined || s.buf === undefined;
    // The declared length is judged from the header alone, before the chunk (or anything) is held.
    if (starting && length > this.messageSizeLimit) {
      throw new ChunkStreamError('message-too-large', `message of ${length} bytes over ${this.messageSizeLimit}`);
    }
    p += headerLen;
    const extended = fmt <= 2 ? ts === 0xffffff : s!.extended;
    if (extended) {
      if (buf.length - p < 4) return 0;
      ts = buf.readUInt32BE(p);
      p += 4;
    }
    const take = Math.min(starting ? length : length - s!.filled, this.chunkSize);
    if (buf.length - p < take) return 0;

    // The chunk is complete: commit its header.
    if (s === undefined) {
      s = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, buf: undefined, filled: 0 };
      this.#streams.set(csid, s);
    }
    s.extended = extended;
    if (!starting) {
      if (fmt !== 3 && (length !== s.length || type !== s.type)) throw new ChunkStreamError('protocol-error', `chunk stream ${csid} changed its message mid-message`);
      return this.#append(s, buf, p, take, offset);
    }
    if (fmt === 0) {
      s.timestamp = this.#unwrap(ts);
      s.delta = ts;
      s.streamId = buf.readUInt32LE(p - (extended ? 4 : 0) - 4);
    } else {
      // Type 1/2 carry a delta; type 3 repeats the previous one (its extended field, when present, is
      // the delta as ffmpeg writes it). A delta past 2^31 is a small step back written as uint32.
      const d = fmt === 3 && !extended ? s.delta : ts;
      s.delta = d;
      s.timestamp = Math.max(0, s.timestamp + (d >= TWO_31 ? d - TWO_32 : d));
    }
    this.#lastTimestamp = s.timestamp;
    s.length = length;
    s.type = type;
    s.filled = 0;
    if (length === 0) {
      this.onMessage({ type, streamId: s.streamId, timestamp: s.timestamp, payload: EMPTY });
      return p - offset;
    }
    const size = this.allocateDeclared ? length : Math.min(length, INITIAL_MESSAGE_BUFFER);
    if (this.#pending.length + this.#assembling + size > this.limits.maxBufferedBytes) {
      throw new ChunkStreamError('buffer-overflow', `messages in assembly would exceed ${this.limits.maxBufferedBytes} bytes`);
    }
    s.buf = Buffer.allocUnsafe(size);
    this.#assembling += size;
    return this.#append(s, buf, p, take, offset);
  }

  /** Unrolls a 32-bit absolute timestamp against the last one seen, so a wrap keeps counting up. */
  #unwrap(raw: number): number {
    const ref = this.#lastTimestamp;
    if (ref < 0) return raw;
    let t = ref - (ref % TWO_32) + raw;
    if (t < ref - TWO_31) t += TWO_32;
    else if (t > ref + TWO_31 && t >= TWO_32) t -= TWO_32;
    return t;
  }

  /** Copies a chunk's payload into its message (growing the buffer if it was not allocated whole); delivers a complete message. */
  #append(s: ChunkStreamState, src: Buffer, start: number, n: number, chunkStart: number): number {
    let dst = s.buf!;
    if (s.filled + n > dst.length) {
      const size = Math.min(s.length, Math.max(dst.length * 2, s.filled + n));
      if (this.#pending.length + this.#assembling - dst.length + size > this.limits.maxBufferedBytes) {
        throw new ChunkStreamError('buffer-overflow', `messages in assembly would exceed ${this.limits.maxBufferedBytes} bytes`);
      }
      const grown = Buffer.allocUnsafe(size);
      dst.copy(grown, 0, 0, s.filled);
      this.#assembling += size - dst.length;
      dst = grown;
      s.buf = grown;
    }
    src.copy(dst, s.filled, start, start + n);
    s.filled += n;
    if (s.filled === s.length) {
      this.#assembling -= dst.length;
      s.buf = undefined;
      s.filled = 0;
      this.onMessage({ type: s.type, streamId: s.streamId, timestamp: s.timestamp, payload: dst });
    }
    return start + n - chunkStart;
  }
}
