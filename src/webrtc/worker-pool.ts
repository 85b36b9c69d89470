import { availableParallelism } from 'node:os';
import type { types } from 'mediasoup';
import { TypedEmitter } from '../core/typed-emitter.js';
import type { Logger } from '../core/logger.js';
import { loadMediasoup } from './worker-binary.js';

/** Settings every worker is created with; the pool adds nothing else. */
export interface WorkerPoolOptions {
  /** Number of workers; 0 or undefined = one per core. */
  size?: number;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  logLevel?: types.WorkerLogLevel;
  logger: Logger;
  /** Delay before a dead worker is replaced (doubles while creation keeps failing, up to 30 s). */
  replaceDelayMs?: number;
  /** Creates one worker (tests pass a fake); mediasoup.createWorker by default. */
  createWorker?: (settings: types.WorkerSettings) => Promise<types.Worker>;
}

/** Load of one worker slot: what placement counts. */
export interface WorkerLoad {
  slot: number;
  pid: number | null;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
}

export type WorkerPoolEvents = {
  /** A worker process died; `owners` are the owners of the routers it took with it. */
  workerdied: [info: { slot: number; pid: number; error: Error; owners: string[] }];
  /** A router was lost with its worker: its owner must close what it built on it. */
  routerlost: [owner: string, routerId: string, reason: string];
  /** A replacement worker is running in a slot. */
  workerreplaced: [info: { slot: number; pid: number }];
};

interface Slot {
  index: number;
  worker?: types.Worker;
  routers: Map<string, { owner: string; router: types.Router }>;
  transports: number;
  producers: number;
  consumers: number;
  replaceTimer?: NodeJS.Timeout;
  replaceDelayMs: number;
}

/**
 * N mediasoup workers (one per core by default). Routers are placed on the least-loaded worker;
 * a worker that dies is logged, its routers' owners are told ('routerlost'), and it is replaced.
 * Closing a router closes its transports, producers and consumers (mediasoup's ownership tree).
 */
export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #slots: Slot[] = [];
  readonly #opts: WorkerPoolOptions;
  readonly #log: Logger;
  #closed = false;

  private constructor(opts: WorkerPoolOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'webrtc-workers' });
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'worker pool listener failed');
  }

  /** Starts every worker; rejects (closing those started) if one cannot start. */
  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    const n = opts.size && opts.size > 0 ? opts.size : availableParallelism();
    for (let i = 0; i < n; i++) {
      pool.#slots.push({ index: i, routers: new Map(), transports: 0, producers: 0, consumers: 0, replaceDelayMs: opts.replaceDelayMs ?? 500 });
    }
    try {
      await Promise.all(pool.#slots.map((s) => pool.#start(s)));
    } catch (err) {
      pool.close();
      throw err;
    }
    pool.#log.info({ workers: n, pids: pool.#slots.map((s) => s.worker?.pid) }, 'mediasoup workers started');
    return pool;
  }

  /** Number of worker slots. */
  get size(): number {
    return this.#slots.length;
  }

  /** Load of every slot (pid null while a dead worker awaits its replacement). */
  load(): WorkerLoad[] {
    return this.#slots.map((s) => ({
      slot: s.index,
      pid: s.worker && !s.worker.died && !s.worker.closed ? s.worker.pid : null,
      routers: s.routers.size,
      transports: s.transports,
      producers: s.producers,
      consumers: s.consumers,
    }));
  }

  /** Slots whose worker is running now. */
  liveSlots(): number[] {
    return this.#slots.filter((s) => s.worker && !s.worker.died && !s.worker.closed).map((s) => s.index);
  }

  /** The slot hosting a router made by this pool (undefined once it is gone). */
  slotOf(router: types.Router): number | undefined {
    return this.#slots.find((s) => s.routers.has(router.id))?.index;
  }

  /**
   * Creates a router for `owner` on the least-loaded live worker; `placement` pins a slot or keeps
   * some out (a stream's viewers spread over workers).
   */
  async createRouter(owner: string, mediaCodecs: types.RouterRtpCodecCapability[], placement: { slot?: number; exclude?: number[] } = {}): Promise<types.Router> {
    if (this.#closed) throw new Error('worker pool is closed');
    let live = this.#slots.filter((s) => s.worker && !s.worker.died && !s.worker.closed);
    if (placement.slot !== undefined) live = live.filter((s) => s.index === placement.slot);
    else if (placement.exclude?.length) live = live.filter((s) => !placement.exclude!.includes(s.index));
    if (live.length === 0) throw new Error('no mediasoup worker is running');
    const score = (s: Slot): number => s.routers.size + s.transports + s.producers + s.consumers;
    const slot = live.reduce((best, s) => (score(s) < score(best) ? s : best));
    const router = await slot.worker!.createRouter({ mediaCodecs, appData: { owner } });
    const worker = slot.worker!;
    slot.routers.set(router.id, { owner, router });
    // A dying worker closes its routers before it emits 'died': keep those for the owners' notice.
    router.observer.on('close', () => {
      if (!worker.died) slot.routers.delete(router.id);
    });
    router.observer.on('newtransport', (transport) => {
      slot.transports++;
      transport.observer.on('close', () => { if (slot.worker === worker) slot.transports--; });
      transport.observer.on('newproducer', (p) => {
        slot.producers++;
        p.observer.on('close', () => { if (slot.worker === worker) slot.producers--; });
      });
      transport.observer.on('newconsumer', (c) => {
        slot.consumers++;
        c.observer.on('close', () => { if (slot.worker === worker) slot.consumers--; });
      });
    });
    return router;
  }

  /** Closes every worker (and so every router, transport, producer and consumer). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#slots) {
      if (s.replaceTimer) clearTimeout(s.replaceTimer);
      s.worker?.close();
    }
    this.removeAllListeners();
  }

  async #start(slot: Slot): Promise<void> {
    const settings: types.WorkerSettings = {
      logLevel: this.#opts.logLevel ?? 'warn',
      rtcMinPort: this.#opts.rtcMinPort,
      rtcMaxPort: this.#opts.rtcMaxPort,
      appData: { slot: slot.index },
    };
    const create = this.#opts.createWorker ?? (async (s: types.WorkerSettings) => (await loadMediasoup()).createWorker(s));
    const worker = await create(settings);
    if (this.#closed) {
      worker.close();
      return;
    }
    slot.worker = worker;
    slot.transports = slot.producers = slot.consumers = 0;
    worker.on('died', (error) => this.#onDied(slot, worker, error));
  }

  #onDied(slot: Slot, worker: types.Worker, error: Error): void {
    if (slot.worker !== worker) return;
    const lost = [...slot.routers.entries()];
    slot.routers.clear();
    slot.worker = undefined;
    const owners = [...new Set(lost.map(([, r]) => r.owner))];
    this.#log.error({ err: error, slot: slot.index, pid: worker.pid, routersLost: lost.length, owners }, 'mediasoup worker died: replacing it');
    this.safeEmit('workerdied', { slot: slot.index, pid: worker.pid, error, owners });
    for (const [id, r] of lost) this.safeEmit('routerlost', r.owner, id, `mediasoup worker ${worker.pid} died: ${error.message}`);
    this.#scheduleReplace(slot);
  }

  #scheduleReplace(slot: Slot): void {
    if (this.#closed) return;
    slot.replaceTimer = setTimeout(() => {
      slot.replaceTimer = undefined;
      this.#start(slot).then(() => {
        if (!slot.worker) return;
        slot.replaceDelayMs = this.#opts.replaceDelayMs ?? 500;
        this.#log.info({ slot: slot.index, pid: slot.worker.pid }, 'mediasoup worker replaced');
        this.safeEmit('workerreplaced', { slot: slot.index, pid: slot.worker.pid });
      }, (err: unknown) => {
        slot.replaceDelayMs = Math.min(slot.replaceDelayMs * 2, 30_000);
        this.#log.error({ err, slot: slot.index, retryMs: slot.replaceDelayMs }, 'replacing a mediasoup worker failed: retrying');
        this.#scheduleReplace(slot);
      });
    }, slot.replaceDelayMs);
    slot.replaceTimer.unref();
  }
}
