import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import type { Authenticator } from '../http/auth.js';
import type { Store } from '../store/types.js';
import type { RoomConfig } from './room-config.js';
import { shoppersRoutes } from './shoppers-routes.js';

export interface RoomPluginOptions {
  store: Store;
  auth: Authenticator;
  config: Readonly<RoomConfig>;
}

/** The room's routes: shoppers, the room socket's HTTP side and moderation. */
async function room(app: FastifyInstance, o: RoomPluginOptions): Promise<void> {
  await app.register(shoppersRoutes, {
    store: o.store,
    auth: o.auth,
    createLimiter: new AuthFailureLimiter(o.config.shopperCreatesPerMinute, 60_000),
  });
}

/** The room's one fastify plugin (app.ts registers it in one line). */
export const roomPlugin = fp(room, { name: 'showcase-room', fastify: '5.x' });
