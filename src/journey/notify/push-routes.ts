import fp from 'fastify-plugin';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { dependsOn } from '../../http/services.js';
import { loadOrCreateVapidKeys } from './vapid-keys.js';

/**
 * Web Push (issue 15), the part built so far: the node's VAPID key pair is made on first start and
 * kept in the data dir, and `GET /v1/push/vapid-public-key` hands the public half to the watch page
 * (PushManager.subscribe's applicationServerKey). Subscriptions and the fan-out are not built yet.
 */
async function push(app: FastifyInstance): Promise<void> {
  // Read once at start: a subscription is bound to this key, so it never changes while running.
  const { publicKey } = loadOrCreateVapidKeys(resolve(app.config.dataDir));
  app.get('/v1/push/vapid-public-key', async () => ({ publicKey }));
}

/** The Web Push routes, as one plugin. */
export const pushRoutes = fp(push, {
  name: 'showcase-push-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config'),
});
