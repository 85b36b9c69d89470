import { ShowcaseError } from '../core/errors.js';

/** The most blocked words a creator keeps, and the longest one, in characters. */
export const MAX_BLOCKED_WORDS = 500;
export const MAX_BLOCKED_WORD_CHARS = 64;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** How words and texts are compared: compatibility-normalized (full-width, ligatures) and lower-cased. */
function fold(s: string): string {
  return s.normalize('NFKC').toLocaleLowerCase('en-US');
}

/**
 * A creator's blocked-words list as stored: trimmed, folded, de-duplicated, each 1-64 characters
 * without control characters, at most 500 (a VALIDATION error naming /words otherwise).
 */
export function validBlockedWords(raw: readonly string[]): string[] {
  const fail = (message: string): never => {
    throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `words ${message}`, { fields: [{ field: '/words', message }] });
  };
  if (raw.length > MAX_BLOCKED_WORDS) fail(`must hold at most ${MAX_BLOCKED_WORDS} words`);
  const out = new Set<string>();
  for (const w of raw) {
    const word = fold(w).trim().replace(/\s+/gu, ' ');
    const n = [...word].length;
    if (n < 1 || n > MAX_BLOCKED_WORD_CHARS || CONTROL.test(word)) fail(`must each be 1-${MAX_BLOCKED_WORD_CHARS} characters without control characters`);
    out.add(word);
  }
  return [...out];
}

/**
 * Tells whether a text holds one of the words as a whole word (not inside another word: "ass" does
 * not block "class"), compared case- and width-insensitively. One regular expression per list,
 * built once when the list changes, not per message.
 */
export class BlockedWordMatcher {
  readonly #re: RegExp | null;

  constructor(words: readonly string[]) {
    const alts = words.map((w) => fold(w).replace(/[.*+?^${}()|[\]\\]/gu, '\\$&').replace(/ /gu, '\\s+'));
    this.#re = alts.length === 0 ? null : new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})(?![\\p{L}\\p{N}])`, 'u');
  }

  /** True when the text holds a blocked word. */
  blocks(text: string): boolean {
    return this.#re !== null && this.#re.test(fold(text));
  }
}
