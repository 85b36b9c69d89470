import fp from 'fastify-plugin';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../../core/errors.js';
import type { PushSubscriptionRecord } from '../../store/notify-types.js';
import type { ShopperRecord } from '../../store/types.js';
import { dependsOn } from '../../http/services.js';
import { defaultWebAssetsDir } from '../../http/watch-routes.js';
import { subscriptionProblem } from './push-subscription-policy.js';

const B64URL = '^[A-Za-z0-9_-]+={0,2}$';
const SubscriptionBody = Type.Object({
  endpoint: Type.String({ minLength: 8, maxLength: 2048 }),
  expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Number()])),
  keys: Type.Object({
    p256dh: Type.String({ pattern: B64URL, maxLength: 100 }),
    auth: Type.String({ pattern: B64URL, maxLength: 40 }),
  }, { additionalProperties: false }),
}, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ pattern: '^ps_[A-Za-z0-9_-]{1,40}$' }) }, { additionalProperties: false });

const view = (s: PushSubscriptionRecord) => ({ id: s.id, endpoint: s.endpoint, createdAt: new Date(s.createdAt).toISOString() });

/**
 * Web Push (issue 15): `GET /v1/push/vapid-public-key` hands the node's VAPID public key to the
 * watch page (PushManager.subscribe's applicationServerKey); a shopper registers the browser's
 * PushSubscription with `POST /v1/shoppers/me/push-subscriptions` (validated, at most
 * push.maxSubscriptionsPerShopper each), lists them with GET and removes one with DELETE .../:id.
 * Go-live messages to followers are sent from the outbox (notify-service.ts).
 */
async function push(app: FastifyInstance): Promise<void> {
  const { store, auth, config, notify } = app;
  const shopper = async (req: FastifyRequest): Promise<ShopperRecord> => {
    const p = await auth.resolveWithShopper(req);
    if (p.role === 'anonymous') throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'a shopper token is required');
    if (p.role !== 'shopper') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'push subscriptions belong to shoppers');
    return p.shopper;
  };

  app.get('/v1/push/vapid-public-key', async () => ({ publicKey: notify.vapidPublicKey }));

  // The site's service worker (built by scripts/build-web.mjs from src/web/push/sw.ts), at the root
  // so its scope is every page; never cached long, so a new build's worker replaces the old one.
  const swFile = join(defaultWebAssetsDir(), 'sw.js');
  app.get('/sw.js', async (_req, reply) => {
    let body: string;
    try {
      body = await readFile(swFile, 'utf8');
    } catch {
      throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'the web assets are not built (npm run build)');
    }
    return reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
  });

  app.post<{ Body: Static<typeof SubscriptionBody> }>('/v1/shoppers/me/push-subscriptions', { bodyLimit: 4096, schema: { body: SubscriptionBody } }, async (req, reply) => {
    const me = await shopper(req);
    const b = req.body;
    const problem = subscriptionProblem(b, config.push.allowLocalEndpoints);
    if (problem) throw new ShowcaseError('SHOWCASE_ERR_PUSH_SUBSCRIPTION_INVALID', `push subscription refused: ${problem.field.slice(1)} ${problem.message}`, { fields: [problem] });
    const mine = await store.listPushSubscriptions(me.id);
    const existing = mine.find((s) => s.endpoint === b.endpoint);
    if (!existing && mine.length >= config.push.maxSubscriptionsPerShopper) {
      throw new ShowcaseError('SHOWCASE_ERR_PUSH_SUBSCRIPTION_LIMIT', `a shopper holds at most ${config.push.maxSubscriptionsPerShopper} push subscriptions: delete one first`);
    }
    const r = await store.putPushSubscription({
      id: `ps_${randomBytes(12).toString('base64url')}`, shopperId: me.id, endpoint: b.endpoint, p256dh: b.keys.p256dh, auth: b.keys.auth, createdAt: Date.now(),
    });
    return reply.status(existing ? 200 : 201).send(view(r.rec));
  });

  app.get('/v1/shoppers/me/push-subscriptions', async (req) => {
    const me = await shopper(req);
    return { items: (await store.listPushSubscriptions(me.id)).map(view) };
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/v1/shoppers/me/push-subscriptions/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const me = await shopper(req);
    if (!(await store.deletePushSubscription(req.params.id, me.id))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such push subscription of yours');
    return reply.status(204).send();
  });
}

/** The Web Push routes, as one plugin. */
export const pushRoutes = fp(push, {
  name: 'showcase-push-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store', 'auth', 'notify'),
});
