import type { Database } from 'better-sqlite3';
import {
  MAX_SUBSCRIPTIONS_LISTED, OUTBOX_COLS, OUTBOX_COLUMNS, SUBSCRIPTION_COLS, SUBSCRIPTION_COLS_P, PUSH_SUBSCRIPTION_COLUMNS, claimedFromRow, clipError, outboxCountsFrom, outboxFromRow, outboxToRow,
  pushSubscriptionFromRow, pushSubscriptionToRow, subscriptionBatch, type OutboxRow, type PushSubscriptionRow,
} from './notify-records.js';
import type { SqliteCallWrappers } from './sqlite-room.js';
import type { NotifyStore } from './notify-types.js';

const P = SUBSCRIPTION_COLS;
const PP = SUBSCRIPTION_COLS_P;
const O = OUTBOX_COLS;

/** The notification methods of the SQLite store (push subscriptions, the outbox), statements prepared once. */
export function sqliteNotifyMethods(db: Database, { run, write }: SqliteCallWrappers): NotifyStore {
  const q = {
    upsertSub: db.prepare<[PushSubscriptionRow], PushSubscriptionRow>(
      `INSERT INTO push_subscriptions (${P}) VALUES (${PUSH_SUBSCRIPTION_COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (endpoint) DO UPDATE SET shopper_id = excluded.shopper_id, p256dh = excluded.p256dh, auth = excluded.auth RETURNING ${P}`),
    subById: db.prepare<[string], PushSubscriptionRow>(`SELECT ${P} FROM push_subscriptions WHERE id = ?`),
    subsOf: db.prepare<[string, number], PushSubscriptionRow>(`SELECT ${P} FROM push_subscriptions WHERE shopper_id = ? ORDER BY created_at, id LIMIT ?`),
    deleteSub: db.prepare<[string]>('DELETE FROM push_subscriptions WHERE id = ?'),
    deleteOwnSub: db.prepare<[string, string]>('DELETE FROM push_subscriptions WHERE id = ? AND shopper_id = ?'),
    followerSubs: db.prepare<[string, string, string, number], PushSubscriptionRow>(
      `SELECT ${PP} FROM followers f JOIN push_subscriptions p ON p.shopper_id = f.shopper_id
       WHERE f.creator_id = ? AND (p.shopper_id, p.id) > (?, ?) ORDER BY p.shopper_id, p.id LIMIT ?`),
    insertOutbox: db.prepare<[OutboxRow]>(`INSERT INTO outbox (${O}) VALUES (${OUTBOX_COLUMNS.map((c) => `@${c}`).join(', ')}) ON CONFLICT (id) DO NOTHING`),
    claim: db.prepare<[{ owner: string; now: number; until: number; limit: number }], OutboxRow>(
      `UPDATE outbox SET lease_owner = @owner, lease_expires_at = @until
       WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= @now
                      AND (lease_expires_at IS NULL OR lease_expires_at <= @now) ORDER BY next_attempt_at, id LIMIT @limit)
       RETURNING ${O}, lease_owner, lease_expires_at`),
    settle: db.prepare<[Record<string, unknown>]>(
      `UPDATE outbox SET state = @state, attempts = @attempts, next_attempt_at = @next, last_error = @error, updated_at = @now,
         lease_owner = NULL, lease_expires_at = NULL
       WHERE id = @id AND lease_owner = @owner`),
    progress: db.prepare<[Record<string, unknown>]>(
      'UPDATE outbox SET cursor = @cursor, lease_expires_at = @until, updated_at = @now WHERE id = @id AND lease_owner = @owner'),
    release: db.prepare<[string]>('UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?'),
    get: db.prepare<[string], OutboxRow>(`SELECT ${O} FROM outbox WHERE id = ?`),
    counts: db.prepare<[], { state: string; n: number }>('SELECT state, count(*) AS n FROM outbox GROUP BY state'),
    prune: db.prepare<[number]>("DELETE FROM outbox WHERE state IN ('done', 'dead') AND updated_at < ?"),
  };
  const enqueue = db.transaction((rows: readonly OutboxRow[]): number => {
    let n = 0;
    for (const r of rows) n += q.insertOutbox.run(r).changes;
    return n;
  });
  return {
    putPushSubscription: (rec) => run(() => {
      const r = write(() => q.upsertSub.get(pushSubscriptionToRow(rec)))!;
      return { created: r.id === rec.id, rec: pushSubscriptionFromRow(r) };
    }),
    getPushSubscription: (id) => run(() => {
      const r = q.subById.get(id);
      return r ? pushSubscriptionFromRow(r) : undefined;
    }),
    listPushSubscriptions: (shopperId) => run(() => q.subsOf.all(shopperId, MAX_SUBSCRIPTIONS_LISTED).map(pushSubscriptionFromRow)),
    deletePushSubscription: (id, shopperId) => run(() => (shopperId === undefined ? q.deleteSub.run(id) : q.deleteOwnSub.run(id, shopperId)).changes > 0),
    listFollowerPushSubscriptions: (creatorId, o) => run(() =>
      q.followerSubs.all(creatorId, o.after?.shopperId ?? '', o.after?.id ?? '', subscriptionBatch(o.limit)).map(pushSubscriptionFromRow)),
    enqueueOutbox: (rows) => run(() => write(() => enqueue(rows.map(outboxToRow)))),
    claimOutbox: (o) => run(() => q.claim.all({ owner: o.owner, now: o.now, until: o.leaseUntil, limit: Math.max(1, Math.min(o.limit, 1000)) })
      .sort((a, b) => a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : 1)).map(claimedFromRow)),
    settleOutbox: (id, owner, r, now) => run(() =>
      q.settle.run({ id, owner, state: r.state, attempts: r.attempts, next: r.nextAttemptAt, error: clipError(r.lastError), now }).changes > 0),
    progressOutbox: (id, owner, o, now) => run(() => q.progress.run({ id, owner, cursor: o.cursor, until: o.leaseUntil, now }).changes > 0),
    releaseOutboxLeases: (owner) => run(() => q.release.run(owner).changes),
    getOutbox: (id) => run(() => {
      const r = q.get.get(id);
      return r ? outboxFromRow(r) : undefined;
    }),
    outboxCounts: () => run(() => outboxCountsFrom(q.counts.all())),
    pruneOutbox: (before) => run(() => q.prune.run(before).changes),
  };
}
