import type { types } from 'mediasoup';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { WorkerPool } from './worker-pool.js';

/** A stream's media inside mediasoup: the router its producers live on (WHIP session or RTMP feed). */
export interface PlaybackSource {
  streamId: string;
  router: types.Router;
  producers: types.Producer[];
  /** Asks the publisher (or encoder) for a keyframe, for a viewer that just joined (optional). */
  requestKeyFrame?(): void;
}

/** The codecs (at a viewer's payload types) an edge router is built with, and a key for sharing it. */
export interface EdgeProfile {
  key: string;
  codecs: types.RouterRtpCodecCapability[];
}

/** A place for one viewer's consumers; release() gives the places back (idempotent). */
export interface EdgeLease {
  router: types.Router;
  slot: number;
  /** The id, on this edge router, of the source's producer `sourceProducerId`. */
  producerId(sourceProducerId: string): string;
  release(): void;
}

interface Edge {
  profile: string;
  slot: number;
  router: types.Router;
  consumers: number;
  /** Source producer id -> piped producer id on the edge. */
  piped: Map<string, string>;
}

/**
 * Spreads one stream's viewers over edge routers: the source's producers are piped
 * (router.pipeToRouter) to a router per viewer codec profile and worker. A worker holds at most
 * `maxConsumersPerWorker` of this stream's consumers; beyond that the next edge goes to another
 * worker. Edges close when their last viewer leaves, and all of them when the source goes.
 */
export class StreamFanout {
  readonly source: PlaybackSource;
  readonly #pool: WorkerPool;
  readonly #max: number;
  readonly #log: Logger;
  readonly #edges: Edge[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #seq = 0;
  #closed = false;

  constructor(o: { source: PlaybackSource; pool: WorkerPool; maxConsumersPerWorker: number; logger: Logger }) {
    this.source = o.source;
    this.#pool = o.pool;
    this.#max = o.maxConsumersPerWorker;
    this.#log = o.logger.child({ streamId: o.source.streamId });
  }

  /** This stream's consumers per worker slot (placed or reserved). */
  consumersBySlot(): Map<number, number> {
    const out = new Map<number, number>();
    for (const e of this.#edges) out.set(e.slot, (out.get(e.slot) ?? 0) + e.consumers);
    return out;
  }

  /** Edge routers open now. */
  get edges(): number {
    return this.#edges.length;
  }

  /**
   * Reserves room for `need` consumers of a viewer with this codec profile: on an existing edge whose
   * worker is below the limit, else on a new edge (the source's worker first, then the least-loaded
   * other one). Throws SHOWCASE_ERR_WHEP_FULL when every worker holds its share of this stream.
   */
  acquire(profile: EdgeProfile, need: number): Promise<EdgeLease> {
    // Serialized: two viewers arriving together must not both build the same edge.
    const run = this.#queue.then(() => this.#acquire(profile, need));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #acquire(profile: EdgeProfile, need: number): Promise<EdgeLease> {
    if (this.#closed || this.source.router.closed) throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream stopped while the viewer was joining');
    const counts = this.consumersBySlot();
    const room = (slot: number): boolean => (counts.get(slot) ?? 0) < this.#max;
    let edge = this.#edges.find((e) => e.profile === profile.key && room(e.slot) && !e.router.closed);
    if (!edge) {
      const live = this.#pool.liveSlots();
      const taken = new Set(this.#edges.filter((e) => e.profile === profile.key).map((e) => e.slot));
      const open = live.filter((s) => room(s) && !taken.has(s));
      if (open.length === 0) {
        throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'every media worker holds its share of this stream\'s viewers', { scope: 'workers', maxConsumersPerWorker: this.#max });
      }
      const home = this.#pool.slotOf(this.source.router);
      const placement = home !== undefined && open.includes(home) ? { slot: home } : { exclude: live.filter((s) => !open.includes(s)) };
      edge = await this.#openEdge(profile, placement);
    }
    edge.consumers += need;
    const e = edge;
    let released = false;
    return {
      router: e.router,
      slot: e.slot,
      producerId: (id) => e.piped.get(id) ?? id,
      release: () => {
        if (released) return;
        released = true;
        e.consumers -= need;
        if (e.consumers <= 0) this.#closeEdge(e, 'last viewer left');
      },
    };
  }

  async #openEdge(profile: EdgeProfile, placement: { slot?: number; exclude?: number[] }): Promise<Edge> {
    const router = await this.#pool.createRouter(`whep:${this.source.streamId}:${++this.#seq}`, profile.codecs, placement);
    const piped = new Map<string, string>();
    try {
      // New ids: a worker refuses a second producer with an id it already holds (same-worker edges).
      for (const p of this.source.producers) {
        if (p.closed) continue;
        const { pipeProducer } = await this.source.router.pipeToRouter({ producerId: p.id, router, keepId: false });
        if (pipeProducer) piped.set(p.id, pipeProducer.id);
      }
    } catch (err) {
      router.close();
      throw err;
    }
    if (this.#closed) {
      router.close();
      throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream stopped while the viewer was joining');
    }
    const slot = this.#pool.slotOf(router) ?? -1;
    const edge: Edge = { profile: profile.key, slot, router, consumers: 0, piped };
    this.#edges.push(edge);
    // A dying worker (or the pool closing) takes the edge with it: forget it.
    router.observer.once('close', () => this.#forget(edge));
    this.#log.info({ slot, profile: profile.key, edges: this.#edges.length, sameWorker: slot === this.#pool.slotOf(this.source.router) }, 'WHEP edge router opened');
    return edge;
  }

  #forget(edge: Edge): void {
    const i = this.#edges.indexOf(edge);
    if (i >= 0) this.#edges.splice(i, 1);
  }

  #closeEdge(edge: Edge, reason: string): void {
    this.#forget(edge);
    if (!edge.router.closed) {
      edge.router.close();
      this.#log.debug({ slot: edge.slot, profile: edge.profile, reason }, 'WHEP edge router closed');
    }
  }

  /** Closes every edge router (their transports and consumers go with them). Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const e of [...this.#edges]) this.#closeEdge(e, reason);
  }
}
