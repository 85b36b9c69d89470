/**
 * The server side of the RTMP handshake (C0/C1/C2 in, S0/S1/S2 out). A client whose C1 carries an
 * Adobe digest (the "complex" handshake of Flash Player, FMLE and some hardware encoders) gets a
 * digest S1 and an S2 signed over its C1 digest, as Adobe's servers answer; any other client gets
 * the simple handshake, S2 echoing C1, which OBS, ffmpeg and librtmp accept. The server holds at
 * most C0+C1 (1537 bytes) per connection; C2 is counted and skipped, never buffered.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const HANDSHAKE_SIZE = 1536;
export const RTMP_VERSION = 3;
const C0C1_SIZE = 1 + HANDSHAKE_SIZE;
const DIGEST_SIZE = 32;

const GENUINE_CRUD = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
/** Adobe's public handshake keys (documented by librtmp, nginx-rtmp and others). */
const GENUINE_FMS = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'), GENUINE_CRUD]);
const GENUINE_FP = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001', 'latin1'), GENUINE_CRUD]);
const FMS_KEY_SHORT = GENUINE_FMS.subarray(0, 36);
const FP_KEY_SHORT = GENUINE_FP.subarray(0, 30);
/** The version a digest S1 announces (any non-zero value tells the client to expect a digest). */
const SERVER_VERSION = Buffer.from([4, 5, 0, 1]);

/** Where a digest lives: scheme 0 puts it after bytes 8..11, scheme 1 after bytes 772..775. */
export type DigestScheme = 0 | 1;

function hmac(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** The offset of the 32-byte digest inside a 1536-byte C1/S1 for a scheme. */
export function digestOffset(sig: Buffer, scheme: DigestScheme): number {
  const base = scheme === 0 ? 8 : 772;
  return ((sig[base]! + sig[base + 1]! + sig[base + 2]! + sig[base + 3]!) % 728) + base + 4;
}

/** HMAC-SHA256 of a 1536-byte signature without its digest, keyed by key. */
export function computeDigest(sig: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, sig.subarray(0, offset), sig.subarray(offset + DIGEST_SIZE));
}

/** Finds the scheme whose digest in C1 verifies with the Flash Player key, if any. */
export function detectDigestScheme(c1: Buffer): DigestScheme | undefined {
  // A zero version field is the simple handshake: no digest to look for.
  if (c1.readUInt32BE(4) === 0) return undefined;
  for (const scheme of [1, 0] as const) {
    const off = digestOffset(c1, scheme);
    if (computeDigest(c1, off, FP_KEY_SHORT).equals(c1.subarray(off, off + DIGEST_SIZE))) return scheme;
  }
  return undefined;
}

/** S0+S1+S2 for a client's C1 (1536 bytes). */
export function serverHandshakeReply(c1: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
  out[0] = RTMP_VERSION;
  const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = out.subarray(1 + HANDSHAKE_SIZE);
  s1.writeUInt32BE(Math.floor(performance.now()) >>> 0, 0);
  randomBytes(HANDSHAKE_SIZE - 8).copy(s1, 8);
  const scheme = detectDigestScheme(c1);
  if (scheme === undefined) {
    s1.writeUInt32BE(0, 4);
    c1.copy(s2);
    return out;
  }
  SERVER_VERSION.copy(s1, 4);
  const s1Off = digestOffset(s1, scheme);
  computeDigest(s1, s1Off, FMS_KEY_SHORT).copy(s1, s1Off);
  const c1Off = digestOffset(c1, scheme);
  const key = hmac(GENUINE_FMS, c1.subarray(c1Off, c1Off + DIGEST_SIZE));
  randomBytes(HANDSHAKE_SIZE - DIGEST_SIZE).copy(s2);
  hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(s2, HANDSHAKE_SIZE - DIGEST_SIZE);
  return out;
}

/** Thrown for a C0 other than version 3. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

/** Consumes a client's handshake bytes as they arrive. */
export class ServerHandshake {
  #c0c1: Buffer | undefined;
  #have = 0;
  #c2Left = HANDSHAKE_SIZE;

  /** True once C2 has been received in full. */
  get done(): boolean {
    return this.#c2Left === 0;
  }

  /**
   * Takes the next bytes; returns the reply to send once C0+C1 is complete, and whatever follows C2
   * (the start of the chunk stream). Throws HandshakeError on an unsupported version.
   */
  push(d: Buffer): { reply?: Buffer; rest?: Buffer } {
    let off = 0;
    let reply: Buffer | undefined;
    if (this.#have < C0C1_SIZE) {
      if (this.#have === 0 && d.length > 0 && d[0] !== RTMP_VERSION) throw new HandshakeError(`unsupported RTMP version ${d[0]}`);
      if (this.#have === 0 && d.length >= C0C1_SIZE) {
        // The usual case: C0+C1 in one read, answered from the read itself.
        reply = serverHandshakeReply(d.subarray(1, C0C1_SIZE));
        this.#have = C0C1_SIZE;
        off = C0C1_SIZE;
      } else {
        this.#c0c1 ??= Buffer.allocUnsafe(C0C1_SIZE);
        const n = Math.min(C0C1_SIZE - this.#have, d.length);
        d.copy(this.#c0c1, this.#have, 0, n);
        this.#have += n;
        off = n;
        if (this.#have === C0C1_SIZE) {
          reply = serverHandshakeReply(this.#c0c1.subarray(1));
          this.#c0c1 = undefined;
        }
      }
    }
    if (this.#have === C0C1_SIZE && this.#c2Left > 0 && off < d.length) {
      const n = Math.min(this.#c2Left, d.length - off);
      this.#c2Left -= n;
      off += n;
    }
    const rest = this.#c2Left === 0 && off < d.length ? d.subarray(off) : undefined;
    return { reply, rest };
  }
}
