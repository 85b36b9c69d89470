import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Store } from '../store/types.js';
import { promoValid } from './conversion-routes.js';
import type { TokenBuckets } from './token-buckets.js';

/** What the promo reveal beacon needs. */
export interface PromoRevealRoutesOptions {
  store: Store;
  registry: StreamRegistry;
  /** Per client address (commerce.promoRevealsPerSecond). */
  limiter: TokenBuckets;
}

const ID = '^[A-Za-z0-9_-]{1,64}$';
const RevealParams = Type.Object({ id: Type.String({ pattern: ID }), code: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }) }, { additionalProperties: false });
// Unknown query parameters are ignored and a malformed sid is taken as none: a beacon never fails the page.
const RevealQuery = Type.Object({ sid: Type.Optional(Type.String()) });
const SID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * POST /v1/streams/:id/promos/:code/reveals?sid=<viewer session>: the watch page's beacon when a
 * shopper copies a code. Public (no token: viewers have none), limited per client address, and
 * counted only for a code valid now (a liveOnly code only while live). One session's reveals of a
 * code count once: 201 when this one counted, 200 when the session had revealed it already.
 * The session is not checked against the viewer table: in a cluster the beacon may reach a node
 * that did not issue it; the per-address limit is what bounds a made-up one.
 */
export async function promoRevealRoutes(app: FastifyInstance, o: PromoRevealRoutesOptions): Promise<void> {
  app.post<{ Params: Static<typeof RevealParams>; Querystring: Static<typeof RevealQuery> }>('/v1/streams/:id/promos/:code/reveals', { schema: { params: RevealParams, querystring: RevealQuery } }, async (req, reply) => {
    if (!o.limiter.take(req.ip)) throw new ShowcaseError('SHOWCASE_ERR_RATE_LIMITED', 'too many promo reveals from this address; try again in a second', { retryAfterSeconds: 1 });
    const { id, code } = req.params;
    const rec = await o.store.getStream(id);
    if (!rec) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    const live = o.registry.get(rec.id)?.state === 'live';
    const promo = (await o.store.listPromos(rec.id)).find((p) => p.code === code);
    if (!promo || !promoValid(promo, Date.now(), live)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no valid promo with that code on this stream');
    const sid = req.query.sid && SID.test(req.query.sid) ? req.query.sid : null;
    const counted = await o.store.recordPromoReveal({ streamId: rec.id, code, sessionId: sid, at: Date.now() });
    reply.header('cache-control', 'no-store');
    return reply.status(counted ? 201 : 200).send({ code, counted });
  });
}
