/**
 * Builds chunk streams with every header compression (types 0-3), interleaving, extended timestamps
 * and 1-, 2- and 3-byte basic headers, written independently of the server's own chunk writer so
 * the parser is checked against a second reading of the spec (and ffmpeg's type-3 rule).
 */

export interface BuiltMessage {
  csid: number;
  type: number;
  streamId: number;
  /** Absolute timestamp the parser should report. */
  timestamp: number;
  payload: Buffer;
}

interface CsidState {
  timestamp: number;
  /** The timestamp field a type-3 header repeats: the last delta, or a type-0 header's timestamp. */
  field: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
}

function basic(fmt: number, csid: number): Buffer {
  if (csid < 64) return Buffer.from([(fmt << 6) | csid]);
  if (csid < 320) return Buffer.from([fmt << 6, csid - 64]);
  return Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
}

/** Writes messages as chunks with a chosen header type for each message's first chunk. */
export class ChunkStreamBuilder {
  chunkSize = 128;
  readonly #state = new Map<number, CsidState>();

  /** The chunks of one message; throws if `fmt` cannot express it given the previous header on its csid. */
  chunks(m: BuiltMessage, fmt: 0 | 1 | 2 | 3): Buffer[] {
    const prev = this.#state.get(m.csid);
    if (fmt !== 0 && !prev) throw new Error('first message on a chunk stream needs type 0');
    const field = fmt === 0 ? m.timestamp % 0x1_0000_0000 : (m.timestamp - prev!.timestamp + 0x1_0000_0000) % 0x1_0000_0000;
    if (fmt >= 1 && m.streamId !== prev!.streamId) throw new Error('type 1-3 keep the stream id');
    if (fmt >= 2 && (m.type !== prev!.type || m.payload.length !== prev!.length)) throw new Error('type 2-3 keep type and length');
    if (fmt === 3 && field !== prev!.field) throw new Error(`type 3 repeats the previous timestamp field ${prev!.field}, not ${field}`);
    const extended = fmt === 3 ? prev!.extended : field >= 0xffffff;
    const ext = Buffer.alloc(4);
    ext.writeUInt32BE(field);
    const head: Buffer[] = [basic(fmt, m.csid)];
    if (fmt <= 2) {
      const h = Buffer.alloc(fmt === 0 ? 11 : fmt === 1 ? 7 : 3);
      h.writeUIntBE(extended ? 0xffffff : field, 0, 3);
      if (fmt <= 1) {
        h.writeUIntBE(m.payload.length, 3, 3);
        h[6] = m.type;
      }
      if (fmt === 0) h.writeUInt32LE(m.streamId, 7);
      head.push(h);
    }
    if (extended) head.push(ext);
    const out: Buffer[] = [];
    for (let off = 0; off < Math.max(1, m.payload.length); off += this.chunkSize) {
      const body = m.payload.subarray(off, Math.min(off + this.chunkSize, m.payload.length));
      out.push(Buffer.concat(off === 0 ? [...head, body] : [basic(3, m.csid), ...(extended ? [ext] : []), body]));
    }
    this.#state.set(m.csid, { timestamp: m.timestamp, field, length: m.payload.length, type: m.type, streamId: m.streamId, extended });
    return out;
  }
}

/** Round-robin interleave of several messages' chunk lists (chunks of different csids mixed, as encoders do). */
export function interleave(lists: Buffer[][]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

/** Deterministic pseudo-random bytes (so failures reproduce). */
export function seededBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
