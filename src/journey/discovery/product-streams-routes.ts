import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { publicProduct } from '../../commerce/product-routes.js';
import { listedStream, placed, replayOf, type DiscoveryContext } from './live-routes.js';
import { orderProductStreams } from './placement.js';

const RefParams = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
const LimitQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^(50|[1-4][0-9]|[1-9])$' })) }, { additionalProperties: false });

/** A product is featured when it is among the first this many of a stream's carousel. */
export const FEATURED_POSITIONS = 10;
/** Candidates read from the store before the level filter (Rising Star rows are dropped after). */
const CANDIDATES = 500;

/**
 * GET /v1/products/:ref/streams (public, for a shop's product page to embed: CORS open): the live
 * and recent (journey.productStreamsRecentDays) streams of Insider and A-List creators whose
 * carousel holds a product with this shop `ref` among its first 10, in placement order (A-List,
 * Insider; live before recent; most watched), each with the product as the stream shows it and,
 * for an ended stream, its replay.
 */
export function productStreamsRoute(app: FastifyInstance, ctx: DiscoveryContext): void {
  const j = app.config.journey;
  app.get<{ Params: Static<typeof RefParams>; Querystring: Static<typeof LimitQuery> }>('/v1/products/:ref/streams',
    { schema: { params: RefParams, querystring: LimitQuery } }, async (req, reply) => {
      const found = await app.store.listStreamsByProductRef(req.params.ref, {
        maxPosition: FEATURED_POSITIONS, endedSince: Date.now() - j.productStreamsRecentDays * 86_400_000, limit: CANDIDATES,
      });
      const productOf = new Map(found.map((f) => [f.stream.id, f.product]));
      const rows = orderProductStreams(await placed(ctx, found.map((f) => f.stream))).slice(0, Number(req.query.limit ?? 20));
      const recordings = await Promise.all(rows.map((r) => (r.stream.state === 'ended' ? app.store.getRecording(r.stream.id) : undefined)));
      const base = ctx.base(req);
      reply.header('cache-control', 'public, max-age=30');
      reply.header('access-control-allow-origin', '*');
      return {
        ref: req.params.ref,
        items: rows.map((r, i) => ({
          ...listedStream(r.stream, base, r.card, r.stream.state === 'live' ? r.viewers : undefined),
          product: publicProduct(productOf.get(r.stream.id)!),
          replay: replayOf(r.stream, recordings[i], base),
        })),
      };
    });
}
