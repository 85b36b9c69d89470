/// <reference lib="dom" />
/**
 * The chat of a replay, following the playhead: messages are read page by page from
 * GET /v1/streams/:id/room/messages?after=<mediaTime> and shown once the picture's program date
 * time passes theirs. A seek (backwards, or a jump forward) starts over from a little before the
 * new position, so the list is what a live viewer would have seen at that moment.
 */

/** A chat message as the server sends it. */
export interface ChatMessage {
  id: string;
  text: string;
  author: { id: string; displayName: string; role: string };
  at: string;
  mediaTime: string;
}

/** How far before a seek target messages are read (what was on screen then). */
const LOOKBACK_MS = 5 * 60_000;
/** Read the next page when what is loaded runs out within this. */
const PREFETCH_MS = 30_000;
/** A jump of more than this is a seek. */
const SEEK_MS = 3_000;
/** Messages kept loaded at most (shown plus ahead). */
const MAX_LOADED = 1000;

/** The replay chat's state; tick() is called with the playhead's date a few times a second. */
export class ReplayChat {
  #loaded: ChatMessage[] = [];
  #next: number | null = null;
  #last: number | null = null;
  #loading = false;
  #epoch = 0;

  constructor(private readonly messagesUrl: string, private readonly show: (items: ChatMessage[]) => void, private readonly shown = 50) {}

  /** Follows the playhead (ms since the epoch, the picture's program date time). */
  tick(playheadMs: number): void {
    const seek = this.#last === null || playheadMs < this.#last - 500 || playheadMs - this.#last > SEEK_MS;
    this.#last = playheadMs;
    if (seek) {
      this.#loaded = [];
      this.#next = playheadMs - LOOKBACK_MS;
      this.#epoch++;
      void this.#load();
    } else if (this.#next !== null && !this.#loading) {
      const end = this.#loaded.length ? Date.parse(this.#loaded[this.#loaded.length - 1]!.mediaTime) : -Infinity;
      if (end < playheadMs + PREFETCH_MS) void this.#load();
    }
    const visible = this.#loaded.filter((m) => Date.parse(m.mediaTime) <= playheadMs);
    this.show(visible.slice(-this.shown));
  }

  async #load(): Promise<void> {
    if (this.#next === null) return;
    const epoch = this.#epoch;
    this.#loading = true;
    try {
      const res = await fetch(`${this.messagesUrl}?after=${this.#next}&limit=200`, { cache: 'no-store' });
      if (!res.ok || epoch !== this.#epoch) return;
      const body = await res.json() as { items: ChatMessage[]; nextAfter: string | null };
      if (epoch !== this.#epoch) return;
      this.#loaded.push(...body.items);
      if (this.#loaded.length > MAX_LOADED) this.#loaded.splice(0, this.#loaded.length - MAX_LOADED);
      this.#next = body.nextAfter === null ? null : Date.parse(body.nextAfter);
      if (this.#last !== null) this.tick(this.#last);
    } catch {
      /* the network is down: tried again at the next tick */
    } finally {
      if (epoch === this.#epoch) this.#loading = false;
    }
  }

  /** Forgets everything (the replay stopped). */
  reset(): void {
    this.#epoch++;
    this.#loaded = [];
    this.#last = null;
    this.#next = null;
    this.#loading = false;
  }
}
