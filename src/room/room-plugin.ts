import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import type { Logger } from '../core/logger.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Authenticator } from '../http/auth.js';
import type { UpgradeRouter } from '../http/upgrade-router.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import type { Store } from '../store/types.js';
import type { RoomConfig } from './room-config.js';
import { InProcessFanout, type RoomFanout } from './room-fanout.js';
import { ROOM_PATH, RoomServer } from './room-server.js';
import { shoppersRoutes } from './shoppers-routes.js';
import { roomRoutes } from './room-routes.js';
import { moderationRoutes } from './moderation-routes.js';

export interface RoomPluginOptions {
  store: Store;
  auth: Authenticator;
  config: Readonly<RoomConfig>;
  /** The server's one upgrade router: the room socket is routed through it. */
  upgrades: UpgradeRouter;
  /** Live streams: their state changes go to their rooms. */
  registry: StreamRegistry;
  /** The LL-HLS origin: a message's mediaTime is the PDT of the live edge. */
  origin: HlsOrigin;
  logger: Logger;
  /** Delivery to the sockets (in-process unless a bus is given). */
  fanout?: RoomFanout;
  /** The viewer count shown given this node's sockets (clustered: summed across nodes). */
  viewerCount?: (streamId: string, local: number) => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The room socket server (issue 14). */
    room: RoomServer;
  }
}

/** The PDT (ms) of the stream's live edge (end of the newest part of its top rendition), else now. */
export function liveEdgeMediaTime(origin: HlsOrigin, registry: StreamRegistry, streamId: string): number {
  if (registry.get(streamId)?.state !== 'live') return Date.now();
  const hls = origin.get(streamId);
  const tl = hls ? [...hls.timelines.values()][0] : undefined;
  const last = tl && !tl.ended ? tl.segments[tl.segments.length - 1] : undefined;
  return last ? last.programDateTimeMs + last.duration * 1000 : Date.now();
}

/** The room's routes and socket server: shoppers, /v1/streams/:id/room, moderation. */
async function room(app: FastifyInstance, o: RoomPluginOptions): Promise<void> {
  await app.register(shoppersRoutes, {
    store: o.store,
    auth: o.auth,
    createLimiter: new AuthFailureLimiter(o.config.shopperCreatesPerMinute, 60_000),
  });
  const fanout = o.fanout ?? new InProcessFanout();
  const server = new RoomServer({
    config: o.config,
    store: o.store,
    fanout,
    resolveToken: (token, address) => o.auth.resolveToken(token, address),
    mediaTime: (id) => liveEdgeMediaTime(o.origin, o.registry, id),
    ...(o.viewerCount ? { viewerCount: o.viewerCount } : {}),
    logger: o.logger,
  });
  app.decorate('room', server);
  await app.register(roomRoutes, { store: o.store, auth: o.auth, messageDeleted: (sid, mid) => server.messageDeleted(sid, mid) });
  await app.register(moderationRoutes, { store: o.store, auth: o.auth, room: server });
  o.upgrades.route('room', (p) => ROOM_PATH.test(p), server);
  o.registry.on('stream', (s) => s.on('state', (state) => server.streamState(s.id, state)));
  // Before the HTTP server waits for its connections: the room's sockets close first.
  app.addHook('preClose', async () => {
    await server.close();
    fanout.close();
  });
}

/** The room's one fastify plugin (app.ts registers it in one line). */
export const roomPlugin = fp(room, { name: 'showcase-room', fastify: '5.x' });
