/**
 * Viewer session ids: 20 URL-safe characters (base64url alphabet, no padding) carrying five
 * 24-bit groups: slot, generation and a 72-bit random tag.
 *
 * Why this shape: the slot makes a lookup an array index instead of a Map of strings (the
 * table stays compact and touch() allocates nothing); the generation makes an id die with its
 * slot's occupant; the random tag (from the CSPRNG, stored per slot) is what makes ids
 * unforgeable: guessing a live viewer's id means guessing 72 random bits. A random tag rather
 * than an HMAC because touch() runs on every playlist and part request (hundreds of thousands
 * a second at the target load) and an integer compare is ~100x cheaper than an HMAC.
 * The encoder and decoder are hand-written (rather than Buffer base64url) so that decoding on
 * the hot path allocates nothing and rejects malformed input while reading it.
 */

/** Length of every session id string. */
export const SESSION_ID_LENGTH = 20;

/** Largest slot index an id can carry (24 bits). */
export const MAX_SLOT = 0xffffff;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CODES = Uint8Array.from(ALPHABET, (ch) => ch.charCodeAt(0));
/** Char code -> 6-bit value, or 255 for characters outside the alphabet. */
const VALUES = new Uint8Array(128).fill(255);
for (let i = 0; i < CODES.length; i++) VALUES[CODES[i]!] = i;

/** The five 24-bit groups of a decoded id: [slot, generation, tag0, tag1, tag2]. */
export type SessionIdGroups = Uint32Array;

/** Encodes five 24-bit groups (slot, generation, three tag words) into a 20-character id. */
export function encodeSessionId(slot: number, generation: number, tag0: number, tag1: number, tag2: number): string {
  return String.fromCharCode(
    CODES[(slot >>> 18) & 63]!, CODES[(slot >>> 12) & 63]!, CODES[(slot >>> 6) & 63]!, CODES[slot & 63]!,
    CODES[(generation >>> 18) & 63]!, CODES[(generation >>> 12) & 63]!, CODES[(generation >>> 6) & 63]!, CODES[generation & 63]!,
    CODES[(tag0 >>> 18) & 63]!, CODES[(tag0 >>> 12) & 63]!, CODES[(tag0 >>> 6) & 63]!, CODES[tag0 & 63]!,
    CODES[(tag1 >>> 18) & 63]!, CODES[(tag1 >>> 12) & 63]!, CODES[(tag1 >>> 6) & 63]!, CODES[tag1 & 63]!,
    CODES[(tag2 >>> 18) & 63]!, CODES[(tag2 >>> 12) & 63]!, CODES[(tag2 >>> 6) & 63]!, CODES[tag2 & 63]!,
  );
}

/**
 * Decodes an id into `out` (five 24-bit groups); returns false for anything that is not exactly
 * 20 base64url characters. Takes `unknown` because ids arrive straight from query strings.
 */
export function decodeSessionId(id: unknown, out: SessionIdGroups): boolean {
  if (typeof id !== 'string' || id.length !== SESSION_ID_LENGTH) return false;
  for (let g = 0; g < 5; g++) {
    let v = 0;
    for (let i = g * 4; i < g * 4 + 4; i++) {
      const code = id.charCodeAt(i);
      const six = code < 128 ? VALUES[code]! : 255;
      if (six === 255) return false;
      v = (v << 6) | six;
    }
    out[g] = v;
  }
  return true;
}
