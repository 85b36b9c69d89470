import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../../core/errors.js';
import { LinkSigner, loadLinkSecret } from '../../recorder/signed-links.js';
import type { UpgradeRouter } from '../../http/upgrade-router.js';
import { ROOM_PATH } from '../../room/room-server.js';
import { owned } from '../../http/streams-routes.js';
import { dependsOn, provide } from '../../http/services.js';
import { PracticeGate } from './practice-gate.js';

const ID = '([A-Za-z0-9_-]{1,64})';

/**
 * Every public surface of a stream, by method and path (the stream id is the first group). A
 * practice stream is hidden on each unless the request carries its preview signature or comes
 * from its owner or the operator. WebRTC viewers (WHEP, the signaling's viewer join) are refused by
 * the playback itself (LiveStream.practice); the room socket by the upgrade gate below.
 */
const PUBLIC_SURFACES: Array<{ methods: readonly string[]; path: RegExp }> = [
  { methods: ['GET', 'HEAD'], path: new RegExp(`^/hls/${ID}/`) },
  { methods: ['GET', 'HEAD'], path: new RegExp(`^/watch/${ID}$`) },
  { methods: ['POST'], path: new RegExp(`^/whep/${ID}$`) },
  { methods: ['GET', 'HEAD'], path: new RegExp(`^/v1/streams/${ID}$`) },
  { methods: ['GET'], path: new RegExp(`^/v1/streams/${ID}/(?:events|room/messages|products|highlights|promos)$`) },
  { methods: ['GET', 'HEAD'], path: new RegExp(`^/go/${ID}/`) },
  { methods: ['POST'], path: new RegExp(`^/v1/streams/${ID}/heartbeat$`) },
  { methods: ['POST'], path: new RegExp(`^/v1/streams/${ID}/promos/[^/]+/reveals$`) },
];

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });

/** The stream id of a request on a public surface, undefined for any other request. */
function surfaceStreamId(method: string, path: string): string | undefined {
  for (const s of PUBLIC_SURFACES) {
    if (!s.methods.includes(method)) continue;
    const m = s.path.exec(path);
    if (m) return m[1];
  }
  return undefined;
}

/** Options: the app's upgrade router (the room socket is gated there). */
export interface PracticePluginOptions {
  upgrades: UpgradeRouter;
}

function baseUrl(req: FastifyRequest, configured: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/**
 * Practice mode: the `practice` service (PracticeGate), a global onRequest hook over every public
 * surface, the room's upgrade gate and GET /v1/streams/:id/preview (owner or operator) → a signed,
 * expiring watch link. Not encapsulated: the hook must cover the routes of the plugins registered
 * after it, so the app registers this one before them.
 */
async function practice(app: FastifyInstance, o: PracticePluginOptions): Promise<void> {
  const c = app.config;
  const secret = loadLinkSecret(resolve(c.dataDir), c.recording.linkSecret, app.log as never);
  const gate = new PracticeGate({
    lookup: async (id) => (await app.store.getStream(id))?.practice,
    signer: new LinkSigner(secret, c.journey.previewTtlSeconds, Date.now, 'preview'),
    cacheSize: c.journey.practiceCacheSize,
  });
  await app.register(provide('practice', gate));

  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?', 1)[0]!;
    const id = surfaceStreamId(req.method, path);
    if (id === undefined) return;
    const access = await gate.access(id, req.query as Record<string, unknown>);
    if (access === 'public' || access === 'preview') return;
    if (access === 'forbidden') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'the preview link is invalid or has expired');
    // The owner and the operator see their practice stream with their token too.
    if (req.headers.authorization) {
      const p = await app.auth.resolve(req);
      if (p.role === 'operator') return;
      if (p.role === 'creator' && (await app.store.getStream(id))?.ownerId === p.creator.id) return;
    }
    throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
  });

  o.upgrades.gate(async (pathname, query) => {
    const id = ROOM_PATH.exec(pathname)?.[1];
    if (id === undefined) return undefined;
    const access = await gate.access(id, Object.fromEntries(query));
    return access === 'hidden' ? 404 : access === 'forbidden' ? 403 : undefined;
  });

  app.get<{ Params: Static<typeof IdParams> }>('/v1/streams/:id/preview', { schema: { params: IdParams } }, async (req) => {
    const p = await app.auth.requireAuthenticated(req);
    const rec = await owned(app.store, p, req.params.id);
    const signed = gate.sign(rec.id);
    const base = baseUrl(req, c.publicBaseUrl);
    return {
      url: `${base}/watch/${rec.id}?${signed.query}`,
      hls: `${base}/hls/${rec.id}/master.m3u8?${signed.query}`,
      expiresAt: new Date(signed.expiresAt).toISOString(),
    };
  });
}

/** Practice mode as a plugin; registered before the routes it guards. */
export const practicePlugin = fp(practice, {
  name: 'showcase-practice',
  fastify: '5.x',
  dependencies: dependsOn('config', 'store', 'auth'),
});
