import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import type { Store, StreamRecord } from '../store/types.js';
import type { Principal } from './auth.js';
import { dependsOn } from './services.js';
import { streamViewers } from '../cluster/audience-views.js';

const CreateStreamBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  creatorId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** When the stream is announced to start (ISO 8601 with a time zone); see parseScheduledAt. */
  scheduledAt: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  /** Practice mode: only the owner and the operator see the stream (fixed at creation). */
  practice: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });

const PatchStreamBody = Type.Object({
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  /** null unschedules. */
  scheduledAt: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Null()])),
}, { additionalProperties: false, minProperties: 1 });

const ListQuery = Type.Object({
  // Query strings are text: validated as such (the server does not coerce types).
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

/** A new public stream id: short, URL-safe, unguessable enough that ids are not enumerable. */
function newStreamId(): string {
  return randomBytes(9).toString('base64url');
}

/** ISO 8601 date-times with a time zone (Z or ±hh:mm), what scheduledAt accepts. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A scheduledAt value in ms: an ISO time with a zone, no more than a year ahead; VALIDATION otherwise. */
export function parseScheduledAt(v: string, now: number): number {
  const ms = ISO_TIME.test(v) ? Date.parse(v) : NaN;
  const bad = (message: string) => new ShowcaseError('SHOWCASE_ERR_VALIDATION', `scheduledAt ${message}`, { fields: [{ field: '/scheduledAt', message }] });
  if (!Number.isFinite(ms)) throw bad('must be an ISO 8601 time with a time zone, e.g. 2030-05-01T18:00:00Z');
  if (ms > now + 366 * 86_400_000) throw bad('is more than a year ahead');
  return ms;
}

function baseUrl(req: FastifyRequest, configured: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  const host = req.headers.host ?? `localhost`;
  return `${req.protocol}://${host}`;
}

function canSeeSecrets(p: Principal, rec: StreamRecord): boolean {
  return p.role === 'operator' || (p.role === 'creator' && rec.ownerId === p.creator.id);
}

/** The stream if the caller may manage it; another creator's stream is a 404, so ids cannot be probed. */
export async function owned(store: Store, p: Exclude<Principal, { role: 'anonymous' }>, id: string): Promise<StreamRecord> {
  const rec = await store.getStream(id);
  if (!rec || !canSeeSecrets(p, rec)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
  return rec;
}

/** /v1/streams: operators and creators create streams; anyone reads the public view of one. */
async function streams(app: FastifyInstance): Promise<void> {
  const c = app.config;
  const o = { store: app.store, auth: app.auth, publicBaseUrl: c.publicBaseUrl };
  // WHIP is available when its ingest is: answers then carry its URL (OBS 30+ WHIP output, browsers, apps).
  const whipEnabled = app.hasDecorator('whip');
  const rtmpUrl = (req: FastifyRequest): string => {
    const host = c.rtmpPublicHost || (req.headers.host ?? 'localhost').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return `rtmp://${host}:${app.rtmp.port}/${c.rtmp.app}`;
  };

  // Clustered (cluster.redisUrl): a publisher about to go live is sent to the least-loaded node.
  const cluster = app.hasDecorator('cluster') ? app.cluster : undefined;
  /** Where a publisher should go now: the least-loaded node when clustered, this node otherwise. */
  const ingestUrls = async (req: FastifyRequest): Promise<Record<string, unknown>> => {
    if (cluster) {
      const placed = await cluster.place();
      return { rtmpUrl: placed.rtmpUrl, ...(placed.whipUrl ? { whipUrl: placed.whipUrl } : {}), nodeId: placed.nodeId };
    }
    return { rtmpUrl: rtmpUrl(req), ...(whipEnabled ? { whipUrl: `${baseUrl(req, o.publicBaseUrl)}/whip` } : {}) };
  };

  const view = (req: FastifyRequest, rec: StreamRecord, p: Principal, streamKey?: string, placed?: Record<string, unknown>): Record<string, unknown> => {
    const base = baseUrl(req, o.publicBaseUrl);
    const out: Record<string, unknown> = {
      id: rec.id,
      title: rec.title,
      description: rec.description,
      state: rec.state,
      creatorId: rec.ownerId,
      createdAt: new Date(rec.createdAt).toISOString(),
      startedAt: rec.startedAt ? new Date(rec.startedAt).toISOString() : null,
      endedAt: rec.endedAt ? new Date(rec.endedAt).toISOString() : null,
      endReason: rec.endReason,
      scheduledAt: rec.scheduledAt ? new Date(rec.scheduledAt).toISOString() : null,
      practice: rec.practice === true,
      playback: { hls: `${base}/hls/${rec.id}/master.m3u8` },
    };
    if (canSeeSecrets(p, rec)) {
      out.ingest = {
        ...(placed ?? { rtmpUrl: rtmpUrl(req), ...(whipEnabled ? { whipUrl: `${baseUrl(req, o.publicBaseUrl)}/whip` } : {}) }),
        streamKeyPrefix: rec.streamKeyPrefix,
        ...(streamKey ? { streamKey } : {}),
      };
      if (streamKey) out.streamKey = streamKey;
      // The owner also sees the live facts of a stream in memory (transcoder state, renditions, ingest).
      const live = app.streamStatus.liveDetails(rec.id);
      if (live) out.live = live;
    }
    return out;
  };

  app.post<{ Body: Static<typeof CreateStreamBody> }>('/v1/streams', { schema: { body: CreateStreamBody } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    let ownerId: string | null = null;
    if (p.role === 'creator') {
      if (req.body.creatorId && req.body.creatorId !== p.creator.id) throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'creators create streams for themselves only');
      ownerId = p.creator.id;
    } else if (req.body.creatorId) {
      const c = await o.store.getCreator(req.body.creatorId);
      if (!c) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'no creator with that id', { fields: [{ field: '/creatorId', message: 'unknown creator' }] });
      ownerId = c.id;
    }
    const scheduledAt = req.body.scheduledAt === undefined ? null : parseScheduledAt(req.body.scheduledAt, Date.now());
    const streamKey = generateSecret('sk_', 24);
    const rec = await o.store.createStream({
      id: newStreamId(),
      ownerId,
      title: req.body.title,
      description: req.body.description ?? '',
      streamKeyHash: hashSecret(streamKey),
      streamKeyPrefix: streamKey.slice(0, 7),
      state: 'idle',
      createdAt: Date.now(),
      startedAt: null,
      endedAt: null,
      endReason: null,
      extra: {},
      scheduledAt,
      practice: req.body.practice === true,
    });
    if (app.hasDecorator('practice')) app.practice.remember(rec.id, rec.practice === true);
    reply.header('location', `/v1/streams/${rec.id}`);
    return reply.status(201).send(view(req, rec, p, streamKey, cluster ? await ingestUrls(req) : undefined));
  });

  // Asked again just before going live: in a cluster the least-loaded node may have changed since
  // the stream was created. The key itself is never shown again (rotate it with POST .../key).
  app.get<{ Params: Static<typeof IdParams> }>('/v1/streams/:id/ingest', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    return { ...(await ingestUrls(req)), streamKeyPrefix: rec.streamKeyPrefix };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/v1/streams/:id', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.resolve(req);
    const rec = await o.store.getStream(req.params.id);
    if (!rec) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    const out = view(req, rec, p);
    // A live stream's viewers now (watch sessions and room sockets), summed across the nodes when clustered.
    if (rec.state === 'live') {
      const v = await streamViewers(app, rec.id);
      out.viewers = { watching: v.watching, room: v.room };
    }
    return out;
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/v1/streams', { schema: { querystring: ListQuery } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const page = await o.store.listStreams({ ownerId: p.role === 'creator' ? p.creator.id : undefined, limit: Number(req.query.limit ?? 20), cursor: req.query.cursor ?? null });
    return { items: page.items.map((rec) => view(req, rec, p)), nextCursor: page.nextCursor };
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchStreamBody> }>('/v1/streams/:id', { schema: { params: IdParams, body: PatchStreamBody } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const { scheduledAt, ...fields } = req.body;
    const patch = scheduledAt === undefined ? fields : { ...fields, scheduledAt: scheduledAt === null ? null : parseScheduledAt(scheduledAt, Date.now()) };
    const updated = (await o.store.updateStream(rec.id, patch))!;
    return view(req, updated, p);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/v1/streams/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    app.registry.end(rec.id, 'deleted');
    await o.store.deleteStream(rec.id);
    return reply.status(204).send();
  });

  app.post<{ Params: Static<typeof IdParams> }>('/v1/streams/:id/key', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const streamKey = generateSecret('sk_', 24);
    const updated = (await o.store.updateStream(rec.id, { streamKeyHash: hashSecret(streamKey), streamKeyPrefix: streamKey.slice(0, 7) }))!;
    return view(req, updated, p, streamKey);
  });
}

/** /v1/streams as a plugin (the WHIP URL is offered when the whip service is registered before it). */
export const streamsRoutes = fp(streams, {
  name: 'showcase-streams-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store', 'auth', 'registry', 'rtmp', 'streamStatus', 'ticker'),
});
