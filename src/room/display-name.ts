import { ShowcaseError } from '../core/errors.js';

/** The most characters (code points) a shopper's display name has. */
export const MAX_DISPLAY_NAME_CHARS = 32;

// Control characters (C0, DEL, C1), line/paragraph separators, and the bidi embeddings, overrides
// and isolates (U+202A-U+202E, U+2066-U+2069) that let a name reorder the text shown after it.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/**
 * A display name as stored: trimmed, NFC-normalized, 1-32 characters, with no control or bidi
 * override characters (a VALIDATION error naming /displayName otherwise).
 */
export function validDisplayName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  const chars = [...name].length;
  const fail = (message: string): never => {
    throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `displayName ${message}`, { fields: [{ field: '/displayName', message }] });
  };
  if (FORBIDDEN.test(name)) fail('must not hold control or bidi-override characters');
  if (chars < 1 || chars > MAX_DISPLAY_NAME_CHARS) fail(`must be 1-${MAX_DISPLAY_NAME_CHARS} characters`);
  return name;
}
