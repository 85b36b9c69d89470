import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { owned } from '../http/streams-routes.js';
import type { Authenticator } from '../http/auth.js';
import type { WatchEventFeed } from '../http/watch-event-feed.js';
import type { PromoRecord } from '../store/commerce-types.js';
import type { Store } from '../store/types.js';
import { promoValid, promoView } from './conversion-routes.js';

/**
 * Which promo each live stream has on screen. Keyed by stream id of live streams only (the route
 * checks liveness before setting) and cleared when a stream ends, so it is bounded by live streams.
 */
export class OnScreenPromos {
  readonly #byStream = new Map<string, PromoRecord>();

  /** The promo on screen on the stream, if any. */
  get(streamId: string): PromoRecord | undefined {
    return this.#byStream.get(streamId);
  }

  /** Puts a promo on screen (replacing the previous one). */
  set(p: PromoRecord): void {
    this.#byStream.set(p.streamId, p);
  }

  /** Takes the stream's promo off screen; whether one was there. */
  clear(streamId: string): boolean {
    return this.#byStream.delete(streamId);
  }
}

/** What the on-screen promo routes need. */
export interface PromoScreenRoutesOptions {
  store: Store;
  auth: Authenticator;
  registry: StreamRegistry;
  screen: OnScreenPromos;
  feed?: WatchEventFeed;
}

const ID = '^[A-Za-z0-9_-]{1,64}$';
const StreamParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const OnScreenBody = Type.Object({ code: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }) }, { additionalProperties: false });

/**
 * PUT/DELETE /v1/streams/:id/promos/on-screen: the creator (or the operator) shows one promo code
 * on open watch pages while live; the pages hear it as a `promo` event.
 */
export async function promoScreenRoutes(app: FastifyInstance, o: PromoScreenRoutesOptions): Promise<void> {
  app.put<{ Params: Static<typeof StreamParams>; Body: Static<typeof OnScreenBody> }>('/v1/streams/:id/promos/on-screen', { schema: { params: StreamParams, body: OnScreenBody } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const live = o.registry.get(rec.id)?.state === 'live';
    if (!live) throw new ShowcaseError('SHOWCASE_ERR_COMMERCE_NOT_LIVE', 'a promo goes on screen while the stream is live');
    const promo = (await o.store.listPromos(rec.id)).find((x) => x.code === req.body.code && promoValid(x, Date.now(), true));
    if (!promo) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no valid promo with that code on this stream');
    // The stream may have ended during the lookup: nothing goes on screen after the end.
    if (o.registry.get(rec.id)?.state !== 'live') throw new ShowcaseError('SHOWCASE_ERR_COMMERCE_NOT_LIVE', 'a promo goes on screen while the stream is live');
    o.screen.set(promo);
    o.feed?.publish(rec.id, { type: 'promo', promo: promoView(promo) });
    return promoView(promo);
  });

  app.delete<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/promos/on-screen', { schema: { params: StreamParams } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    if (o.screen.clear(rec.id)) o.feed?.publish(rec.id, { type: 'promo', promo: null });
    return reply.status(204).send();
  });
}
