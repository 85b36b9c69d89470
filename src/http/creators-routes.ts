import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import type { CreatorRecord, Store } from '../store/types.js';
import type { Principal } from './auth.js';
import { endCreatorStreams } from '../core/creator-policy.js';
import type { Logger } from '../core/logger.js';
import { dependsOn } from './services.js';

const CreateCreatorBody = Type.Object({
  handle: Type.String({ pattern: '^[a-z0-9_]{3,32}$' }),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
}, { additionalProperties: false });

const PatchCreatorBody = Type.Object({
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  disabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 });

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });

function creatorView(c: CreatorRecord): Record<string, unknown> {
  return { id: c.id, handle: c.handle, displayName: c.displayName, disabled: c.disabled, createdAt: new Date(c.createdAt).toISOString() };
}

/** The creator the caller may manage (operator: any; a creator: itself), else 404 so ids cannot be probed. */
async function manageable(store: Store, p: Exclude<Principal, { role: 'anonymous' }>, id: string): Promise<CreatorRecord> {
  const c = await store.getCreator(id);
  if (!c || (p.role === 'creator' && p.creator.id !== id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
  return c;
}

/** /v1/creators: the operator creates and disables creators; creators rotate their own token. */
async function creators(app: FastifyInstance): Promise<void> {
  const o = { store: app.store, auth: app.auth };
  app.post<{ Body: Static<typeof CreateCreatorBody> }>('/v1/creators', { schema: { body: CreateCreatorBody } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    if (p.role !== 'operator') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only the operator creates creators');
    if (await o.store.getCreatorByHandle(req.body.handle)) throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', 'that handle is taken', { fields: [{ field: '/handle', message: 'taken' }] });
    const token = generateSecret('ct_', 32);
    const c = await o.store.createCreator({
      id: `cr_${randomBytes(9).toString('base64url')}`,
      handle: req.body.handle,
      displayName: req.body.displayName,
      tokenHash: hashSecret(token),
      disabled: false,
      createdAt: Date.now(),
    });
    reply.header('location', `/v1/creators/${c.id}`);
    return reply.status(201).send({ ...creatorView(c), token });
  });

  app.get<{ Params: Static<typeof IdParams> }>('/v1/creators/:id', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    return creatorView(await manageable(o.store, p, req.params.id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchCreatorBody> }>('/v1/creators/:id', { schema: { params: IdParams, body: PatchCreatorBody } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const c = await manageable(o.store, p, req.params.id);
    if (req.body.disabled !== undefined && p.role !== 'operator') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only the operator disables creators');
    const updated = (await o.store.updateCreator(c.id, req.body))!;
    // Disabling a creator ends their streams (off the request: the answer does not wait for it).
    if (req.body.disabled === true && !c.disabled) void endCreatorStreams(c.id, app.registry, o.store, app.log as unknown as Logger);
    return creatorView(updated);
  });

  app.post<{ Params: Static<typeof IdParams> }>('/v1/creators/:id/token', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const c = await manageable(o.store, p, req.params.id);
    const token = generateSecret('ct_', 32);
    await o.store.updateCreator(c.id, { tokenHash: hashSecret(token) });
    return { ...creatorView(c), token };
  });
}

/** /v1/creators as a plugin: needs the store, the authenticator and the registry (the disable cascade). */
export const creatorsRoutes = fp(creators, {
  name: 'showcase-creators-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('store', 'auth', 'registry'),
});
