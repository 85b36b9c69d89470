import type pg from 'pg';
import {
  MAX_SUBSCRIPTIONS_LISTED, OUTBOX_COLS, OUTBOX_COLUMNS, SUBSCRIPTION_COLS, SUBSCRIPTION_COLS_P, PUSH_SUBSCRIPTION_COLUMNS, claimedFromRow, clipError, outboxCountsFrom, outboxFromRow, outboxToRow,
  pushSubscriptionFromRow, pushSubscriptionToRow, subscriptionBatch, type OutboxRow, type PushSubscriptionRow,
} from './notify-records.js';
import { args, type PgCallWrappers } from './pg-room.js';
import type { NotifyStore } from './notify-types.js';

const P = SUBSCRIPTION_COLS;
const PP = SUBSCRIPTION_COLS_P;
const O = OUTBOX_COLS;

/** The notification methods of the PostgreSQL store (push subscriptions, the outbox). */
export function pgNotifyMethods(pool: pg.Pool, { run, writeOne, tx }: PgCallWrappers): NotifyStore {
  return {
    putPushSubscription: (rec) => run(async () => {
      const row = pushSubscriptionToRow(rec);
      const r = (await writeOne<PushSubscriptionRow>(pool,
        `INSERT INTO push_subscriptions (${P}) VALUES (${args(PUSH_SUBSCRIPTION_COLUMNS.length)})
         ON CONFLICT (endpoint) DO UPDATE SET shopper_id = excluded.shopper_id, p256dh = excluded.p256dh, auth = excluded.auth RETURNING ${P}`,
        PUSH_SUBSCRIPTION_COLUMNS.map((c) => row[c])))!;
      return { created: r.id === rec.id, rec: pushSubscriptionFromRow(r) };
    }),
    getPushSubscription: (id) => run(async () => {
      const r = (await pool.query<PushSubscriptionRow>(`SELECT ${P} FROM push_subscriptions WHERE id = $1`, [id])).rows[0];
      return r ? pushSubscriptionFromRow(r) : undefined;
    }),
    listPushSubscriptions: (shopperId) => run(async () =>
      (await pool.query<PushSubscriptionRow>(`SELECT ${P} FROM push_subscriptions WHERE shopper_id = $1 ORDER BY created_at, id COLLATE "C" LIMIT $2`,
        [shopperId, MAX_SUBSCRIPTIONS_LISTED])).rows.map(pushSubscriptionFromRow)),
    deletePushSubscription: (id, shopperId) => run(async () => {
      const res = shopperId === undefined
        ? await pool.query('DELETE FROM push_subscriptions WHERE id = $1', [id])
        : await pool.query('DELETE FROM push_subscriptions WHERE id = $1 AND shopper_id = $2', [id, shopperId]);
      return (res.rowCount ?? 0) > 0;
    }),
    // Byte order (COLLATE "C") as SQLite's, so a cursor means the same position in both.
    listFollowerPushSubscriptions: (creatorId, o) => run(async () =>
      (await pool.query<PushSubscriptionRow>(
        `SELECT ${PP} FROM followers f JOIN push_subscriptions p ON p.shopper_id = f.shopper_id
         WHERE f.creator_id = $1 AND (p.shopper_id COLLATE "C" > $2 OR (p.shopper_id = $2 AND p.id COLLATE "C" > $3))
         ORDER BY p.shopper_id COLLATE "C", p.id COLLATE "C" LIMIT $4`,
        [creatorId, o.after?.shopperId ?? '', o.after?.id ?? '', subscriptionBatch(o.limit)])).rows.map(pushSubscriptionFromRow)),
    enqueueOutbox: (rows) => run(async () => {
      if (rows.length === 0) return 0;
      return tx(async (c) => {
        let n = 0;
        for (const rec of rows) {
          const row = outboxToRow(rec);
          const r = await writeOne<{ id: string }>(c, `INSERT INTO outbox (${O}) VALUES (${args(OUTBOX_COLUMNS.length)}) ON CONFLICT (id) DO NOTHING RETURNING id`,
            OUTBOX_COLUMNS.map((k) => row[k]));
          if (r) n++;
        }
        return n;
      });
    }),
    // SKIP LOCKED: nodes claiming at the same moment take different rows instead of waiting on each other.
    claimOutbox: (o) => run(async () =>
      (await pool.query<OutboxRow>(
        `UPDATE outbox SET lease_owner = $1, lease_expires_at = $3
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2
                        AND (lease_expires_at IS NULL OR lease_expires_at <= $2) ORDER BY next_attempt_at, id COLLATE "C" LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING ${O}, lease_owner, lease_expires_at`,
        [o.owner, o.now, o.leaseUntil, Math.max(1, Math.min(o.limit, 1000))])).rows
        .sort((a, b) => a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : 1)).map(claimedFromRow)),
    settleOutbox: (id, owner, r, now) => run(async () =>
      ((await pool.query(
        `UPDATE outbox SET state = $3, attempts = $4, next_attempt_at = $5, last_error = $6, updated_at = $7, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = $1 AND lease_owner = $2`, [id, owner, r.state, r.attempts, r.nextAttemptAt, clipError(r.lastError), now])).rowCount ?? 0) > 0),
    progressOutbox: (id, owner, o, now) => run(async () =>
      ((await pool.query('UPDATE outbox SET cursor = $3, lease_expires_at = $4, updated_at = $5 WHERE id = $1 AND lease_owner = $2',
        [id, owner, o.cursor, o.leaseUntil, now])).rowCount ?? 0) > 0),
    releaseOutboxLeases: (owner) => run(async () =>
      (await pool.query('UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1', [owner])).rowCount ?? 0),
    getOutbox: (id) => run(async () => {
      const r = (await pool.query<OutboxRow>(`SELECT ${O} FROM outbox WHERE id = $1`, [id])).rows[0];
      return r ? outboxFromRow(r) : undefined;
    }),
    outboxCounts: () => run(async () => outboxCountsFrom((await pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM outbox GROUP BY state')).rows)),
    pruneOutbox: (before) => run(async () =>
      (await pool.query("DELETE FROM outbox WHERE state IN ('done', 'dead') AND updated_at < $1", [before])).rowCount ?? 0),
  };
}
