import type { RawData } from 'ws';
import type { RoomMessageRecord } from '../store/types.js';
import { REACTION_KINDS, type ReactionKind, type RoomEvent } from './room-fanout.js';

/** A frame a room client sends. */
export type ClientFrame =
  | { type: 'auth'; token: string }
  | { type: 'chat'; text: string }
  | { type: 'reaction'; kind: ReactionKind };

const KINDS = new Set<string>(REACTION_KINDS);

/**
 * Reads one client frame: a JSON object with a known `type` and exactly its fields of the right
 * type, or a sentence saying what is wrong (answered SHOWCASE_ERR_ROOM_BAD_FRAME).
 */
export function parseClientFrame(data: string): ClientFrame | string {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  const only = (...allowed: string[]): boolean => keys.every((k) => allowed.includes(k));
  switch (o.type) {
    case 'auth':
      if (!only('type', 'token') || typeof o.token !== 'string' || o.token.length < 1 || o.token.length > 512) return 'auth takes {type, token}';
      return { type: 'auth', token: o.token };
    case 'chat':
      if (!only('type', 'text') || typeof o.text !== 'string') return 'chat takes {type, text}';
      return { type: 'chat', text: o.text };
    case 'reaction':
      if (!only('type', 'kind') || typeof o.kind !== 'string' || !KINDS.has(o.kind)) return `reaction takes {type, kind} with kind one of ${REACTION_KINDS.join(', ')}`;
      return { type: 'reaction', kind: o.kind as ReactionKind };
    default:
      return 'unknown type';
  }
}

/** A token bucket: `rate` a second sustained, `burst` at once. */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(private readonly rate: number, private readonly burst: number, now: number) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** The chat frame of a stored message. */
export function chatEvent(m: RoomMessageRecord): Extract<RoomEvent, { type: 'chat' }> {
  return {
    type: 'chat', id: m.id, text: m.text, author: { id: m.authorId, displayName: m.authorName, role: m.authorRole },
    at: new Date(m.at).toISOString(), mediaTime: new Date(m.mediaTime).toISOString(),
  };
}

/** A ws message's bytes as UTF-8 text. */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
