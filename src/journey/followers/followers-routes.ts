import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../../core/errors.js';
import type { ShopperRecord } from '../../store/types.js';
import { dependsOn } from '../../http/services.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });
const PageQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

/**
 * Followers: a shopper follows a creator (`PUT /v1/creators/:id/followers/me`, shopper token),
 * unfollows (`DELETE`), asks whether it follows (`GET`), and lists whom they follow (`GET /v1/shoppers/me/following`). A disabled or
 * unknown creator is a 404. GET /v1/creators/:id/public is the public creator view, with followerCount.
 */
async function followers(app: FastifyInstance): Promise<void> {
  const { store, auth } = app;
  const shopper = async (req: FastifyRequest): Promise<ShopperRecord> => {
    const p = await auth.resolveWithShopper(req);
    if (p.role === 'anonymous') throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'a shopper token is required');
    if (p.role !== 'shopper') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only shoppers follow creators');
    return p.shopper;
  };
  const followable = async (id: string): Promise<void> => {
    const c = await store.getCreator(id);
    if (!c || c.disabled) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
  };

  app.put<{ Params: Static<typeof IdParams> }>('/v1/creators/:id/followers/me', { schema: { params: IdParams } }, async (req) => {
    const me = await shopper(req);
    await followable(req.params.id);
    const at = Date.now();
    const added = await store.follow(req.params.id, me.id, at);
    if (added && app.hasDecorator('notify')) await app.notify.followerAdded(req.params.id, me.id, at);
    return { following: true, added, followerCount: await store.followerCount(req.params.id) };
  });

  // Whether this shopper follows the creator (the follow buttons ask when a page opens).
  app.get<{ Params: Static<typeof IdParams> }>('/v1/creators/:id/followers/me', { schema: { params: IdParams } }, async (req) => {
    const me = await shopper(req);
    await followable(req.params.id);
    return { following: await store.isFollowing(req.params.id, me.id), followerCount: await store.followerCount(req.params.id) };
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/v1/creators/:id/followers/me', { schema: { params: IdParams } }, async (req, reply) => {
    const me = await shopper(req);
    await store.unfollow(req.params.id, me.id);
    return reply.status(204).send();
  });

  // The public creator view (GET /v1/creators/:id stays the owner's and the operator's).
  app.get<{ Params: Static<typeof IdParams> }>('/v1/creators/:id/public', { schema: { params: IdParams } }, async (req) => {
    const c = await store.getCreator(req.params.id);
    if (!c || c.disabled) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
    return { id: c.id, handle: c.handle, displayName: c.displayName, followerCount: await store.followerCount(c.id) };
  });

  app.get<{ Querystring: Static<typeof PageQuery> }>('/v1/shoppers/me/following', { schema: { querystring: PageQuery } }, async (req) => {
    const me = await shopper(req);
    const page = await store.listFollowing(me.id, { limit: Number(req.query.limit ?? 20), cursor: req.query.cursor ?? null });
    const items = await Promise.all(page.items.map(async (f) => {
      const c = await store.getCreator(f.creatorId);
      return { creatorId: f.creatorId, handle: c?.handle ?? null, displayName: c?.displayName ?? null, followedAt: new Date(f.createdAt).toISOString() };
    }));
    return { items, nextCursor: page.nextCursor };
  });
}

/** Followers as a plugin over the store and the authenticator. */
export const followersRoutes = fp(followers, {
  name: 'showcase-followers-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('store', 'auth'),
});
