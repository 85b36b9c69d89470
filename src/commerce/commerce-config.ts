import { Type, type Static } from '@sinclair/typebox';

/** The `commerce` config section (issue 13: shoppable streams); schema.ts includes it. */
export const CommerceConfigSchema = Type.Object({
  /** Products a stream's carousel holds at most. */
  maxProductsPerStream: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  /** Bytes a product create or patch body may have (the server-wide http.bodyLimitBytes is larger). */
  productBodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024, default: 16 * 1024 }),
  /**
   * Highlights a stream may start per second (a burst of this many, refilled at this rate); past it
   * POST /highlights answers 429 SHOWCASE_ERR_COMMERCE_HIGHLIGHT_RATE.
   */
  highlightsPerSecond: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  /** Highlights a stream's timeline holds in memory (the oldest ended ones go first; the store keeps all). */
  maxHighlightsPerStream: Type.Integer({ minimum: 10, maximum: 100_000, default: 1000 }),
  /**
   * The shop's webhook secret: POST /v1/conversions accepts a body signed with it (header
   * x-showcase-signature: sha256=<hex HMAC-SHA256 of the raw body>) instead of the operator token.
   * Empty: only the operator token.
   */
  shopSecret: Type.String({ default: '', maxLength: 256 }),
  /**
   * Promo reveals (a shopper copying a code on the watch page) one client address may report per
   * second (a burst of this many, refilled at this rate); past it the beacon answers 429
   * SHOWCASE_ERR_RATE_LIMITED.
   */
  promoRevealsPerSecond: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  /** Query parameter /go appends the creator's tracking tag under. */
  trackingParam: Type.String({ default: 'tag', pattern: '^[A-Za-z0-9_.-]{1,32}$' }),
}, { additionalProperties: false, default: {} });

export type CommerceConfig = Static<typeof CommerceConfigSchema>;
