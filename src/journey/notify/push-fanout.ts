import type { Logger } from '../../core/logger.js';
import type { ClaimedOutboxRecord, OutboxOutcome, PushSubscriptionRecord } from '../../store/notify-types.js';
import type { Store } from '../../store/types.js';
import { pushRetryRow, type PushFanoutJob, type PushMessage } from './notify-events.js';
import type { PushResult } from './push-sender.js';
import type { PushSending } from './threaded-push-sender.js';
import { nextAttemptAt, type RetryPolicy } from './retry-policy.js';

/** Counters a fan-out keeps (the bench and the metrics read them). */
export interface PushCounters {
  sent: number;
  gone: number;
  retried: number;
  failed: number;
  /** When the last push request of any fan-out was answered (ms), 0 before any. */
  lastSentAt: number;
}

export interface PushFanoutOptions {
  store: Store;
  sender: PushSending;
  logger: Logger;
  /** Requests in flight at once within one page. */
  concurrency: number;
  /** Subscriptions read per page (all a fan-out holds in memory). */
  batchSize: number;
  leaseMs: number;
  retry: RetryPolicy;
  now?: () => number;
}

interface Cursor {
  shopperId: string;
  id: string;
}

/** The most pages one fan-out reads (10,000 x batchSize subscriptions): a loop with a bound. */
const MAX_PAGES = 10_000;

/**
 * Runs a go-live's push fan-out job: pages through the creator's followers' subscriptions
 * (`batchSize` at a time, so 100,000 followers never sit in memory), sends each page with
 * `concurrency` requests in flight, deletes subscriptions the push service says are gone (404/410),
 * writes a retry row for each message worth retrying, then saves the cursor and extends the lease.
 * A crash loses at most the page in flight: the next holder resumes from the saved cursor (a
 * follower may then get that page's message twice; the notification's tag makes the browser show it once).
 */
export class PushFanout {
  readonly counters: PushCounters = { sent: 0, gone: 0, retried: 0, failed: 0, lastSentAt: 0 };
  readonly #o: PushFanoutOptions;
  readonly #now: () => number;

  constructor(o: PushFanoutOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Runs the job to its end; null when the lease was lost or `signal` aborted (the row is then not settled here). */
  async run(row: ClaimedOutboxRecord, signal: AbortSignal): Promise<OutboxOutcome | null> {
    const job = JSON.parse(row.payload) as PushFanoutJob;
    const payload = JSON.stringify(job.message);
    let cursor: Cursor | null = row.cursor ? (JSON.parse(row.cursor) as Cursor) : null;
    const t0 = this.#now();
    let total = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      if (signal.aborted) return null;
      const subs = await this.#o.store.listFollowerPushSubscriptions(job.creatorId, { after: cursor, limit: this.#o.batchSize });
      if (subs.length === 0) break;
      await this.#sendPage(row.id, subs, job.message, payload, signal);
      if (signal.aborted) return null;
      const last = subs[subs.length - 1]!;
      cursor = { shopperId: last.shopperId, id: last.id };
      total += subs.length;
      const kept = await this.#o.store.progressOutbox(row.id, row.leaseOwner, { cursor: JSON.stringify(cursor), leaseUntil: this.#now() + this.#o.leaseMs }, this.#now());
      if (!kept) {
        this.#o.logger.warn({ job: row.id, sent: total }, 'push fan-out lease lost to another node: it continues there');
        return null;
      }
    }
    this.#o.logger.info({ job: row.id, creatorId: job.creatorId, streamId: job.message.streamId, subscriptions: total, ms: this.#now() - t0 }, 'push fan-out done');
    return { state: 'done', attempts: row.attempts, nextAttemptAt: row.nextAttemptAt, lastError: null };
  }

  /** A retried single message (an outbox row of kind 'push'). */
  async retryOne(row: ClaimedOutboxRecord, signal: AbortSignal): Promise<OutboxOutcome | null> {
    const sub = await this.#o.store.getPushSubscription(row.target);
    if (!sub) return { state: 'done', attempts: row.attempts, nextAttemptAt: row.nextAttemptAt, lastError: 'subscription deleted meanwhile' };
    const r = await this.#o.sender.send(sub, row.payload, signal);
    if (signal.aborted) return null;
    await this.#count(sub, r);
    if (r.kind === 'sent' || r.kind === 'gone') return { state: 'done', attempts: row.attempts, nextAttemptAt: row.nextAttemptAt, lastError: null };
    const attempts = row.attempts + 1;
    const next = r.kind === 'retry' ? nextAttemptAt(this.#o.retry, row.createdAt, attempts, this.#now()) : null;
    return next === null
      ? { state: 'dead', attempts, nextAttemptAt: row.nextAttemptAt, lastError: r.error }
      : { state: 'pending', attempts, nextAttemptAt: next, lastError: r.error };
  }

  async #sendPage(jobId: string, subs: readonly PushSubscriptionRecord[], message: PushMessage, payload: string, signal: AbortSignal): Promise<void> {
    const retries: ReturnType<typeof pushRetryRow>[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < subs.length && !signal.aborted) {
        const sub = subs[next++]!;
        const r = await this.#o.sender.send(sub, payload, signal);
        if (signal.aborted) return;
        await this.#count(sub, r);
        if (r.kind === 'retry') {
          const now = this.#now();
          const at = nextAttemptAt(this.#o.retry, now, 1, now);
          if (at !== null) retries.push(pushRetryRow(jobId, sub.id, message, now, at, r.error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, subs.length) }, lane));
    if (retries.length) await this.#o.store.enqueueOutbox(retries);
  }

  async #count(sub: PushSubscriptionRecord, r: PushResult): Promise<void> {
    this.counters.lastSentAt = this.#now();
    if (r.kind === 'sent') {
      this.counters.sent++;
    } else if (r.kind === 'gone') {
      this.counters.gone++;
      // The browser dropped it: never send there again.
      await this.#o.store.deletePushSubscription(sub.id).catch((err: unknown) =>
        this.#o.logger.warn({ err, subscriptionId: sub.id, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'deleting a gone push subscription failed'));
    } else if (r.kind === 'retry') {
      this.counters.retried++;
    } else {
      const n = ++this.counters.failed;
      // Logged at the 1st, 2nd, 4th, 8th... refusal: a misconfiguration refusing every message must not write 100,000 lines.
      if ((n & (n - 1)) === 0) this.#o.logger.warn({ subscriptionId: sub.id, error: r.error, refused: n, code: 'SHOWCASE_ERR_PUSH_FAILED' }, 'push message refused by the push service: not retried');
    }
  }
}
