import type { FastifyInstance } from 'fastify';
import { byProtocolMode, type ByProtocolMode } from '../metrics/stream-watch-stats.js';

/** A stream's viewers now: watch sessions (HLS and WebRTC, live and replay) and room sockets. */
export interface StreamViewers {
  watching: number;
  room: number;
  /** The watch sessions by protocol and mode (not shown by GET /v1/streams/:id: the analytics' replay viewers). */
  sessions: ByProtocolMode;
}

/**
 * A stream's viewers as the API shows them: summed across the nodes when clustered (its shares read
 * from Redis now when the last read is over a tick old; each node's own at least, Redis or not),
 * this node's alone otherwise.
 */
export async function streamViewers(app: FastifyInstance, streamId: string): Promise<StreamViewers> {
  if (app.hasDecorator('cluster')) {
    await app.cluster.audience.refresh([streamId]);
    const t = app.cluster.audience.totals(streamId);
    return { watching: t.watching, room: t.room, sessions: byProtocolMode(t.sessions) };
  }
  const snap = app.ticker.snapshot(streamId);
  return {
    watching: snap?.viewersTotal ?? 0,
    room: app.hasDecorator('room') ? app.room.viewers(streamId) : 0,
    sessions: snap?.viewers ?? byProtocolMode([0, 0, 0, 0]),
  };
}

/** A stream's watch sessions now, without waiting (summed across nodes as of the last tick when clustered). */
export function watchingNow(app: FastifyInstance, streamId: string): number {
  return app.hasDecorator('cluster') ? app.cluster.audience.totals(streamId).watching : app.ticker.snapshot(streamId)?.viewersTotal ?? 0;
}
