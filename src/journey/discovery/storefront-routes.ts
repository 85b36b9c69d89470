import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../../core/errors.js';
import { listedStream, placed, replayOf, type DiscoveryContext } from './live-routes.js';
import { orderUpcoming } from './placement.js';

const HandleParams = Type.Object({ handle: Type.String({ pattern: '^[a-z0-9_]{3,32}$' }) }, { additionalProperties: false });
const PageQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^(50|[1-4][0-9]|[1-9])$' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

/** Past streams per storefront page when the query does not say. */
export const STOREFRONT_PAGE = 12;

/**
 * GET /v1/creators/:handle/storefront (public): the creator's card (level, followerCount), the
 * streams live now, the upcoming ones (soonest first) and the past ones with their replays, newest
 * first, paged with `?limit=` (1 to 50) and `?cursor=` (the previous page's `past.nextCursor`).
 * Practice streams are never shown; an unknown or disabled creator is a 404.
 */
export function storefrontRoute(app: FastifyInstance, ctx: DiscoveryContext): void {
  const j = app.config.journey;
  app.get<{ Params: Static<typeof HandleParams>; Querystring: Static<typeof PageQuery> }>('/v1/creators/:handle/storefront',
    { schema: { params: HandleParams, querystring: PageQuery } }, async (req, reply) => {
      const card = await ctx.directory.cardByHandle(req.params.handle);
      if (!card) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that handle');
      const base = ctx.base(req);
      const [now, past, followerCount] = await Promise.all([
        app.store.listCreatorDiscoverable(card.id, { scheduledSince: Date.now() - j.upcomingGraceMs, limit: j.liveListLimit }),
        app.store.listCreatorPast(card.id, { limit: Number(req.query.limit ?? STOREFRONT_PAGE), cursor: req.query.cursor ?? null }),
        // Read fresh: a shopper who just followed sees their follow counted.
        app.store.followerCount(card.id),
      ]);
      const recordings = await Promise.all(past.items.map((s) => app.store.getRecording(s.id)));
      const live = await placed(ctx, now.live);
      reply.header('cache-control', 'public, max-age=5');
      return {
        creator: { id: card.id, handle: card.handle, displayName: card.displayName, level: card.level, followerCount, storefront: `${base}/c/${card.handle}` },
        live: live.sort((a, b) => b.viewers - a.viewers).map((r) => listedStream(r.stream, base, card, r.viewers)),
        upcoming: orderUpcoming(await placed(ctx, now.upcoming)).map((r) => listedStream(r.stream, base, card)),
        past: {
          items: past.items.map((s, i) => ({ ...listedStream(s, base, card), replay: replayOf(s, recordings[i], base) })),
          nextCursor: past.nextCursor,
        },
      };
    });
}
