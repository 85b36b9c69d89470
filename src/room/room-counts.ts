import type { RoomMinuteCounts, Store } from '../store/types.js';

/**
 * Per-minute counts of accepted chat messages and reactions, kept in memory per stream and added
 * to the store's room_minutes by flush() (periodically, never per message, so a busy room costs
 * one write per stream per flush). Bounded: one entry per stream with activity since the last
 * flush, and a few minutes each.
 */
export class RoomCounts {
  readonly #pending = new Map<string, Map<number, RoomMinuteCounts>>();

  /** Counts n messages or reactions for the stream at `now`. */
  add(streamId: string, kind: 'messages' | 'reactions', now: number, n = 1): void {
    let minutes = this.#pending.get(streamId);
    if (!minutes) this.#pending.set(streamId, (minutes = new Map()));
    const startMs = Math.floor(now / 60_000) * 60_000;
    let m = minutes.get(startMs);
    if (!m) minutes.set(startMs, (m = { startMs, messages: 0, reactions: 0 }));
    m[kind] += n;
  }

  /** Writes what was counted since the last flush; a failed stream's counts are dropped (reported to onError), not retried forever. */
  async flush(store: Store, onError: (streamId: string, err: unknown) => void): Promise<void> {
    const batch = [...this.#pending];
    this.#pending.clear();
    await Promise.all(batch.map(([streamId, minutes]) =>
      store.addRoomCounts(streamId, [...minutes.values()]).catch((err: unknown) => onError(streamId, err))));
  }
}
