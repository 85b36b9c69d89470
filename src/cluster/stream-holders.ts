import type { Store } from '../store/types.js';

export interface StreamHoldersOptions {
  store: Pick<Store, 'getStream'>;
  /** This node's id: its own leases are not "another node's". */
  selfId: string;
  /** How long an answer is remembered (a "nobody else" answer half as long: a stream just went live elsewhere). */
  ttlMs: number;
  /** Streams remembered at once; the oldest is evicted past it. */
  capacity: number;
  now?: () => number;
}

/** Store reads in flight at once; past it a request is answered locally (a 404 at worst) until one returns. */
const MAX_LOOKUPS_IN_FLIGHT = 64;

/**
 * Which other node holds a live stream, from the stream's lease in the store: what the HLS proxy
 * asks on a request for a stream this node does not have. Answers are cached briefly and lookups of
 * the same stream in flight are shared, so a burst of players costs one store read per stream per
 * ttlMs; the cache is keyed by ids from request paths, so it is bounded (insertion order = age).
 */
export class StreamHolders {
  readonly #o: StreamHoldersOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, { nodeId: string | undefined; until: number }>();
  readonly #inFlight = new Map<string, Promise<string | undefined>>();

  constructor(o: StreamHoldersOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** The id of the other node whose unexpired lease holds this live stream, or undefined. */
  holder(streamId: string): Promise<string | undefined> {
    const now = this.#now();
    const hit = this.#cache.get(streamId);
    if (hit && hit.until > now) return Promise.resolve(hit.nodeId);
    const pending = this.#inFlight.get(streamId);
    if (pending) return pending;
    // Ids come from request paths: a flood of made-up ones must not queue store reads without end.
    if (this.#inFlight.size >= MAX_LOOKUPS_IN_FLIGHT) return Promise.resolve(undefined);
    const p = this.#lookup(streamId).finally(() => this.#inFlight.delete(streamId));
    this.#inFlight.set(streamId, p);
    return p;
  }

  /** Forgets a stream's holder (its node answered that it does not have the stream). */
  forget(streamId: string): void {
    this.#cache.delete(streamId);
  }

  async #lookup(streamId: string): Promise<string | undefined> {
    let rec: Awaited<ReturnType<StreamHoldersOptions['store']['getStream']>>;
    try {
      rec = await this.#o.store.getStream(streamId);
    } catch (err) {
      // The store out of reach (a PostgreSQL restart): the last answer, however old, beats a 404;
      // the holding node answers for itself, and its media never waited on the store.
      const stale = this.#cache.get(streamId);
      if (stale?.nodeId) return stale.nodeId;
      throw err;
    }
    const now = this.#now();
    const lease = rec?.state === 'live' ? rec.lease : null;
    const nodeId = lease && lease.nodeId !== this.#o.selfId && lease.expiresAt > now ? lease.nodeId : undefined;
    this.#cache.delete(streamId);
    this.#cache.set(streamId, { nodeId, until: now + (nodeId ? this.#o.ttlMs : Math.floor(this.#o.ttlMs / 2)) });
    while (this.#cache.size > this.#o.capacity) this.#cache.delete(this.#cache.keys().next().value!);
    return nodeId;
  }
}
