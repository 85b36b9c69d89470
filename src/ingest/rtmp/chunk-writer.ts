/**
 * Serializes RTMP messages into chunks for the few messages a server sends (control messages and
 * command replies), and for tests that synthesize a publisher's chunk stream.
 */

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(out: Buffer, at: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[at] = (fmt << 6) | csid;
    return at + 1;
  }
  if (csid < 320) {
    out[at] = fmt << 6;
    out[at + 1] = csid - 64;
    return at + 2;
  }
  out[at] = (fmt << 6) | 1;
  out[at + 1] = (csid - 64) & 0xff;
  out[at + 2] = (csid - 64) >> 8;
  return at + 3;
}

/** One message as chunks: a type-0 header, then type-3 continuation headers (extended timestamp repeated). */
export function encodeMessage(csid: number, type: number, streamId: number, timestamp: number, payload: Buffer, chunkSize: number): Buffer {
  if (csid < 2 || csid > 65599) throw new RangeError(`chunk stream id ${csid} outside 2..65599`);
  const ts = timestamp % 0x1_0000_0000;
  const ext = ts >= 0xffffff;
  const bh = basicHeaderSize(csid);
  const chunks = Math.max(1, Math.ceil(payload.length / chunkSize));
  const out = Buffer.allocUnsafe(bh + 11 + (ext ? 4 : 0) + (chunks - 1) * (bh + (ext ? 4 : 0)) + payload.length);
  let at = writeBasicHeader(out, 0, 0, csid);
  out.writeUIntBE(ext ? 0xffffff : ts, at, 3);
  out.writeUIntBE(payload.length, at + 3, 3);
  out[at + 6] = type;
  out.writeUInt32LE(streamId, at + 7);
  at += 11;
  if (ext) at = out.writeUInt32BE(ts, at);
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) {
      at = writeBasicHeader(out, at, 3, csid);
      if (ext) at = out.writeUInt32BE(ts, at);
    }
    at += payload.copy(out, at, off, Math.min(off + chunkSize, payload.length));
  }
  return out;
}

/** A 4-byte big-endian value as a payload (Set Chunk Size, Window Ack Size, Acknowledgement). */
export function uint32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
