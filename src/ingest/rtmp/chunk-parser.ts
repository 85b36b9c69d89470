/**
 * The RTMP chunk stream, reassembled into messages. A streaming state machine (as nginx-rtmp reads
 * it): a chunk header is parsed in place, or from an 18-byte scratch when it straddles two reads,
 * and chunk payload is copied straight from each socket read into its message, so no read is ever
 * joined or re-copied. Every limit holds before memory is spent: a declared message length over the
 * current limit, more chunk streams than maxChunkStreams, or more bytes held in messages being
 * assembled than maxBufferedBytes is an error thrown from the header alone. Until the connection
 * trusts its peer (an accepted publisher), a message's buffer grows with the bytes that actually
 * arrive, never to what a header claims; after that it is allocated once at its declared length.
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
/** Longest chunk header: 3-byte basic header, 11-byte message header, 4-byte extended timestamp. */
const MAX_HEADER = 18;
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
  /** A chunk header that straddles two reads. */
  readonly #scratch = Buffer.allocUnsafe(MAX_HEADER);
  #scratchLen = 0;
  /** The chunk stream whose payload is being read, and how much of this chunk's payload is left. */
  #current: ChunkStreamState | undefined;
  #chunkLeft = 0;
  readonly #streams = new Map<number, ChunkStreamState>();
  #assembling = 0;
  #lastTimestamp = -1;
  #stopped = false;

  constructor(private readonly limits: ChunkParserLimits, private readonly onMessage: (m: RtmpMessage) => void) {
    this.messageSizeLimit = limits.maxMessageSize;
  }

  /** Bytes currently held: a partial header plus messages in assembly. */
  get bufferedBytes(): number {
    return this.#scratchLen + this.#assembling;
  }

  /** Stops parsing (the connection is closing); later pushes are ignored and buffers released. */
  stop(): void {
    this.#stopped = true;
    this.#streams.clear();
    this.#current = undefined;
    this.#assembling = 0;
    this.#scratchLen = 0;
  }

  /** Parses as much as possible; throws ChunkStreamError on a violation. */
  push(data: Buffer): void {
    const end = data.length;
    let off = 0;
    while (off < end && !this.#stopped) {
      if (this.#chunkLeft > 0) {
        const n = Math.min(this.#chunkLeft, end - off);
        this.#chunkLeft -= n;
        this.#append(this.#current!, data, off, n);
        off += n;
        continue;
      }
      if (this.#scratchLen === 0) {
        const used = this.#parseHeader(data, off);
        if (used > 0) {
          off += used;
          continue;
        }
        // An incomplete header (fewer than 18 bytes left in this read): keep it for the next read.
        data.copy(this.#scratch, 0, off, end);
        this.#scratchLen = end - off;
        return;
      }
      // Complete the straddling header from the start of this read.
      const had = this.#scratchLen;
      const copied = data.copy(this.#scratch, had, off, Math.min(end, off + MAX_HEADER - had));
      const used = this.#parseHeader(this.#scratch.subarray(0, had + copied), 0);
      if (used === 0) {
        this.#scratchLen = had + copied;
        return;
      }
      this.#scratchLen = 0;
      off += used - had;
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

  /**
   * Parses and commits one chunk header at offset; returns its length, or 0 if the header is not
   * all there yet. Sets up the payload that follows (allocating the message after the checks).
   */
  #parseHeader(buf: Buffer, offset: number): number {
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
    let ts = 0;
    let length = s ? s.length : 0;
    let type = s ? s.type : 0;
    if (fmt <= 2) ts = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
    if (fmt <= 1) {
      length = (buf[p + 3]! << 16) | (buf[p + 4]! << 8) | buf[p + 5]!;
      type = buf[p + 6]!;
    }
    const starting = s === undefined || s.buf === undefined;
    // The declared length is judged from the header alone, before anything is held for it.
    if (starting && length > this.messageSizeLimit) {
      throw new ChunkStreamError('message-too-large', `message of ${length} bytes over ${this.messageSizeLimit}`);
    }
    const streamIdAt = p + 7;
    p += headerLen;
    const extended = fmt <= 2 ? ts === 0xffffff : s!.extended;
    if (extended) {
      if (buf.length - p < 4) return 0;
      ts = buf.readUInt32BE(p);
      p += 4;
    }

    // The header is complete: commit it.
    if (s === undefined) {
      s = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, buf: undefined, filled: 0 };
      this.#streams.set(csid, s);
    }
    s.extended = extended;
    this.#current = s;
    if (!starting) {
      if (fmt !== 3 && (length !== s.length || type !== s.type)) throw new ChunkStreamError('protocol-error', `chunk stream ${csid} changed its message mid-message`);
      this.#chunkLeft = Math.min(s.length - s.filled, this.chunkSize);
      return p - offset;
    }
    if (fmt === 0) {
      s.timestamp = this.#unwrap(ts);
      s.delta = ts;
      s.streamId = buf.readUInt32LE(streamIdAt);
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
      this.#chunkLeft = 0;
      this.onMessage({ type, streamId: s.streamId, timestamp: s.timestamp, payload: EMPTY });
      return p - offset;
    }
    // Untrusted: start with one chunk's worth (what the peer is about to send), doubling as bytes arrive.
    const size = this.allocateDeclared ? length : Math.min(length, this.chunkSize, INITIAL_MESSAGE_BUFFER);
    if (this.#assembling + size > this.limits.maxBufferedBytes) {
      throw new ChunkStreamError('buffer-overflow', `messages in assembly would exceed ${this.limits.maxBufferedBytes} bytes`);
    }
    s.buf = Buffer.allocUnsafe(size);
    this.#assembling += size;
    this.#chunkLeft = Math.min(length, this.chunkSize);
    return p - offset;
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

  /** Copies chunk payload into its message (growing the buffer if it was not allocated whole); delivers a complete message. */
  #append(s: ChunkStreamState, src: Buffer, start: number, n: number): void {
    let dst = s.buf!;
    if (s.filled + n > dst.length) {
      const size = Math.min(s.length, Math.max(dst.length * 2, s.filled + n));
      if (this.#assembling - dst.length + size > this.limits.maxBufferedBytes) {
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
  }
}
