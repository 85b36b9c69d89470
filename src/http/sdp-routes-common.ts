import type { FastifyInstance, FastifyReply } from 'fastify';
import { SDP_MAX_BYTES } from '../webrtc/sdp-parse.js';

/**
 * What WHIP and WHEP routes share: an `application/sdp` body parser (bounded, registered inside
 * the caller's encapsulated plugin only) and the CORS headers a player or publisher page served
 * elsewhere needs to read `Location`. Returns the CORS setter ('' origin: same origin only).
 */
export function sdpRouteCommon(app: FastifyInstance, corsOrigin: string | undefined): (reply: FastifyReply) => void {
  app.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: SDP_MAX_BYTES }, (_req, body, done) => done(null, body));
  return (reply) => {
    if (!corsOrigin) return;
    reply.header('access-control-allow-origin', corsOrigin);
    reply.header('access-control-expose-headers', 'location, etag');
    reply.header('vary', 'origin');
  };
}
