import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';

/** The file that keeps the generated link secret in the data dir. */
export const SECRET_FILE = 'recording-secret';

/**
 * The download-link key: the configured one, else one generated once (256 random bits) and kept in
 * <dataDir>/recording-secret with mode 0600, so links stay valid across restarts.
 */
export function loadLinkSecret(dataDir: string, configured: string, log?: Logger): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  const file = join(dataDir, SECRET_FILE);
  if (existsSync(file)) {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
    log?.warn({ file }, 'recording-secret is not 64 hex characters: generating a new one (old links stop working)');
  }
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  log?.info({ file }, 'generated the recording download-link secret');
  return secret;
}

/** What a signature check found. */
export type LinkCheck = 'ok' | 'expired' | 'invalid';

/**
 * Signs and checks expiring links: HMAC-SHA256 over the link's purpose, the stream id and the expiry
 * (unix seconds) with a server secret; checked in constant time. Nothing is stored per link. The
 * purpose ('recording' downloads, 'preview' for practice streams) keeps one kind of link from
 * opening another with the same secret.
 */
export class LinkSigner {
  readonly #secret: Buffer;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  readonly #purpose: string;

  constructor(secret: Buffer, ttlSeconds: number, now: () => number = Date.now, purpose = 'recording') {
    this.#purpose = purpose;
    this.#secret = secret;
    this.#ttlSeconds = ttlSeconds;
    this.#now = now;
  }

  /** A signature for streamId valid until now + ttl: the query parameters and the expiry in ms. */
  sign(streamId: string): { exp: number; sig: string; expiresAt: number } {
    const exp = Math.floor(this.#now() / 1000) + this.#ttlSeconds;
    return { exp, sig: this.#mac(streamId, exp).toString('base64url'), expiresAt: exp * 1000 };
  }

  /** Checks the query parameters of a link; a malformed value is 'invalid', never an exception. */
  verify(streamId: string, exp: unknown, sig: unknown): LinkCheck {
    if (typeof exp !== 'string' || !/^\d{1,12}$/.test(exp) || typeof sig !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid';
    const expected = this.#mac(streamId, Number(exp));
    const given = Buffer.from(sig, 'base64url');
    // Lengths match by the pattern above (43 base64url chars = 32 bytes); compare in constant time.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return Number(exp) * 1000 <= this.#now() ? 'expired' : 'ok';
  }

  #mac(streamId: string, exp: number): Buffer {
    return createHmac('sha256', this.#secret).update(`${this.#purpose}:${streamId}:${exp}`).digest();
  }
}
