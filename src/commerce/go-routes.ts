import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { KeyedQueue } from '../core/keyed-queue.js';
import type { Logger } from '../core/logger.js';
import type { Authenticator } from '../http/auth.js';
import type { Store } from '../store/types.js';

/** What the click-through and tracking-tag routes need. */
export interface GoRoutesOptions {
  store: Store;
  auth: Authenticator;
  /** Query parameter the creator's tracking tag goes under (commerce.trackingParam). */
  trackingParam: string;
  /** Click writes queue here (never awaited by the redirect). */
  writes: KeyedQueue;
  logger: Logger;
}

const ID = '^[A-Za-z0-9_-]{1,64}$';
const GoParams = Type.Object({ streamId: Type.String({ pattern: ID }), productId: Type.String({ pattern: ID }) }, { additionalProperties: false });
// Unknown query parameters are ignored, not refused: a shopper's link must always work.
const GoQuery = Type.Object({ sid: Type.Optional(Type.String()), t: Type.Optional(Type.String()) });
const CreatorParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const TagBody = Type.Object({ trackingTag: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.Null()]) }, { additionalProperties: false });
const SID = /^[A-Za-z0-9_-]{1,64}$/;
const SECONDS = /^\d{1,7}(\.\d{1,3})?$/;
/** Click writes waiting at once; past it clicks are dropped (and logged) rather than queued without end. */
const MAX_PENDING_CLICKS = 10_000;

/** The shop URL with the creator's tag set under param (replacing one the shop URL may carry). */
export function trackedUrl(url: string, param: string, tag: string | null): string {
  if (!tag) return url;
  const u = new URL(url);
  u.searchParams.set(param, tag);
  return u.toString();
}

/**
 * GET /go/:streamId/:productId: the Buy button. Counts the click (product, the viewer session the
 * page carries as ?sid=, the player's media time as ?t=) and answers 302 to the product's stored
 * URL with the creator's tracking tag: the target is never taken from the request, so this is no
 * open redirect. Also the creator's tag: GET/PUT /v1/creators/:id/tracking-tag.
 */
export async function goRoutes(app: FastifyInstance, o: GoRoutesOptions): Promise<void> {
  let pending = 0;
  let dropped = 0;

  app.get<{ Params: Static<typeof GoParams>; Querystring: Static<typeof GoQuery> }>('/go/:streamId/:productId', { schema: { params: GoParams, querystring: GoQuery } }, async (req, reply) => {
    const { streamId, productId } = req.params;
    const [stream, product] = await Promise.all([o.store.getStream(streamId), o.store.getProduct(streamId, productId)]);
    if (!stream || !product) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such product on this stream');
    const tag = stream.ownerId ? await o.store.getTrackingTag(stream.ownerId) : null;
    const sid = req.query.sid && SID.test(req.query.sid) ? req.query.sid : null;
    const t = req.query.t && SECONDS.test(req.query.t) ? Number(req.query.t) : null;
    if (pending >= MAX_PENDING_CLICKS) {
      if (dropped++ % 1000 === 0) o.logger.warn({ dropped }, 'click writes backed up: clicks dropped');
    } else {
      pending++;
      void o.writes.run(streamId, () => o.store.recordClick({ streamId, productId, sessionId: sid, mediaTime: t, at: Date.now() }))
        .catch((err: unknown) => o.logger.error({ err, streamId }, 'storing a click failed'))
        .finally(() => pending--);
    }
    reply.header('cache-control', 'no-store');
    reply.header('referrer-policy', 'no-referrer-when-downgrade');
    return reply.redirect(trackedUrl(product.url, o.trackingParam, tag), 302);
  });

  const manageable = async (req: Parameters<Authenticator['requireAuthenticated']>[0], id: string): Promise<void> => {
    const p = await o.auth.requireAuthenticated(req);
    const c = await o.store.getCreator(id);
    if (!c || (p.role === 'creator' && p.creator.id !== id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
  };

  app.get<{ Params: Static<typeof CreatorParams> }>('/v1/creators/:id/tracking-tag', { schema: { params: CreatorParams } }, async (req) => {
    await manageable(req, req.params.id);
    return { trackingTag: await o.store.getTrackingTag(req.params.id) };
  });

  app.put<{ Params: Static<typeof CreatorParams>; Body: Static<typeof TagBody> }>('/v1/creators/:id/tracking-tag', { schema: { params: CreatorParams, body: TagBody } }, async (req) => {
    await manageable(req, req.params.id);
    await o.store.setTrackingTag(req.params.id, req.body.trackingTag);
    return { trackingTag: req.body.trackingTag };
  });
}
