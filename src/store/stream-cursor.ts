import { ShowcaseError } from '../core/errors.js';

/** The position a listStreams page ended at: the last row's sort key (created_at DESC, id DESC). */
export interface StreamCursor {
  createdAt: number;
  id: string;
}

/** Encodes a position as an opaque base64url token (clients must not parse it). */
export function encodeStreamCursor(c: StreamCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id]), 'utf8').toString('base64url');
}

/** Decodes a token from encodeStreamCursor; throws ShowcaseError BAD_REQUEST for anything else. */
export function decodeStreamCursor(token: string): StreamCursor {
  const bad = (): ShowcaseError => new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'Invalid pagination cursor');
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || typeof id !== 'string') throw bad();
  return { createdAt, id };
}
