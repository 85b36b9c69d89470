import type { FastifyInstance } from 'fastify';

/** A stream's viewers now: watch sessions (HLS and WebRTC, live and replay) and room sockets. */
export interface StreamViewers {
  watching: number;
  room: number;
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
    return { watching: t.watching, room: t.room };
  }
  return { watching: app.ticker.snapshot(streamId)?.viewersTotal ?? 0, room: app.hasDecorator('room') ? app.room.viewers(streamId) : 0 };
}

/** A stream's watch sessions now, without waiting (summed across nodes as of the last tick when clustered). */
export function watchingNow(app: FastifyInstance, streamId: string): number {
  return app.hasDecorator('cluster') ? app.cluster.audience.totals(streamId).watching : app.ticker.snapshot(streamId)?.viewersTotal ?? 0;
}
