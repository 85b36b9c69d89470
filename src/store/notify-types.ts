/**
 * Notification persistence (issue 15): shoppers' Web Push subscriptions and the durable outbox
 * that webhook deliveries and go-live push fan-outs are sent from. Kept apart from types.ts so the
 * notifications read as one piece; Store extends NotifyStore.
 */

/** A browser's PushSubscription (table `push_subscriptions`), owned by one shopper. */
export interface PushSubscriptionRecord {
  id: string;
  shopperId: string;
  /** The push service's URL for this browser (unique: one browser subscription, one row). */
  endpoint: string;
  /** The browser's P-256 public key (uncompressed point, base64url): messages are encrypted to it (RFC 8291). */
  p256dh: string;
  /** The 16-byte authentication secret (base64url). */
  auth: string;
  createdAt: number;
}

/**
 * What an outbox row stands for: one webhook message to one endpoint, one go-live fan-out job that
 * pages through a creator's followers' subscriptions, or one push message being retried.
 */
export type OutboxKind = 'webhook' | 'push-fanout' | 'push';

/** An outbox row's lifecycle: pending (due at nextAttemptAt, maybe leased), done, or dead (gave up). */
export type OutboxState = 'pending' | 'done' | 'dead';

/** One outbox row (table `outbox`). */
export interface OutboxRecord {
  /** Unique; for a webhook it is the `webhook-id`, the same on every attempt. */
  id: string;
  kind: OutboxKind;
  /** webhook: the endpoint URL; push-fanout: the creator id; push: the subscription id. */
  target: string;
  /** The event type (stream.live, stream.ended, ...). */
  eventType: string;
  /** The JSON text sent (a webhook's exact body, a push message) or the job's data (a fan-out). */
  payload: string;
  state: OutboxState;
  /** Failed attempts so far. */
  attempts: number;
  /** When it is due (ms). */
  nextAttemptAt: number;
  /** A fan-out's progress: an opaque position in the followers' subscriptions; null at the start. */
  cursor: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A claimed row: the lease this node holds on it until leaseExpiresAt. */
export interface ClaimedOutboxRecord extends OutboxRecord {
  leaseOwner: string;
  leaseExpiresAt: number;
}

/** How an attempt ended: delivered (done), given up (dead) or to be retried at nextAttemptAt (pending). */
export interface OutboxOutcome {
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

/** Push subscriptions and the outbox. */
export interface NotifyStore {
  /**
   * Adds a subscription, or updates the row with the same endpoint (a browser re-subscribing, or
   * another shopper signing in on it: the row moves to them). VALIDATION for an unknown shopper.
   */
  putPushSubscription(rec: PushSubscriptionRecord): Promise<{ created: boolean; rec: PushSubscriptionRecord }>;
  getPushSubscription(id: string): Promise<PushSubscriptionRecord | undefined>;
  /** A shopper's subscriptions, oldest first (at most 100). */
  listPushSubscriptions(shopperId: string): Promise<PushSubscriptionRecord[]>;
  /** Deletes one; when shopperId is given only if it is theirs. False when nothing was deleted. */
  deletePushSubscription(id: string, shopperId?: string): Promise<boolean>;
  /**
   * The subscriptions of a creator's followers in (shopperId, id) order after `after` (exclusive),
   * at most `limit` (capped at 10,000): a go-live fan-out reads them a page at a time.
   */
  listFollowerPushSubscriptions(creatorId: string, o: { after?: { shopperId: string; id: string } | null; limit: number }): Promise<PushSubscriptionRecord[]>;
  /** Writes rows; a row whose id exists already is left as it is (so an event is written once). Returns how many were new. */
  enqueueOutbox(rows: readonly OutboxRecord[]): Promise<number>;
  /**
   * Leases up to `limit` due rows (pending, nextAttemptAt <= now, no unexpired lease) to `owner`
   * until `leaseUntil`, soonest due first; one atomic step, so two nodes never hold the same row.
   */
  claimOutbox(o: { owner: string; now: number; leaseUntil: number; limit: number }): Promise<ClaimedOutboxRecord[]>;
  /** Records an attempt's outcome and drops the lease; false (nothing written) when `owner` no longer holds it. */
  settleOutbox(id: string, owner: string, outcome: OutboxOutcome, now: number): Promise<boolean>;
  /** A fan-out's progress: saves its cursor and extends the lease; false when `owner` no longer holds it. */
  progressOutbox(id: string, owner: string, o: { cursor: string; leaseUntil: number }, now: number): Promise<boolean>;
  /** Drops every lease `owner` holds (a restarted node takes its rows back at once). Returns how many. */
  releaseOutboxLeases(owner: string): Promise<number>;
  getOutbox(id: string): Promise<OutboxRecord | undefined>;
  /** Rows per state. */
  outboxCounts(): Promise<Record<OutboxState, number>>;
  /** Deletes done and dead rows last updated before `before`; returns how many. */
  pruneOutbox(before: number): Promise<number>;
}
