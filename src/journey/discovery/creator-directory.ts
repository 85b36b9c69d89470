import type { Store } from '../../store/types.js';
import { computeLevels, type CreatorLevel, type LevelThresholds } from '../levels/creator-levels.js';

/** A creator as the public listings show them: no token, no disabled flag (disabled ones are not shown). */
export interface CreatorCard {
  id: string;
  handle: string;
  displayName: string;
  level: CreatorLevel;
  followerCount: number;
}

/** What the directory needs of the store. */
export type DirectoryStore = Pick<Store, 'getCreator' | 'getCreatorByHandle' | 'followerCount' | 'levelActivity'>;

export interface CreatorDirectoryOptions {
  store: DirectoryStore;
  thresholds: LevelThresholds;
  /** How long a card is kept (journey.levelCacheMs); 0 reads the store every time. */
  ttlMs: number;
  /** The most cards kept (journey.levelCacheSize); the least recently used goes first. */
  maxEntries: number;
  now?: () => number;
}

/** Epoch ms of the first instant of the UTC month before the one holding `ms`. */
export function previousMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
}

/**
 * Public creator cards with their current level, for listings that show many creators at once
 * (the home page, storefronts, product placements). A level held now depends only on this month
 * and the one before (a level earned in a month holds through the next), so it is computed from
 * the store's activity since the first of last month, not the creator's whole history, and kept
 * for ttlMs: listings are cached by CDNs for seconds anyway. Bounded (LRU); concurrent asks for
 * one creator share one read.
 */
export class CreatorDirectory {
  readonly #o: Required<CreatorDirectoryOptions>;
  readonly #cards = new Map<string, { at: number; card: CreatorCard | undefined }>();
  readonly #pending = new Map<string, Promise<CreatorCard | undefined>>();

  constructor(o: CreatorDirectoryOptions) {
    this.#o = { now: Date.now, ...o };
  }

  /** Cards kept now (for tests and metrics). */
  get size(): number {
    return this.#cards.size;
  }

  /** The level a creator holds now, from the store (not cached). */
  async computeLevel(creatorId: string): Promise<CreatorLevel> {
    const now = this.#o.now();
    const a = await this.#o.store.levelActivity(creatorId, previousMonthStart(now));
    const intervals = a.intervals.map((i) => ({ startedAt: i.startedAt, endedAt: i.endedAt ?? now }));
    return computeLevels(intervals, a.sales.map((s) => ({ at: s.at, count: s.count, currency: '', amountUnits: 0 })), now, this.#o.thresholds).level;
  }

  /** A creator's public card by id; undefined for an unknown or disabled creator. */
  async card(creatorId: string): Promise<CreatorCard | undefined> {
    const now = this.#o.now();
    const hit = this.#cards.get(creatorId);
    if (hit && now - hit.at < this.#o.ttlMs) {
      // Refresh its place in the LRU order.
      this.#cards.delete(creatorId);
      this.#cards.set(creatorId, hit);
      return hit.card;
    }
    let p = this.#pending.get(creatorId);
    if (!p) {
      p = this.#load(creatorId).finally(() => this.#pending.delete(creatorId));
      this.#pending.set(creatorId, p);
    }
    return p;
  }

  /** A creator's public card by handle; undefined for an unknown or disabled creator. */
  async cardByHandle(handle: string): Promise<CreatorCard | undefined> {
    const c = await this.#o.store.getCreatorByHandle(handle);
    return c && !c.disabled ? this.card(c.id) : undefined;
  }

  /** Cards for many creators at once (ids repeated or null are fine), keyed by id. */
  async cards(ids: Iterable<string | null>): Promise<Map<string, CreatorCard>> {
    const unique = [...new Set([...ids].filter((id): id is string => typeof id === 'string'))];
    const out = new Map<string, CreatorCard>();
    await Promise.all(unique.map(async (id) => {
      const c = await this.card(id);
      if (c) out.set(id, c);
    }));
    return out;
  }

  /** Forgets a creator's card (a follow changed the count the page shows at once). */
  forget(creatorId: string): void {
    this.#cards.delete(creatorId);
  }

  async #load(creatorId: string): Promise<CreatorCard | undefined> {
    const c = await this.#o.store.getCreator(creatorId);
    let card: CreatorCard | undefined;
    if (c && !c.disabled) {
      const [level, followerCount] = await Promise.all([this.computeLevel(c.id), this.#o.store.followerCount(c.id)]);
      card = { id: c.id, handle: c.handle, displayName: c.displayName, level, followerCount };
    }
    if (this.#o.ttlMs > 0) {
      this.#cards.delete(creatorId);
      this.#cards.set(creatorId, { at: this.#o.now(), card });
      while (this.#cards.size > this.#o.maxEntries) this.#cards.delete(this.#cards.keys().next().value!);
    }
    return card;
  }
}
