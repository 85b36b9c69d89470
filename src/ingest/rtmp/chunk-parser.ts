/**
 * The RTMP chunk stream, reassembled into messages. Every limit holds before memory is spent:
 * a declared message length over maxMessageSize, more chunk streams than maxChunkStreams, or more
 * bytes held (unparsed input plus partly assembled messages) than maxBufferedBytes is an error,
 * and a message's buffer grows with the bytes that actually arrive, never to what a header claims.
 */

export interface RtmpMessage {
  type: number;
  streamId: number;
  /** Absolute timestamp in ms (deltas accumulated, extended timestamps applied). */
  timestamp: number;
  payload: Buffer;
}

export interface ChunkParserLimits {
  maxChunkSize: number;
  maxMessageSize: number;
  maxBufferedBytes: number;
  maxChunkStreams: number;
}

/** Why the parser gave up on a connection (the server counts refusals by this reason). */
export class ChunkStreamError extends Error {
  override name = 'ChunkStreamError';
  constructor(readonly reason: 'protocol-error' | 'message-too-large' | 'buffer-overflow' | 'too-many-chunk-streams', message: string) {
    super(message);
  }
}

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
  /** The message being assembled, grown as its chunks arrive. */
  buf?: Buffer;
  filled: number;
}

const INITIAL_MESSAGE_BUFFER = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** Incremental chunk-stream parser: feed bytes with push(), receive whole messages in onMessage. */
export class ChunkParser {
  chunkSize = 128;
  #pending: Buffer = EMPTY;
  readonly #streams = new Map<number, ChunkStreamState>();
  #assembling = 0;

  constructor(private readonly limits: ChunkParserLimits, private readonly onMessage: (m: RtmpMessage) => void) {}

  /** Bytes currently held: unparsed input plus messages in assembly. */
  get bufferedBytes(): number {
    return this.#pending.length + this.#assembling;
  }

  /** Parses as much as possible; throws ChunkStreamError on a violation. */
  push(data: Buffer): void {
    let offset = 0;
    if (this.#pending.length) {
      // Finish the chunk that straddles two reads by joining only what it can need (its header and
      // one chunk of payload), then parse the rest of this read in place: no copy of the whole read.
      const pl = this.#pending.length;
      const joined = Buffer.concat([this.#pending, data.subarray(0, Math.min(data.length, this.chunkSize + 18))]);
      let off = 0;
      while (off < pl) {
        const c = this.#parseChunk(joined, off);
        if (c === 0) break;
        off += c;
      }
      if (off < pl) {
        this.#pending = Buffer.concat([this.#pending.subarray(off), data]);
        this.#checkBuffered();
        return;
      }
      offset = off - pl;
    }
    while (offset < data.length) {
      const consumed = this.#parseChunk(data, offset);
      if (consumed === 0) break;
      offset += consumed;
    }
    // Keep a copy of a small remainder, not a view pinning the whole socket buffer.
    this.#pending = offset >= data.length ? EMPTY : Buffer.from(data.subarray(offset));
    this.#checkBuffered();
  }

  #checkBuffered(): void {
    if (this.bufferedBytes > this.limits.maxBufferedBytes) {
      throw new ChunkStreamError('buffer-overflow', `connection holds ${this.bufferedBytes} bytes, over ${this.limits.maxBufferedBytes}`);
    }
  }

  /** Applies a peer's Set Chunk Size. */
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
    if (avail < 1) return 0;
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
    if (!s) {
      if (fmt !== 0) throw new ChunkStreamError('protocol-error', `chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.#streams.size >= this.limits.maxChunkStreams) throw new ChunkStreamError('too-many-chunk-streams', `more than ${this.limits.maxChunkStreams} chunk streams`);
      s = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, filled: 0 };
    }
    // Read the header fields without committing them: the chunk may still be incomplete.
    let ts = 0;
    let length = s.length;
    let type = s.type;
    let streamId = s.streamId;
    if (fmt <= 2) ts = buf.readUIntBE(p, 3);
    if (fmt <= 1) {
      length = buf.readUIntBE(p + 3, 3);
      type = buf[p + 6]!;
    }
    if (fmt === 0) streamId = buf.readUInt32LE(p + 7);
    p += headerLen;
    const extended = fmt <= 2 ? ts === 0xffffff : s.extended;
    if (extended) {
      if (buf.length - p < 4) return 0;
      const ext = buf.readUInt32BE(p);
      if (fmt <= 2) ts = ext;
      p += 4;
    }
    if (length > this.limits.maxMessageSize) throw new ChunkStreamError('message-too-large', `message of ${length} bytes over ${this.limits.maxMessageSize}`);
    const starting = s.buf === undefined;
    const remaining = starting ? length : length - s.filled;
    const take = Math.min(remaining, this.chunkSize);
    if (buf.length - p < take) return 0;

    // Commit the header.
    this.#streams.set(csid, s);
    s.extended = extended;
    if (starting) {
      if (fmt === 0) {
        s.timestamp = ts;
        s.delta = 0;
      } else if (fmt === 1 || fmt === 2) {
        s.delta = ts;
        s.timestamp = (s.timestamp + ts) >>> 0;
      } else {
        s.timestamp = (s.timestamp + s.delta) >>> 0;
      }
      s.length = length;
      s.type = type;
      s.streamId = streamId;
      s.filled = 0;
      if (length === 0) {
        this.onMessage({ type, streamId, timestamp: s.timestamp, payload: Buffer.alloc(0) });
        return p - offset;
      }
      if (this.#assembling + Math.min(length, INITIAL_MESSAGE_BUFFER) > this.limits.maxBufferedBytes) {
        throw new ChunkStreamError('buffer-overflow', 'too many bytes in messages being assembled');
      }
      s.buf = Buffer.allocUnsafe(Math.min(length, INITIAL_MESSAGE_BUFFER));
      this.#assembling += s.buf.length;
    } else if (fmt !== 3 && length !== s.length) {
      throw new ChunkStreamError('protocol-error', `chunk stream ${csid} changed message length mid-message`);
    }
    this.#append(s, buf, p, take);
    if (s.filled === s.length) {
      const payload = s.buf!.length === s.length ? s.buf! : s.buf!.subarray(0, s.length);
      this.#assembling -= s.buf!.length;
      s.buf = undefined;
      s.filled = 0;
      this.onMessage({ type: s.type, streamId: s.streamId, timestamp: s.timestamp, payload });
    }
    return p + take - offset;
  }

  /** Copies a chunk's payload into the message, growing its buffer by doubling up to the declared length. */
  #append(s: ChunkStreamState, src: Buffer, start: number, n: number): void {
    let dst = s.buf!;
    if (s.filled + n > dst.length) {
      const size = Math.min(s.length, Math.max(dst.length * 2, s.filled + n));
      if (this.#assembling - dst.length + size > this.limits.maxBufferedBytes) {
        throw new ChunkStreamError('buffer-overflow', 'too many bytes in messages being assembled');
      }
      const grown = Buffer.allocUnsafe(size);
      dst.copy(grown, 0, 0, s.filled);
      this.#assembling += size - dst.length;
      dst = grown;
      s.buf = grown;
    }
    src.copy(dst, s.filled, start, start + n);
    s.filled += n;
  }
}
