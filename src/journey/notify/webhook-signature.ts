import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks (https://www.standardwebhooks.com) signing: the three headers on every delivery. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const SECRET_PREFIX = 'whsec_';
/** How far a receiver tolerates a timestamp from its own clock (the spec's replay window). */
export const DEFAULT_TOLERANCE_S = 300;

/** Decodes a `whsec_<base64>` secret to its key bytes; throws on anything else so a typo fails at start. */
export function decodeSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('webhook secret must start with whsec_');
  const b64 = secret.slice(SECRET_PREFIX.length);
  // Buffer.from silently skips bad characters; check the alphabet so a mangled secret is refused.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('webhook secret is not base64 after whsec_');
  const key = Buffer.from(b64, 'base64');
  if (key.length < 24 || key.length > 64) throw new Error('webhook secret must decode to 24..64 bytes');
  return key;
}

/** Makes a fresh `whsec_` secret (32 random bytes), for operators and tests. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The `v1,<base64>` signature of one message: HMAC-SHA256(key, "<id>.<timestamp>.<body>"). */
export function sign(key: Buffer, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers for one delivery attempt; a retry passes the same id and a new timestamp. */
export function signedHeaders(key: Buffer, id: string, body: string, nowMs = Date.now()): WebhookHeaders {
  const ts = Math.floor(nowMs / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(key, id, ts, body) };
}

/**
 * Receiver-side check, as the README's example does it: the timestamp within tolerance and any one
 * of the space-separated `v1,` signatures matching (the spec allows several during a key rotation).
 */
export function verify(key: Buffer, headers: Partial<WebhookHeaders>, body: string,
  nowMs = Date.now(), toleranceS = DEFAULT_TOLERANCE_S): boolean {
  const id = headers['webhook-id'];
  const tsText = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (!id || !tsText || !sigs || !/^[0-9]{1,12}$/.test(tsText)) return false;
  const ts = Number(tsText);
  if (Math.abs(nowMs / 1000 - ts) > toleranceS) return false;
  const expected = Buffer.from(sign(key, id, ts, body));
  return sigs.split(' ').some((s) => {
    const got = Buffer.from(s);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
