import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RecordingRecord, StreamRecord } from '../../store/types.js';
import type { CreatorCard, CreatorDirectory } from './creator-directory.js';
import { featuredOf, orderLive, orderUpcoming, type PlacedStream } from './placement.js';

/** GET /v1/live reads this many times journey.liveListLimit candidates, at most PLACEMENT_CANDIDATES_MAX. */
export const PLACEMENT_CANDIDATES_FACTOR = 4;
export const PLACEMENT_CANDIDATES_MAX = 1000;

const iso = (ms: number | null | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** What the discovery routes share: the creator directory, current viewers, the public base URL. */
export interface DiscoveryContext {
  directory: CreatorDirectory;
  /** Concurrent viewers of a stream on this node now (0 when not tracked). */
  viewersOf(streamId: string): number;
  /** The base URL links are made with (config publicBaseUrl, else the request's host). */
  base(req: FastifyRequest): string;
}

/** The creator part of a listed stream. */
function creatorView(card: CreatorCard | undefined): Record<string, unknown> | null {
  return card ? { id: card.id, handle: card.handle, displayName: card.displayName, level: card.level } : null;
}

/** A stream as the public listings show it (no key, no live internals), with its creator and level. */
export function listedStream(rec: StreamRecord, base: string, card?: CreatorCard, viewers?: number): Record<string, unknown> {
  return {
    id: rec.id,
    title: rec.title,
    description: rec.description,
    state: rec.state,
    creatorId: rec.ownerId,
    creator: creatorView(card),
    level: card?.level ?? 'rising-star',
    scheduledAt: iso(rec.scheduledAt),
    startedAt: iso(rec.startedAt),
    endedAt: iso(rec.endedAt),
    ...(viewers !== undefined ? { viewers } : {}),
    watch: `${base}/watch/${rec.id}`,
    playback: { hls: `${base}/hls/${rec.id}/master.m3u8` },
  };
}

/** The replay of an ended stream: its watch page and playlist once the recording is ready, else null. */
export function replayOf(rec: StreamRecord, recording: RecordingRecord | undefined, base: string): Record<string, unknown> | null {
  if (rec.state !== 'ended' || recording?.state !== 'ready') return null;
  return { watch: `${base}/watch/${rec.id}`, hls: `${base}/hls/${rec.id}/master.m3u8`, durationSeconds: recording.durationSeconds ?? null };
}

/** The base URL for links: configured, or the request's own. */
export function baseUrl(req: FastifyRequest, configured: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/** Rows with their creator's level and viewers, ready for the placement order. */
export async function placed(ctx: DiscoveryContext, streams: readonly StreamRecord[]): Promise<Array<PlacedStream & { card: CreatorCard | undefined }>> {
  const cards = await ctx.directory.cards(streams.map((s) => s.ownerId));
  return streams
    // A disabled creator's streams are not shown (they end anyway; an upcoming one would not start).
    .filter((s) => s.ownerId === null || cards.has(s.ownerId))
    .map((s) => {
      const card = s.ownerId ? cards.get(s.ownerId) : undefined;
      return { stream: s, card, level: card?.level ?? 'rising-star', viewers: s.state === 'live' ? ctx.viewersOf(s.id) : 0 };
    });
}

/**
 * GET /v1/live (public): `live` and `upcoming` in placement order (A-List, Insider, Rising Star;
 * live ones then by current viewers, upcoming ones by the soonest), and `featured`: the first live
 * stream when its creator is A-List, else null. Upcoming holds scheduled streams that have not
 * started (one scheduled up to journey.upcomingGraceMs ago still shows). Practice streams are
 * never listed (the store leaves them out).
 */
export function liveRoute(app: FastifyInstance, ctx: DiscoveryContext): void {
  const j = app.config.journey;
  // Candidates read before ordering: an A-List stream that started before the newest
  // liveListLimit others must still come first (bounded: the store caps a read at 1,000).
  const candidates = Math.min(PLACEMENT_CANDIDATES_MAX, j.liveListLimit * PLACEMENT_CANDIDATES_FACTOR);
  app.get('/v1/live', async (req, reply) => {
    const d = await app.store.listDiscoverable({ scheduledSince: Date.now() - j.upcomingGraceMs, limit: candidates });
    const base = ctx.base(req);
    const live = orderLive(await placed(ctx, d.live)).slice(0, j.liveListLimit);
    const upcoming = orderUpcoming(await placed(ctx, d.upcoming)).slice(0, j.liveListLimit);
    const featured = featuredOf(live);
    // Shared by every visitor: a CDN may keep it a few seconds.
    reply.header('cache-control', 'public, max-age=5');
    return {
      featured: featured ? listedStream(featured.stream, base, featured.card, featured.viewers) : null,
      live: live.map((r) => listedStream(r.stream, base, r.card, r.viewers)),
      upcoming: upcoming.map((r) => listedStream(r.stream, base, r.card)),
    };
  });
}
