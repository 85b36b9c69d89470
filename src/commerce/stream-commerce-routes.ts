import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { owned } from '../http/streams-routes.js';
import type { Authenticator } from '../http/auth.js';
import type { WatchEventFeed } from '../http/watch-event-feed.js';
import type { Store } from '../store/types.js';
import { soldCounts } from './conversion-routes.js';

/** What the per-stream commerce settings routes need. */
export interface StreamCommerceRoutesOptions {
  store: Store;
  auth: Authenticator;
  feed?: WatchEventFeed;
}

const ID = '^[A-Za-z0-9_-]{1,64}$';
const StreamParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const PatchBody = Type.Object({ showSoldCounts: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 });

/**
 * GET/PATCH /v1/streams/:id/commerce: the stream's commerce settings, for its creator or the
 * operator. `showSoldCounts: false` hides "N sold" from viewers: the products API's viewer view and
 * the `sold` events carry no counts, and open pages clear theirs at once (an empty `sold` event);
 * turning it back on sends the counts so far.
 */
export async function streamCommerceRoutes(app: FastifyInstance, o: StreamCommerceRoutesOptions): Promise<void> {
  app.get<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/commerce', { schema: { params: StreamParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    return o.store.getStreamCommerce(rec.id);
  });

  app.patch<{ Params: Static<typeof StreamParams>; Body: Static<typeof PatchBody> }>('/v1/streams/:id/commerce', { bodyLimit: 1024, schema: { params: StreamParams, body: PatchBody } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const before = await o.store.getStreamCommerce(rec.id);
    const after = await o.store.updateStreamCommerce(rec.id, req.body);
    if (!after) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    if (o.feed && before.showSoldCounts !== after.showSoldCounts) {
      o.feed.publish(rec.id, { type: 'sold', counts: after.showSoldCounts ? await soldCounts(o.store, rec.id) : {} });
    }
    return after;
  });
}
