import type { ClaimedOutboxRecord, OutboxKind, OutboxRecord, OutboxState, PushSubscriptionRecord } from './notify-types.js';
import { pageSize } from './records.js';

/**
 * Row <-> record mapping for the notification tables (push_subscriptions, outbox), shared by the
 * SQLite and PostgreSQL stores so both hand callers the same records.
 */

export const PUSH_SUBSCRIPTION_COLUMNS = ['id', 'shopper_id', 'endpoint', 'p256dh', 'auth', 'created_at'] as const;
export const OUTBOX_COLUMNS = [
  'id', 'kind', 'target', 'event_type', 'payload', 'state', 'attempts', 'next_attempt_at', 'cursor', 'last_error', 'created_at', 'updated_at',
] as const;

/** The column lists both stores' SQL names: subscriptions (bare and as `p.` of a join) and the outbox. */
export const SUBSCRIPTION_COLS = PUSH_SUBSCRIPTION_COLUMNS.join(', ');
export const SUBSCRIPTION_COLS_P = PUSH_SUBSCRIPTION_COLUMNS.map((c) => `p.${c}`).join(', ');
export const OUTBOX_COLS = OUTBOX_COLUMNS.join(', ');

export interface PushSubscriptionRow {
  id: string;
  shopper_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: number;
}

export interface OutboxRow {
  id: string;
  kind: string;
  target: string;
  event_type: string;
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  cursor: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  lease_owner?: string | null;
  lease_expires_at?: number | null;
}

/** The most subscriptions one listFollowerPushSubscriptions page returns. */
export const MAX_SUBSCRIPTION_BATCH = 10_000;
/** The most subscriptions listPushSubscriptions returns for one shopper. */
export const MAX_SUBSCRIPTIONS_LISTED = 100;
/** lastError is kept short: it is for people reading the row. */
export const MAX_ERROR_CHARS = 500;

/** The page size listFollowerPushSubscriptions uses. */
export function subscriptionBatch(limit: number): number {
  return Math.min(pageSize(limit), MAX_SUBSCRIPTION_BATCH);
}

export function pushSubscriptionFromRow(r: PushSubscriptionRow): PushSubscriptionRecord {
  return { id: r.id, shopperId: r.shopper_id, endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth, createdAt: r.created_at };
}

export function pushSubscriptionToRow(s: PushSubscriptionRecord): PushSubscriptionRow {
  return { id: s.id, shopper_id: s.shopperId, endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth, created_at: s.createdAt };
}

export function outboxFromRow(r: OutboxRow): OutboxRecord {
  return {
    id: r.id, kind: r.kind as OutboxKind, target: r.target, eventType: r.event_type, payload: r.payload, state: r.state as OutboxState,
    attempts: r.attempts, nextAttemptAt: r.next_attempt_at, cursor: r.cursor, lastError: r.last_error, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export function claimedFromRow(r: OutboxRow): ClaimedOutboxRecord {
  return { ...outboxFromRow(r), leaseOwner: r.lease_owner!, leaseExpiresAt: r.lease_expires_at! };
}

export function outboxToRow(o: OutboxRecord): OutboxRow {
  return {
    id: o.id, kind: o.kind, target: o.target, event_type: o.eventType, payload: o.payload, state: o.state, attempts: o.attempts,
    next_attempt_at: o.nextAttemptAt, cursor: o.cursor, last_error: clipError(o.lastError), created_at: o.createdAt, updated_at: o.updatedAt,
  };
}

/** An error text cut to MAX_ERROR_CHARS. */
export function clipError(e: string | null): string | null {
  return e === null ? null : e.slice(0, MAX_ERROR_CHARS);
}

/** Counts per state, with zeros for states that have no rows. */
export function outboxCountsFrom(rows: Array<{ state: string; n: number }>): Record<OutboxState, number> {
  const out: Record<OutboxState, number> = { pending: 0, done: 0, dead: 0 };
  for (const r of rows) if (r.state in out) out[r.state as OutboxState] = Number(r.n);
  return out;
}
