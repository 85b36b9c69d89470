import { ShowcaseError } from '../core/errors.js';
import type { RoomConfig } from './room-config.js';
import type { RoomAuthor } from './room-fanout.js';
import { TokenBucket } from './room-frames.js';
import type { BlockedWordMatcher } from './blocked-words.js';
import type { RoomSettings } from './room-settings.js';

/** Recent texts kept per author for the duplicate check. */
const RECENT_TEXTS = 5;

/** What one room remembers per author to apply its limits (each map bounded by the stream's socket cap). */
export interface ChatPolicyState {
  settings: RoomSettings;
  blocked: BlockedWordMatcher | null;
  authorBuckets: Map<string, TokenBucket>;
  recentTexts: Map<string, Array<{ text: string; at: number }>>;
  lastPostAt: Map<string, number>;
}

/** A new, empty policy state. */
export function newChatPolicyState(settings: RoomSettings): ChatPolicyState {
  return { settings, blocked: null, authorBuckets: new Map(), recentTexts: new Map(), lastPostAt: new Map() };
}

/** Sets key in a map bounded at `cap` entries: the oldest key goes first. */
function boundedSet<V>(map: Map<string, V>, key: string, value: V, cap: number): void {
  if (!map.has(key) && map.size >= cap) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/**
 * Decides whether a chat text may be posted: the room open (for shoppers), text length, blocked
 * words, duplicates, slow mode (shoppers only) and the author's rate, in that order. Returns the
 * trimmed text and records the post; throws the refusal's coded ShowcaseError.
 */
export function admitChat(st: ChatPolicyState, c: Readonly<RoomConfig>, author: RoomAuthor, raw: string, now: number): string {
  const moderator = author.role !== 'shopper';
  if (!st.settings.open && !moderator) throw new ShowcaseError('SHOWCASE_ERR_ROOM_CLOSED', 'the room is closed to chat');
  const text = raw.trim();
  const chars = [...text].length;
  if (chars < 1 || chars > c.maxTextChars) throw new ShowcaseError('SHOWCASE_ERR_ROOM_TEXT_INVALID', `text must be 1-${c.maxTextChars} characters`);
  if (!moderator && st.blocked?.blocks(text)) throw new ShowcaseError('SHOWCASE_ERR_ROOM_BLOCKED_WORD', 'the text holds a word this room does not allow');
  const recent = (st.recentTexts.get(author.id) ?? []).filter((r) => now - r.at < c.duplicateWindowMs);
  if (recent.some((r) => r.text === text)) throw new ShowcaseError('SHOWCASE_ERR_ROOM_DUPLICATE', 'the same text was sent moments ago');
  const slowMs = st.settings.slowModeSeconds * 1000;
  const last = st.lastPostAt.get(author.id);
  if (!moderator && slowMs > 0 && last !== undefined && now - last < slowMs) {
    throw new ShowcaseError('SHOWCASE_ERR_ROOM_SLOW_MODE', `slow mode: one message every ${st.settings.slowModeSeconds} s`, { retryAfterMs: slowMs - (now - last) });
  }
  let bucket = st.authorBuckets.get(author.id);
  if (!bucket) boundedSet(st.authorBuckets, author.id, (bucket = new TokenBucket(c.messagesPerSecond, c.messageBurst, now)), c.maxSocketsPerStream);
  if (!bucket.take(now)) throw new ShowcaseError('SHOWCASE_ERR_ROOM_TOO_FAST', 'slow down: too many messages');
  recent.push({ text, at: now });
  boundedSet(st.recentTexts, author.id, recent.slice(-RECENT_TEXTS), c.maxSocketsPerStream);
  boundedSet(st.lastPostAt, author.id, now, c.maxSocketsPerStream);
  return text;
}
