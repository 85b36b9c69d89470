import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { LiveStream } from '../../core/live-stream.js';
import type { Logger } from '../../core/logger.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import type { ConversionRecord } from '../../store/commerce-types.js';
import type { OutboxRecord } from '../../store/notify-types.js';
import type { RecordingRecord, Store } from '../../store/types.js';
import { pushFanoutRow, watchUrl, webhookRows, type NotifyEvent, type PushFanoutJob } from './notify-events.js';
import { OutboxWorker } from './outbox-worker.js';
import { PushFanout } from './push-fanout.js';
import { ThreadedPushSender } from './threaded-push-sender.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry-policy.js';
import { loadOrCreateVapidKeys } from './vapid-keys.js';
import { WebhookSender } from './webhook-sender.js';

export interface NotifyServiceOptions {
  config: Readonly<Config>;
  store: Store;
  /** This node's id: the owner of the outbox leases it takes. */
  nodeId: string;
  logger: Logger;
  now?: () => number;
}

/** Events waiting to be written at most; past it new ones are dropped and logged (the store is down or slow). */
const MAX_PENDING_WRITES = 10_000;
/** A failed outbox write is tried this many times, a second apart, then logged and dropped. */
const WRITE_TRIES = 3;

/**
 * Notifications (issue 15): turns what happens (a stream going live or ending, a recording ready,
 * a sale, a follow) into outbox rows, one per webhook endpoint plus one push fan-out job per
 * go-live, and runs this node's delivery worker over the outbox. Every entry point returns at
 * once: the rows are written in order behind a bounded queue, so going live only enqueues.
 */
export class NotifyService {
  /** The node's VAPID public key (base64url), for PushManager.subscribe. */
  readonly vapidPublicKey: string;
  readonly worker: OutboxWorker;
  readonly push: PushFanout;
  readonly #o: NotifyServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #endpoints: Config['webhooks']['endpoints'];
  #writes: Promise<void> = Promise.resolve();
  #pending = 0;
  #dropped = 0;
  #closed = false;
  readonly #sender: ThreadedPushSender;

  constructor(o: NotifyServiceOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'notify' });
    this.#now = o.now ?? Date.now;
    const c = o.config;
    this.#endpoints = c.webhooks.endpoints;
    // Read once at start: a subscription is bound to this key, so it never changes while running.
    const vapid = loadOrCreateVapidKeys(resolve(c.dataDir));
    this.vapidPublicKey = vapid.publicKey;
    const retry: RetryPolicy = { ...DEFAULT_RETRY, baseMs: c.webhooks.retryBaseMs, maxDelayMs: c.webhooks.retryMaxDelayMs };
    // An attempt never outlives its lease, or another node could take the row while it is in flight.
    const timeoutMs = Math.min(c.webhooks.timeoutMs, Math.floor(c.webhooks.leaseMs / 2));
    // Encryption and requests on a worker thread: the fan-out's CPU never holds up the media's event loop.
    this.#sender = new ThreadedPushSender({ vapid, subject: c.push.vapidSubject, timeoutMs: Math.min(c.push.timeoutMs, Math.floor(c.webhooks.leaseMs / 2)), ttlSeconds: c.push.ttlSeconds }, this.#log);
    const sender = this.#sender;
    this.push = new PushFanout({
      store: o.store, sender, logger: this.#log, concurrency: c.push.concurrency, batchSize: c.push.batchSize, leaseMs: c.webhooks.leaseMs, retry, now: this.#now,
    });
    this.worker = new OutboxWorker({
      store: o.store, owner: o.nodeId, webhooks: new WebhookSender({ endpoints: this.#endpoints, timeoutMs, now: this.#now }), push: this.push,
      concurrency: c.webhooks.concurrency, leaseMs: c.webhooks.leaseMs, pollMs: c.webhooks.pollMs, retry, keepDoneMs: c.webhooks.keepDoneMs,
      logger: this.#log, now: this.#now,
    });
  }

  /** The push thread's V8 heap in use (bytes). */
  pushThreadHeapUsed(): Promise<number> {
    return this.#sender.threadHeapUsed();
  }

  /** Events dropped because the write queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Starts the delivery worker. */
  start(): Promise<void> {
    return this.worker.start();
  }

  /** Follows every stream of the registry: stream.live once per go-live (not on a reconnect), stream.ended; never for practice streams. */
  attach(registry: StreamRegistry): void {
    const watch = (s: LiveStream): void => {
      let prev = s.state;
      s.on('state', (state, reason) => {
        const was = prev;
        prev = state;
        if (s.practice) return;
        // Only idle -> live is a go-live: an OBS reconnect keeps the stream live, and a deploy's
        // interrupted -> live is the same show continuing.
        if (state === 'live' && was === 'idle') this.#enqueue(() => this.#streamLive(s.id));
        else if (state === 'ended' && s.startedAt !== null) this.#enqueue(() => this.#streamEnded(s.id, reason));
      });
    };
    for (const s of registry.all()) watch(s);
    registry.on('stream', watch);
  }

  /** Streams a previous process left live, ended at start-up: each gets its stream.ended. */
  streamsEnded(ids: readonly string[]): void {
    for (const id of ids) this.#enqueue(() => this.#streamEnded(id, 'interrupted'));
  }

  /** A new follow (PUT /v1/creators/:id/followers/me answered added); resolves once written (the request awaits it, so an answered follow survives a crash). */
  followerAdded(creatorId: string, shopperId: string, at: number): Promise<void> {
    return this.#enqueue(async () => this.#event({ type: 'follower.added', key: `follower.added:${creatorId}:${shopperId}:${at}`, at, data: { creatorId, shopperId, followedAt: iso(at) } }));
  }

  /** A new conversion (POST /v1/conversions created one); resolves once written, as followerAdded. */
  conversionCreated(c: ConversionRecord): Promise<void> {
    return this.#enqueue(async () => {
      if ((await this.#o.store.getStream(c.streamId))?.practice) return [];
      return this.#event({
        type: 'conversion.created', key: `conversion.created:${c.orderId}`, at: c.receivedAt,
        data: { orderId: c.orderId, streamId: c.streamId, creatorId: c.creatorId, productId: c.productId, promoCode: c.promoCode, amountUnits: c.amountUnits, currency: c.currency, occurredAt: iso(c.occurredAt) },
      });
    });
  }

  /** A recording became ready. */
  recordingReady(streamId: string, r: RecordingRecord): void {
    this.#enqueue(async () => {
      const s = await this.#o.store.getStream(streamId);
      if (!s || s.practice) return [];
      return this.#event({
        type: 'recording.ready', key: `recording.ready:${streamId}`, at: r.readyAt ?? this.#now(),
        data: { streamId, creatorId: s.ownerId, durationSeconds: r.durationSeconds ?? null, sizeBytes: r.sizeBytes ?? null, replayUrl: `${this.#base()}/hls/${encodeURIComponent(streamId)}/master.m3u8` },
      });
    });
  }

  /** Waits for every queued write (shutdown, before the store closes). */
  async flush(): Promise<void> {
    while (this.#pending > 0) await this.#writes;
  }

  /** Stops the worker (its rows go back to the outbox); queued writes still land (flush). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.worker.close();
    await this.#sender.close();
  }

  async #streamLive(streamId: string): Promise<OutboxRecord[]> {
    const s = await this.#o.store.getStream(streamId);
    if (!s || s.practice) return [];
    const creator = s.ownerId ? await this.#o.store.getCreator(s.ownerId) : undefined;
    const at = s.startedAt ?? this.#now();
    const url = watchUrl(this.#o.config.publicBaseUrl, s.id);
    const key = `stream.live:${s.id}`;
    const rows = this.#event({ type: 'stream.live', key, at, data: { streamId: s.id, creatorId: s.ownerId, title: s.title, startedAt: iso(at), watchUrl: url } });
    if (creator && !creator.disabled) {
      const job: PushFanoutJob = {
        creatorId: creator.id,
        message: { type: 'stream.live', title: clip(`${creator.displayName} is live`, 120), body: clip(s.title, 200), url, streamId: s.id, tag: `live-${s.id}` },
      };
      rows.push(pushFanoutRow(key, job, this.#now()));
    }
    return rows;
  }

  async #streamEnded(streamId: string, reason: string): Promise<OutboxRecord[]> {
    const s = await this.#o.store.getStream(streamId);
    if (!s || s.practice || s.startedAt === null) return [];
    return this.#event({
      type: 'stream.ended', key: `stream.ended:${s.id}`, at: s.endedAt ?? this.#now(),
      data: { streamId: s.id, creatorId: s.ownerId, title: s.title, startedAt: iso(s.startedAt), endedAt: iso(s.endedAt ?? this.#now()), endReason: s.endReason ?? reason },
    });
  }

  #event(e: NotifyEvent): OutboxRecord[] {
    return webhookRows(e, this.#endpoints, this.#now());
  }

  #base(): string {
    return this.#o.config.publicBaseUrl.replace(/\/+$/, '');
  }

  /**
   * Queues the making and writing of rows behind earlier ones. Media-path callers never await it;
   * HTTP routes may (it resolves once written or dropped, never rejects).
   */
  #enqueue(make: () => Promise<OutboxRecord[]>): Promise<void> {
    if (this.#pending >= MAX_PENDING_WRITES) {
      const n = ++this.#dropped;
      if ((n & (n - 1)) === 0) this.#log.error({ dropped: n, code: 'SHOWCASE_ERR_NOTIFY_DROPPED' }, 'notification event dropped: the outbox write queue is full');
      return Promise.resolve();
    }
    this.#pending++;
    const done = this.#writes.then(async () => {
      try {
        await this.#write(make);
      } finally {
        this.#pending--;
      }
    });
    this.#writes = done;
    return done;
  }

  async #write(make: () => Promise<OutboxRecord[]>): Promise<void> {
    for (let attempt = 1; attempt <= WRITE_TRIES; attempt++) {
      try {
        const rows = await make();
        if (rows.length === 0) return;
        await this.#o.store.enqueueOutbox(rows);
        this.worker.wake();
        return;
      } catch (err) {
        if (attempt === WRITE_TRIES) {
          this.#log.error({ err, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'a notification event could not be written to the outbox: dropped');
          return;
        }
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
