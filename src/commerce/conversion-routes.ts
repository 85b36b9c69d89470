import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { secretsEqual } from '../core/secrets.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { owned } from '../http/streams-routes.js';
import type { Authenticator } from '../http/auth.js';
import type { WatchEventFeed } from '../http/watch-event-feed.js';
import type { ConversionRecord, PromoRecord } from '../store/commerce-types.js';
import type { Store } from '../store/types.js';
import { AMOUNT_PATTERN, fromUnits, toUnits } from './money.js';

/** What the conversion and promo routes need. */
export interface ConversionRoutesOptions {
  store: Store;
  auth: Authenticator;
  registry: StreamRegistry;
  /** commerce.shopSecret ('' = operator token only). */
  shopSecret: string;
  /** Watch pages hear each new sale as per-product 'sold' counts. */
  feed?: WatchEventFeed;
  /** The promo each live stream has on screen (GET .../promos tells which). */
  onScreen?: (streamId: string) => PromoRecord | undefined;
  /** Hears each new conversion (not a repeat of an orderId). */
  onConversion?: (c: ConversionRecord) => Promise<void> | void;
}

const ID = '^[A-Za-z0-9_-]{1,64}$';
const ConversionBody = Type.Object({
  orderId: Type.String({ pattern: '^[A-Za-z0-9_.:#-]{1,128}$' }),
  streamId: Type.String({ pattern: ID }),
  productId: Type.Optional(Type.String({ pattern: ID })),
  promoCode: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' })),
  amount: Type.String({ pattern: AMOUNT_PATTERN }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  occurredAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
}, { additionalProperties: false });
const StreamParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const PromoBody = Type.Object({
  code: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }),
  description: Type.String({ minLength: 1, maxLength: 200 }),
  liveOnly: Type.Optional(Type.Boolean()),
  startsAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  endsAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
}, { additionalProperties: false });
/** A webhook body is small; a larger one is refused before it is read. */
const CONVERSION_BODY_LIMIT = 4096;
const MAX_PROMOS_PER_STREAM = 100;

/** A conversion as the API answers it. */
export function conversionView(c: ConversionRecord): Record<string, unknown> {
  return {
    orderId: c.orderId, streamId: c.streamId, creatorId: c.creatorId, productId: c.productId, promoCode: c.promoCode,
    amount: fromUnits(c.amountUnits), currency: c.currency, occurredAt: new Date(c.occurredAt).toISOString(), receivedAt: new Date(c.receivedAt).toISOString(),
  };
}

/** A promo as the API answers it. */
export function promoView(p: PromoRecord): Record<string, unknown> {
  return { id: p.id, code: p.code, description: p.description, liveOnly: p.liveOnly, startsAt: iso(p.startsAt), endsAt: iso(p.endsAt) };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Units sold during the stream per product id. */
export async function soldCounts(store: Store, streamId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await store.conversionCounts(streamId)) if (c.productId) out[c.productId] = (out[c.productId] ?? 0) + c.purchases;
  return out;
}

/** The stream's promos valid now, as the API and the `promos` event give them. */
export async function validPromos(store: Store, streamId: string, live: boolean): Promise<Array<Record<string, unknown>>> {
  const now = Date.now();
  return (await store.listPromos(streamId)).filter((p) => promoValid(p, now, live)).map(promoView);
}

/** Whether a promo is valid now: inside its dates and, if liveOnly, while the stream is live. */
export function promoValid(p: PromoRecord, now: number, live: boolean): boolean {
  return (p.startsAt === null || p.startsAt <= now) && (p.endsAt === null || now < p.endsAt) && (!p.liveOnly || live);
}

/**
 * POST /v1/conversions (the shop reports a sale; idempotent on orderId) and the promo codes of a
 * stream. Conversions take the raw body, so a shop's webhook signature is checked over the exact
 * bytes it signed.
 */
export async function conversionRoutes(app: FastifyInstance, o: ConversionRoutesOptions): Promise<void> {
  // This plugin's own JSON parser keeps the raw text for the signature (encapsulated: the other routes keep fastify's).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    (req as FastifyRequest & { rawBody?: string }).rawBody = body as string;
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'body is not JSON'), undefined);
    }
  });

  /** The operator token, or a valid shop signature over the raw body; 401 otherwise. */
  const authorize = async (req: FastifyRequest): Promise<void> => {
    const sig = req.headers['x-showcase-signature'];
    if (typeof sig === 'string' && o.shopSecret) {
      const raw = (req as FastifyRequest & { rawBody?: string }).rawBody ?? '';
      const want = `sha256=${createHmac('sha256', o.shopSecret).update(raw).digest('hex')}`;
      if (secretsEqual(sig, want)) return;
      o.auth.limiter.failure(req.ip);
      throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'bad signature');
    }
    const p = await o.auth.requireAuthenticated(req);
    if (p.role !== 'operator') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'conversions come from the shop (a signed webhook) or the operator');
  };

  app.post<{ Body: Static<typeof ConversionBody> }>('/v1/conversions', { bodyLimit: CONVERSION_BODY_LIMIT, schema: { body: ConversionBody } }, async (req, reply) => {
    await authorize(req);
    const b = req.body;
    const stream = await o.store.getStream(b.streamId);
    if (!stream) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    const now = Date.now();
    const occurredAt = b.occurredAt ? Date.parse(b.occurredAt) : now;
    const r = await o.store.recordConversion({
      orderId: b.orderId, streamId: stream.id, creatorId: stream.ownerId, productId: b.productId ?? null, promoCode: b.promoCode ?? null,
      amountUnits: toUnits(b.amount), currency: b.currency, occurredAt, receivedAt: now,
    });
    if (r.created) await o.onConversion?.(r.rec);
    // A creator who turned the counts off (GET/PATCH .../commerce) sends pages none.
    if (r.created && r.rec.productId && o.feed && (await o.store.getStreamCommerce(stream.id)).showSoldCounts) {
      o.feed.publish(stream.id, { type: 'sold', counts: await soldCounts(o.store, stream.id) });
    }
    return reply.status(r.created ? 201 : 200).send(conversionView(r.rec));
  });

  app.post<{ Params: Static<typeof StreamParams>; Body: Static<typeof PromoBody> }>('/v1/streams/:id/promos', { schema: { params: StreamParams, body: PromoBody } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const b = req.body;
    const startsAt = b.startsAt ? Date.parse(b.startsAt) : null;
    const endsAt = b.endsAt ? Date.parse(b.endsAt) : null;
    if (startsAt !== null && endsAt !== null && endsAt <= startsAt) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'endsAt must be after startsAt', { fields: [{ field: '/endsAt', message: 'before startsAt' }] });
    if ((await o.store.listPromos(rec.id)).length >= MAX_PROMOS_PER_STREAM) throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', `a stream holds at most ${MAX_PROMOS_PER_STREAM} promo codes`);
    const promo = await o.store.createPromo({
      id: `pm_${randomBytes(9).toString('base64url')}`, streamId: rec.id, code: b.code, description: b.description, liveOnly: b.liveOnly ?? false,
      startsAt, endsAt, createdAt: Date.now(),
    });
    if (o.feed) o.feed.publish(rec.id, { type: 'promos', items: await validPromos(o.store, rec.id, o.registry.get(rec.id)?.state === 'live') });
    return reply.status(201).send(promoView(promo));
  });

  app.get<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/promos', { schema: { params: StreamParams } }, async (req) => {
    await o.auth.resolve(req);
    const rec = await o.store.getStream(req.params.id);
    if (!rec) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    const live = o.registry.get(rec.id)?.state === 'live';
    const shown = live ? o.onScreen?.(rec.id) : undefined;
    return { items: await validPromos(o.store, rec.id, live), onScreen: shown ? shown.code : null };
  });
}
