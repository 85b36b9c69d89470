import { Type } from '@sinclair/typebox';

/** Event types a webhook endpoint may subscribe to (issue 15). */
export const WEBHOOK_EVENTS = ['stream.live', 'stream.ended', 'recording.ready', 'conversion.created', 'follower.added'] as const;

const EndpointSchema = Type.Object({
  /** Where deliveries are POSTed (http or https). */
  url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
  /** The Standard Webhooks signing secret, `whsec_<base64>`. */
  secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', maxLength: 200 }),
  /** The event types sent to it; all of them when absent. */
  events: Type.Optional(Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { maxItems: WEBHOOK_EVENTS.length })),
}, { additionalProperties: false });

/** Webhook delivery settings (`webhooks.*`): endpoints, concurrency, timeouts, outbox bounds. */
export const WebhooksConfigSchema = Type.Object({
  /** The operator's endpoints; none means events are not written to the outbox at all. */
  endpoints: Type.Array(EndpointSchema, { maxItems: 32, default: [] }),
  /** Deliveries in flight at once, per node. */
  concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
  /** One delivery attempt's timeout. */
  timeoutMs: Type.Integer({ minimum: 500, maximum: 60_000, default: 10_000 }),
  /** How long a claimed row stays leased to this node before another may take it over. */
  leaseMs: Type.Integer({ minimum: 5_000, maximum: 600_000, default: 60_000 }),
  /** First retry delay; doubles per attempt (with jitter) up to retryMaxDelayMs, for 24 h from creation. */
  retryBaseMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
  /** The longest wait between two attempts (so a long outage is still retried a few times an hour). */
  retryMaxDelayMs: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 3_600_000 }),
  /** How often the delivery worker looks for due rows when nothing woke it (a retry coming due, another node's event). */
  pollMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 1_000 }),
  /** Delivered and dead rows are deleted this long after their last update. */
  keepDoneMs: Type.Integer({ minimum: 60_000, maximum: 90 * 86_400_000, default: 7 * 86_400_000 }),
}, { additionalProperties: false, default: {} });

/** Web Push settings (`push.*`): the go-live notification to followers' browsers. */
export const PushConfigSchema = Type.Object({
  /** The VAPID `sub` claim (RFC 8292): a mailto: or https: contact for push services. */
  vapidSubject: Type.String({ pattern: '^(mailto:|https://)', maxLength: 200, default: 'mailto:push@showcase.invalid' }),
  /** Subscriptions one shopper may hold (browsers and devices); the oldest is not replaced: a new one is refused. */
  maxSubscriptionsPerShopper: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /** Push requests in flight at once per node during a fan-out. */
  concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
  /** Followers' subscriptions read from the store per page of a fan-out (what it holds in memory). */
  batchSize: Type.Integer({ minimum: 10, maximum: 10_000, default: 500 }),
  /** One push request's timeout. */
  timeoutMs: Type.Integer({ minimum: 500, maximum: 60_000, default: 10_000 }),
  /** How long the push service keeps a message for an offline browser (the TTL header, seconds). */
  ttlSeconds: Type.Integer({ minimum: 0, maximum: 2_419_200, default: 3_600 }),
  /**
   * Accept http:// endpoints and loopback or private addresses (tests, a local push service). Off:
   * only https:// endpoints on public hosts, so a shopper cannot make the server call into its own network.
   */
  allowLocalEndpoints: Type.Boolean({ default: false }),
}, { additionalProperties: false, default: {} });
