import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes in a secret by default: 256 bits, comfortably above the 128-bit floor. */
export const DEFAULT_SECRET_BYTES = 32;

/** The least entropy generateSecret accepts: 128 bits. */
export const MIN_SECRET_BYTES = 16;

/**
 * A new secret: `prefix` + base64url of `bytes` random bytes from the CSPRNG
 * (e.g. generateSecret('sk_') for a stream key, generateSecret('ct_') for a creator token).
 * The prefix says what a leaked string is (secret scanners match on it); it adds no entropy.
 */
export function generateSecret(prefix: string, bytes: number = DEFAULT_SECRET_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES) {
    throw new RangeError(`a secret needs at least ${MIN_SECRET_BYTES} random bytes, got ${bytes}`);
  }
  return prefix + randomBytes(bytes).toString('base64url');
}

/** The form a secret is stored and looked up in: sha256, lowercase hex (64 characters). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Constant-time equality of two secrets (or two stored hashes): both sides are hashed first, so the
 * buffers compared always have the same length and the time taken says nothing about the inputs.
 */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
