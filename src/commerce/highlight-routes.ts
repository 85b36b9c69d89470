import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { KeyedQueue } from '../core/keyed-queue.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { owned } from '../http/streams-routes.js';
import type { Authenticator } from '../http/auth.js';
import type { PublicHighlight, WatchEventFeed } from '../http/watch-event-feed.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import type { HighlightRecord } from '../store/commerce-types.js';
import type { Store } from '../store/types.js';
import type { HighlightTimeline } from './highlight-timeline.js';
import { LIVE_EDGE_READER, mediaTimeOf, type LiveEdgeReader } from './live-edge.js';
import type { TokenBuckets } from './token-buckets.js';

/** What the highlight routes need. */
export interface HighlightRoutesOptions {
  store: Store;
  auth: Authenticator;
  registry: StreamRegistry;
  origin: HlsOrigin;
  timeline: HighlightTimeline;
  limiter: TokenBuckets;
  feed?: WatchEventFeed;
  logger: Logger;
  /** Highlight writes of a stream run in order (an end never overtakes its start's insert). */
  writes: KeyedQueue;
}

const ID = '^[A-Za-z0-9_-]{1,64}$';
const StreamParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const HighlightBody = Type.Object({ productId: Type.String({ pattern: ID }) }, { additionalProperties: false });

/** A highlight as the API and watch pages show it. */
export function highlightView(h: HighlightRecord): PublicHighlight {
  return { id: h.id, productId: h.productId, startDate: new Date(h.startDate).toISOString(), endDate: h.endDate === null ? null : new Date(h.endDate).toISOString(), mediaTime: h.mediaTime };
}

/**
 * The program date of the stream's ingest edge now, and that instant in recording seconds; the
 * stream must be live with a publisher (409 SHOWCASE_ERR_COMMERCE_NOT_LIVE otherwise).
 */
export function liveEdgeOf(registry: StreamRegistry, origin: HlsOrigin, streamId: string): { startDate: number; mediaTime: number } {
  const s = registry.get(streamId);
  if (!s || s.state !== 'live' || !s.publisher) throw new ShowcaseError('SHOWCASE_ERR_COMMERCE_NOT_LIVE', 'highlights are made while the stream is live');
  const edge = s.reader(LIVE_EDGE_READER) as LiveEdgeReader | undefined;
  const startDate = Math.round(edge ? edge.programDate() : Date.now());
  return { startDate, mediaTime: mediaTimeOf(startDate, origin.get(streamId), s) };
}

/**
 * /v1/streams/:id/highlights: the creator (or the operator) highlights a product while live. The
 * cue list changes at once (the next playlist render carries it); the store write follows, and a
 * failed write is logged, never undone in the timeline viewers already got.
 */
export async function highlightRoutes(app: FastifyInstance, o: HighlightRoutesOptions): Promise<void> {
  const persistEnd = (h: HighlightRecord | undefined): void => persistHighlightEnd(o, h);

  app.post<{ Params: Static<typeof StreamParams>; Body: Static<typeof HighlightBody> }>('/v1/streams/:id/highlights', { schema: { params: StreamParams, body: HighlightBody } }, async (req, reply) => {
    // Stamped first: the frame the creator is on when the call arrives, not after the lookups.
    const arrival = o.registry.get(req.params.id)?.state === 'live' ? safeEdge(o, req.params.id) : undefined;
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    if (!o.limiter.take(rec.id)) throw new ShowcaseError('SHOWCASE_ERR_COMMERCE_HIGHLIGHT_RATE', 'too many highlights for this stream: slow down', { retryAfterSeconds: 1 });
    const edge = arrival ?? liveEdgeOf(o.registry, o.origin, rec.id);
    const product = await o.store.getProduct(rec.id, req.body.productId);
    if (!product) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no product with that id on this stream');
    // The stream may have ended during the lookups.
    liveEdgeOf(o.registry, o.origin, rec.id);
    // Never before the current one's start: highlights of a stream do not overlap, ends follow starts.
    const startDate = Math.max(edge.startDate, o.timeline.current(rec.id)?.startDate ?? 0);
    const h: HighlightRecord = {
      id: `hl_${randomBytes(9).toString('base64url')}`, streamId: rec.id, productId: product.id, startDate,
      endDate: null, mediaTime: edge.mediaTime + (startDate - edge.startDate) / 1000, createdAt: Date.now(),
    };
    const ended = o.timeline.start(h);
    persistEnd(ended);
    o.feed?.publish(rec.id, { type: 'highlight', highlight: highlightView(h) });
    await o.writes.run(rec.id, () => o.store.createHighlight(h));
    reply.header('location', `/v1/streams/${rec.id}/highlights/${h.id}`);
    return reply.status(201).send(highlightView(h));
  });

  app.delete<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/highlights/current', { schema: { params: StreamParams } }, async (req) => {
    const arrival = o.registry.get(req.params.id)?.state === 'live' ? safeEdge(o, req.params.id) : undefined;
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const ended = o.timeline.end(rec.id, arrival?.startDate ?? Date.now());
    if (!ended) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no highlight is current on this stream');
    persistEnd(ended);
    return highlightView(ended);
  });

  app.get<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/highlights', { schema: { params: StreamParams } }, async (req) => {
    await o.auth.resolve(req);
    const rec = await o.store.getStream(req.params.id);
    if (!rec) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    // The in-memory cue list is ahead of the store (writes follow it): it wins for what it holds.
    const stored = await o.writes.run(rec.id, () => o.store.listHighlights(rec.id));
    const cur = o.timeline.current(rec.id);
    const items = stored.map((h) => (h.endDate === null && cur?.id !== h.id ? endedInMemory(o.timeline, h) : h));
    return { items: items.map(highlightView) };
  });
}

/** Tells watch pages a highlight ended and queues its end's store write (a failure is logged). */
export function persistHighlightEnd(o: Pick<HighlightRoutesOptions, 'feed' | 'writes' | 'store' | 'logger'>, h: HighlightRecord | undefined): void {
  if (!h || h.endDate === null) return;
  const endDate = h.endDate;
  o.feed?.publish(h.streamId, { type: 'highlight', highlight: highlightView(h) });
  void o.writes.run(h.streamId, () => o.store.endHighlight(h.streamId, h.id, endDate))
    .catch((err: unknown) => o.logger.error({ err, streamId: h.streamId, highlight: h.id }, 'storing a highlight\'s end failed'));
}

/** The live edge, or undefined when the stream is not live (the route answers why after auth). */
function safeEdge(o: HighlightRoutesOptions, id: string): { startDate: number; mediaTime: number } | undefined {
  try {
    return liveEdgeOf(o.registry, o.origin, id);
  } catch {
    return undefined;
  }
}

/** A stored highlight the cue list has ended while its end's write is still queued. */
function endedInMemory(timeline: HighlightTimeline, h: HighlightRecord): HighlightRecord {
  const r = timeline.dateRanges(h.streamId).find((d) => d.id === h.id);
  return r?.endDate !== undefined ? { ...h, endDate: r.endDate } : h;
}
