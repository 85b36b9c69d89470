/** Serializes one RTMP message into chunks (a type-0 header, then type-3 continuation headers). */
export function encodeMessage(csid: number, type: number, streamId: number, timestamp: number, payload: Buffer, chunkSize: number): Buffer {
  const ext = timestamp >= 0xffffff;
  const basic = (fmt: number): Buffer => (csid < 64 ? Buffer.from([(fmt << 6) | csid]) : Buffer.from([(fmt << 6) | 0, csid - 64]));
  const parts: Buffer[] = [];
  const h = Buffer.alloc(11);
  h.writeUIntBE(ext ? 0xffffff : timestamp, 0, 3);
  h.writeUIntBE(payload.length, 3, 3);
  h[6] = type;
  h.writeUInt32LE(streamId, 7);
  parts.push(basic(0), h);
  const extBuf = Buffer.alloc(4);
  if (ext) {
    extBuf.writeUInt32BE(timestamp >>> 0);
    parts.push(extBuf);
  }
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) {
      parts.push(basic(3));
      if (ext) parts.push(extBuf);
    }
    parts.push(payload.subarray(off, Math.min(off + chunkSize, payload.length)));
  }
  return Buffer.concat(parts);
}

/** A 4-byte big-endian value as a payload (Set Chunk Size, Window Ack Size, Acknowledgement). */
export function uint32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
