import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { StreamRecord } from '../store/types.js';
import { owned } from './streams-routes.js';
import { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import { dependsOn } from './services.js';
import { roomAnalyticsBlock } from '../room/room-analytics.js';
import { computeLevels, type Sale } from '../journey/levels/creator-levels.js';
import { fromUnits } from '../commerce/money.js';
import { journeyAnalytics } from '../journey/analytics/stream-journey-analytics.js';
import { streamViewers } from '../cluster/audience-views.js';

export type { StoredAnalytics } from '../metrics/stream-analytics.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });
const HeartbeatBody = Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** Minutes streamed per calendar month (UTC), splitting streams that cross a month boundary. */
export function minutesByMonth(streams: Array<{ startedAt: number | null; endedAt: number | null }>, now: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of streams) {
    if (!s.startedAt) continue;
    let from = s.startedAt;
    const to = s.endedAt ?? now;
    while (from < to) {
      const d = new Date(from);
      const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      const until = Math.min(to, monthEnd);
      const key = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
      out[key] = (out[key] ?? 0) + (until - from) / 60000;
      from = until;
    }
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 100) / 100;
  return out;
}

/** /metrics for Prometheus, the viewer heartbeat, per-stream analytics and creator stats. */
export interface MetricsRoutesOptions {
  /** The stream's commerce figures (clicks, purchases, revenue), added to its analytics as `commerce` when given. */
  commerce?: (streamId: string) => Promise<Record<string, unknown>>;
}

async function metricsPlugin(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  const o = {
    commerce: opts.commerce,
    store: app.store,
    auth: app.auth,
    metrics: app.metrics,
    table: app.sessions,
    ticker: app.ticker,
    // Per-address budget for heartbeats (a FixedWindow limiter: one hit per heartbeat).
    heartbeatLimiter: new AuthFailureLimiter(app.config.metrics.heartbeatsPerMinute, 60_000),
  };
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', o.metrics.contentType);
    reply.header('cache-control', 'no-store');
    return o.metrics.metrics();
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof HeartbeatBody> }>('/v1/streams/:id/heartbeat', { schema: { params: IdParams, body: HeartbeatBody } }, async (req, reply) => {
    o.heartbeatLimiter.check(req.ip);
    o.heartbeatLimiter.fail(req.ip);
    if (!await o.store.getStream(req.params.id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    if (!o.table.touch(req.body.sessionId, undefined, req.params.id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'unknown or expired session');
    return reply.status(204).send();
  });

  app.get<{ Params: Static<typeof IdParams> }>('/v1/streams/:id/analytics', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const live = o.ticker.snapshot(rec.id);
    // Stored periods plus the ticker's current one: a replay or a restart never hides what came before.
    const a = await app.analytics.current(rec.id);
    const now = Date.now();
    const streamedMs = rec.startedAt ? (rec.endedAt ?? now) - rec.startedAt : 0;
    const watchLive = a?.watchSecondsLive ?? 0;
    const watchReplay = a?.watchSecondsReplay ?? 0;
    const timeline = a?.timeline ?? [];
    const peak = a?.peakViewers ?? 0;
    const average = streamedMs > 0 ? Math.round((watchLive / (streamedMs / 1000)) * 100) / 100 : 0;
    const commerce = o.commerce ? await o.commerce(rec.id) : undefined;
    const viewers = await streamViewers(app, rec.id);
    return {
      streamId: rec.id,
      state: rec.state,
      minutesStreamed: Math.round((streamedMs / 60000) * 100) / 100,
      peakConcurrentViewers: peak,
      averageConcurrentViewers: average,
      watchMinutes: { live: Math.round((watchLive / 60) * 100) / 100, replay: Math.round((watchReplay / 60) * 100) / 100 },
      uniqueViewers: a?.uniqueViewers ?? 0,
      uniqueViewersMethod: 'HyperLogLog (precision 14, ~0.8 % standard error), merged across live and replay viewing',
      // Clustered: summed across the nodes (this node being the stream's analytics owner, see the cluster plugin).
      currentViewers: viewers.watching,
      timeline: timeline.map((b) => ({ minute: new Date(b.startMs).toISOString(), viewersAvg: b.viewersAvg, viewersPeak: b.viewersPeak, watchSeconds: b.watchSeconds, ingestBitsPerSecond: b.ingestBitsPerSecond ?? null })),
      ...(commerce ? { commerce } : {}),
      // The room (issue 14): stored per minute by the room server, up to room.countsFlushMs behind.
      room: roomAnalyticsBlock(await o.store.listRoomCounts(rec.id)),
      // The creator's journey (issue 15): viewers live and in replay, per product, followers gained.
      ...await journeyAnalytics(o.store, rec, { peak, average, replayUnique: a?.replayUniqueViewers ?? 0, replayWatchSeconds: watchReplay, snapshot: live && { ...live, viewers: viewers.sessions }, commerce }, now),
    };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/v1/creators/:id/stats', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    // 'me': the calling creator (the studio's dashboard asks before it knows its id).
    const c = await o.store.getCreator(req.params.id === 'me' && p.role === 'creator' ? p.creator.id : req.params.id);
    if (!c || (p.role === 'creator' && p.creator.id !== c.id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
    const streams: StreamRecord[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const page = await o.store.listStreams({ ownerId: c.id, limit: 1000, cursor });
      streams.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    // Levels (issue 15): practice streams never count, neither their minutes nor their sales.
    const counted = streams.filter((s) => !s.practice && s.startedAt !== null);
    const sales: Sale[] = [];
    for (const s of counted) {
      for (const r of await o.store.conversionCounts(s.id)) sales.push({ at: r.minute, currency: r.currency, amountUnits: r.amountUnits, count: r.purchases });
    }
    const now = Date.now();
    const levels = computeLevels(counted.map((s) => ({ startedAt: s.startedAt ?? now, endedAt: s.endedAt ?? now })), sales, now, app.config.journey.levels);
    return {
      creatorId: c.id,
      level: levels.level,
      months: levels.months.map((m) => ({
        month: m.month, minutesStreamed: m.minutesStreamed, sales: m.sales,
        revenue: Object.fromEntries(Object.entries(m.revenueUnits).map(([cur, u]) => [cur, fromUnits(u)])),
        level: m.level, progress: m.progress,
      })),
      minutesStreamedByMonth: minutesByMonth(counted, now),
      streams: streams.length,
    };
  });
}

/** /metrics, heartbeats, analytics and creator stats as a plugin over the metrics services. */
export const metricsRoutes = fp(metricsPlugin, {
  name: 'showcase-metrics-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store', 'auth', 'metrics', 'sessions', 'ticker', 'analytics'),
});
