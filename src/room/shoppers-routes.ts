import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import type { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import type { Authenticator } from '../http/auth.js';
import type { ShopperRecord, Store } from '../store/types.js';
import { validDisplayName } from './display-name.js';

export interface ShoppersRoutesOptions {
  store: Store;
  auth: Authenticator;
  /** Shopper creations per client address (a fixed window, each creation counted). */
  createLimiter: AuthFailureLimiter;
}

const CreateShopperBody = Type.Object({
  // Characters are checked by validDisplayName; the schema only bounds what is read.
  displayName: Type.String({ minLength: 1, maxLength: 128 }),
}, { additionalProperties: false });

function shopperView(s: ShopperRecord): Record<string, unknown> {
  return { id: s.id, displayName: s.displayName, createdAt: new Date(s.createdAt).toISOString() };
}

/** /v1/shoppers: anyone creates a shopper (its token shown once); a shopper reads or deletes itself. */
export async function shoppersRoutes(app: FastifyInstance, o: ShoppersRoutesOptions): Promise<void> {
  const me = async (req: Parameters<Authenticator['resolveWithShopper']>[0]): Promise<ShopperRecord> => {
    const p = await o.auth.resolveWithShopper(req);
    if (p.role === 'anonymous') throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'a shopper token is required');
    if (p.role !== 'shopper') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only a shopper token has a /v1/shoppers/me');
    return p.shopper;
  };

  app.post<{ Body: Static<typeof CreateShopperBody> }>('/v1/shoppers', { schema: { body: CreateShopperBody } }, async (req, reply) => {
    const displayName = validDisplayName(req.body.displayName);
    // Counted before the write, so a refused address writes nothing.
    o.createLimiter.failure(req.ip);
    const token = generateSecret('sh_', 32);
    const s = await o.store.createShopper({ id: `sh_${randomBytes(9).toString('base64url')}`, displayName, tokenHash: hashSecret(token), createdAt: Date.now() });
    reply.header('location', '/v1/shoppers/me');
    return reply.status(201).send({ ...shopperView(s), token });
  });

  app.get('/v1/shoppers/me', async (req) => shopperView(await me(req)));

  app.delete('/v1/shoppers/me', async (req, reply) => {
    const s = await me(req);
    await o.store.deleteShopper(s.id);
    return reply.status(204).send();
  });
}
