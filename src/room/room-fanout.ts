/**
 * What a room publishes to every socket watching a stream, on this node and (later) on others.
 * The server serializes an event once and sends the same text to each socket.
 */
export type RoomEvent =
  | { type: 'chat'; id: string; text: string; author: RoomAuthor; at: string; mediaTime: string }
  | { type: 'chat.deleted'; id: string }
  | { type: 'reactions'; counts: Partial<Record<ReactionKind, number>> }
  | { type: 'state'; state: string }
  | { type: 'room'; slowModeSeconds: number; open: boolean }
  /** Node to node only (never sent to sockets): re-read this shopper's bans in the rooms the scope covers. */
  | { type: 'bans.changed'; shopperId: string; scope: 'stream' | 'creator'; scopeId: string };

/** The author of a chat message as clients see it; the host's messages are marked by role 'host'. */
export interface RoomAuthor {
  id: string;
  displayName: string;
  role: 'shopper' | 'host' | 'operator';
}

/** The fixed set of reactions. */
export const REACTION_KINDS = ['heart', 'fire', 'clap', 'laugh', 'wow'] as const;
export type ReactionKind = (typeof REACTION_KINDS)[number];

/**
 * Delivery of room events to the sockets of a stream. In-process today; the cluster issue's
 * pub/sub bus implements the same three calls (publish goes to every node, subscribe is local).
 */
export interface RoomFanout {
  /** Delivers the event to every subscriber of the stream. */
  publish(streamId: string, event: RoomEvent): void;
  /** Calls fn for each event of the stream until the returned function is called. */
  subscribe(streamId: string, fn: (event: RoomEvent) => void): () => void;
  /** Drops every subscription. */
  close(): void;
}

/** RoomFanout inside one process: a set of listeners per stream, removed with their last listener. */
export class InProcessFanout implements RoomFanout {
  readonly #subs = new Map<string, Set<(event: RoomEvent) => void>>();

  /** Delivers synchronously; a listener that throws does not stop the others. */
  publish(streamId: string, event: RoomEvent): void {
    const set = this.#subs.get(streamId);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(event);
      } catch {
        /* a subscriber's failure is its own */
      }
    }
  }

  /** Adds a listener for the stream's events. */
  subscribe(streamId: string, fn: (event: RoomEvent) => void): () => void {
    let set = this.#subs.get(streamId);
    if (!set) this.#subs.set(streamId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.#subs.get(streamId) === set) this.#subs.delete(streamId);
    };
  }

  /** Drops every listener. */
  close(): void {
    this.#subs.clear();
  }
}
