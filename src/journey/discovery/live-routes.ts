import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StreamRecord } from '../../store/types.js';
import { dependsOn } from '../../http/services.js';

const iso = (ms: number | null | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** A stream as the public listings show it (no key, no live internals). */
export function listedStream(rec: StreamRecord, base: string): Record<string, unknown> {
  return {
    id: rec.id,
    title: rec.title,
    description: rec.description,
    state: rec.state,
    creatorId: rec.ownerId,
    scheduledAt: iso(rec.scheduledAt),
    startedAt: iso(rec.startedAt),
    watch: `${base}/watch/${rec.id}`,
    playback: { hls: `${base}/hls/${rec.id}/master.m3u8` },
  };
}

function baseUrl(req: FastifyRequest, configured: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/**
 * GET /v1/live (public): `live` (newest start first) and `upcoming` (scheduled, soonest first;
 * one scheduled up to journey.upcomingGraceMs ago that has not started yet still shows). Practice
 * streams are never listed (the store leaves them out).
 */
async function live(app: FastifyInstance): Promise<void> {
  const j = app.config.journey;
  app.get('/v1/live', async (req, reply) => {
    const d = await app.store.listDiscoverable({ scheduledSince: Date.now() - j.upcomingGraceMs, limit: j.liveListLimit });
    const base = baseUrl(req, app.config.publicBaseUrl);
    // Shared by every visitor: a CDN may keep it a few seconds.
    reply.header('cache-control', 'public, max-age=5');
    return { live: d.live.map((s) => listedStream(s, base)), upcoming: d.upcoming.map((s) => listedStream(s, base)) };
  });
}

/** GET /v1/live as a plugin over the store. */
export const liveRoutes = fp(live, {
  name: 'showcase-live-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store'),
});
