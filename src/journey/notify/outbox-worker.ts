import type { Logger } from '../../core/logger.js';
import type { ClaimedOutboxRecord, OutboxOutcome } from '../../store/notify-types.js';
import type { Store } from '../../store/types.js';
import type { PushFanout } from './push-fanout.js';
import { nextAttemptAt, type RetryPolicy } from './retry-policy.js';
import type { WebhookSender } from './webhook-sender.js';

export interface OutboxWorkerOptions {
  store: Store;
  /** This node's lease owner name (its node id: one process per node id). */
  owner: string;
  webhooks: WebhookSender;
  push: PushFanout;
  /** Rows handled at once (webhooks.concurrency); a push fan-out is one of them, with its own concurrency inside. */
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  retry: RetryPolicy;
  /** Done and dead rows are deleted this long after their last update. */
  keepDoneMs: number;
  logger: Logger;
  now?: () => number;
}

/** Webhook counters (the metrics and the bench read them). */
export interface WebhookCounters {
  delivered: number;
  retried: number;
  dead: number;
}

/** How often done rows are pruned. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The delivery worker of one node: claims due outbox rows with a lease (webhooks.leaseMs), handles
 * at most `concurrency` at once, and settles each with its outcome: delivered, retried later per
 * the retry policy (the same row, so the same webhook-id), or given up after 24 h. It runs on
 * timers and store calls only, never on the media path. A crash leaves leased rows that any node
 * claims once the lease expires; this node takes its own back at start (releaseOutboxLeases).
 */
export class OutboxWorker {
  readonly webhookCounters: WebhookCounters = { delivered: 0, retried: 0, dead: 0 };
  readonly #o: OutboxWorkerOptions;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  /** Webhook rows in flight per endpoint: one endpoint that never answers may hold half the slots, not all. */
  readonly #perEndpoint = new Map<string, number>();
  readonly #endpointCap: number;
  #timer?: NodeJS.Timeout;
  #claiming = false;
  #again = false;
  #started = false;
  #lastPrune = 0;

  constructor(o: OutboxWorkerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    // With one endpoint there is nobody to share with.
    this.#endpointCap = o.webhooks.endpointCount > 1 ? Math.max(1, Math.ceil(o.concurrency / 2)) : o.concurrency;
  }

  /** Rows being handled now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Takes back this node's leases left by its previous process, then starts claiming. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const released = await this.#o.store.releaseOutboxLeases(this.#o.owner);
    if (released) this.#o.logger.info({ rows: released }, 'outbox rows leased by this node\'s previous process taken back');
    this.wake();
  }

  /** Looks for due rows now (an event was just written). */
  wake(): void {
    if (!this.#started || this.#abort.signal.aborted) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#claim();
  }

  /** Stops claiming, aborts what is in flight and hands its rows back (the next process or another node sends them). */
  async close(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
    if (this.#started) await this.#o.store.releaseOutboxLeases(this.#o.owner).catch((err: unknown) => this.#o.logger.warn({ err }, 'releasing outbox leases at shutdown failed: they expire by themselves'));
  }

  async #claim(): Promise<void> {
    this.#claiming = true;
    let claimed = 0;
    let free = 0;
    let deferred = 0;
    try {
      free = this.#o.concurrency - this.#inFlight.size;
      if (free > 0) {
        const now = this.#now();
        const rows = await this.#o.store.claimOutbox({ owner: this.#o.owner, now, leaseUntil: now + this.#o.leaseMs, limit: free });
        claimed = rows.length;
        for (const row of rows) {
          if (row.kind === 'webhook' && (this.#perEndpoint.get(row.target) ?? 0) >= this.#endpointCap) {
            // Its endpoint already holds its share of the slots: hand the row back for a poll's time, attempts unchanged.
            await this.#o.store.settleOutbox(row.id, row.leaseOwner, { state: 'pending', attempts: row.attempts, nextAttemptAt: now + this.#o.pollMs, lastError: row.lastError }, now);
            deferred++;
            continue;
          }
          this.#handle(row);
        }
      }
      await this.#prune();
    } catch (err) {
      this.#o.logger.error({ err, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'claiming outbox rows failed; retrying at the next poll');
    } finally {
      this.#claiming = false;
    }
    if (this.#abort.signal.aborted) return;
    // More may be due right away: all free slots filled, or someone woke us meanwhile. Not when
    // rows were handed back: the next slot to free up (or the poll) claims again, no busy loop.
    if (deferred === 0 && ((free > 0 && claimed === free) || this.#again)) {
      this.#again = false;
      if (this.#inFlight.size < this.#o.concurrency) {
        setImmediate(() => this.wake());
        return;
      }
    }
    this.#timer = setTimeout(() => this.wake(), this.#o.pollMs);
    this.#timer.unref();
  }

  #handle(row: ClaimedOutboxRecord): void {
    const key = row.kind === 'webhook' ? row.target : undefined;
    if (key) this.#perEndpoint.set(key, (this.#perEndpoint.get(key) ?? 0) + 1);
    const p = this.#attempt(row)
      .catch((err: unknown) => this.#o.logger.error({ err, row: row.id, kind: row.kind }, 'outbox row handling failed; its lease expires and it is tried again'))
      .finally(() => {
        this.#inFlight.delete(p);
        if (key) {
          const n = (this.#perEndpoint.get(key) ?? 1) - 1;
          if (n <= 0) this.#perEndpoint.delete(key);
          else this.#perEndpoint.set(key, n);
        }
        this.wake();
      });
    this.#inFlight.add(p);
  }

  async #attempt(row: ClaimedOutboxRecord): Promise<void> {
    const signal = this.#abort.signal;
    let outcome: OutboxOutcome | null;
    if (row.kind === 'webhook') outcome = await this.#webhook(row, signal);
    else if (row.kind === 'push-fanout') outcome = await this.#o.push.run(row, signal);
    else outcome = await this.#o.push.retryOne(row, signal);
    if (outcome === null || signal.aborted) return;
    await this.#o.store.settleOutbox(row.id, row.leaseOwner, outcome, this.#now());
  }

  async #webhook(row: ClaimedOutboxRecord, signal: AbortSignal): Promise<OutboxOutcome | null> {
    const r = await this.#o.webhooks.deliver(row, signal);
    if (signal.aborted) return null;
    const log = { webhookId: row.id, endpoint: row.target, type: row.eventType, attempts: row.attempts + 1 };
    if (r.kind === 'delivered') {
      this.webhookCounters.delivered++;
      return { state: 'done', attempts: row.attempts, nextAttemptAt: row.nextAttemptAt, lastError: null };
    }
    const attempts = row.attempts + 1;
    const next = r.kind === 'retry' ? nextAttemptAt(this.#o.retry, row.createdAt, attempts, this.#now()) : null;
    if (next === null) {
      this.webhookCounters.dead++;
      this.#o.logger.error({ ...log, error: r.error, code: 'SHOWCASE_ERR_WEBHOOK_FAILED' }, 'webhook given up');
      return { state: 'dead', attempts, nextAttemptAt: row.nextAttemptAt, lastError: r.error };
    }
    this.webhookCounters.retried++;
    // One line when an event first fails at an endpoint; its later attempts are in the row (lastError, attempts).
    if (attempts === 1) this.#o.logger.warn({ ...log, error: r.error, retryAt: new Date(next).toISOString(), code: 'SHOWCASE_ERR_WEBHOOK_FAILED' }, 'webhook delivery failed; retrying with backoff');
    return { state: 'pending', attempts, nextAttemptAt: next, lastError: r.error };
  }

  async #prune(): Promise<void> {
    const now = this.#now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    const n = await this.#o.store.pruneOutbox(now - this.#o.keepDoneMs);
    if (n) this.#o.logger.info({ rows: n }, 'old delivered and dead outbox rows deleted');
  }
}
