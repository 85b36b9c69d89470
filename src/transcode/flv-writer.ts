import type { MediaPacket } from '../core/media.js';

const TAG_AUDIO = 8;
const TAG_VIDEO = 9;

/** The 9-byte FLV file header plus PreviousTagSize0. */
export function flvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const b = Buffer.alloc(13);
  b.write('FLV', 0, 'latin1');
  b[3] = 1;
  b[4] = (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0);
  b.writeUInt32BE(9, 5);
  b.writeUInt32BE(0, 9);
  return b;
}

/** One FLV tag (header + body + PreviousTagSize) for a packet, at the given timestamp (ms). */
export function flvTag(p: MediaPacket, timestamp: number): Buffer[] {
  const size = p.payload.length;
  const h = Buffer.alloc(11);
  h[0] = p.kind === 'audio' ? TAG_AUDIO : TAG_VIDEO;
  h.writeUIntBE(size, 1, 3);
  const ts = Math.max(0, Math.floor(timestamp)) >>> 0;
  h.writeUIntBE(ts & 0xffffff, 4, 3);
  h[7] = (ts >>> 24) & 0xff;
  // stream id: always 0
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(11 + size, 0);
  return [h, p.payload, trailer];
}
