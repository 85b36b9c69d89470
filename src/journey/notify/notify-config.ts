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
  /** First retry delay; doubles per attempt (with jitter) up to an hour, for 24 h from creation. */
  retryBaseMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
}, { additionalProperties: false, default: {} });
