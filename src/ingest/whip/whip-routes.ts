import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../../core/errors.js';
import { bearerToken } from '../../http/auth.js';
import { sdpRouteCommon } from '../../http/sdp-routes-common.js';
import { dependsOn } from '../../http/services.js';

const SessionParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });

/**
 * WHIP (RFC 9725) ingest for phones, browsers and OBS: `POST /whip` with `Authorization: Bearer
 * <streamKey>` and an SDP offer answers 201 with the SDP answer and `Location: /whip/<session>`;
 * `DELETE /whip/<session>` (same key) stops publishing and ends the stream.
 */
async function whip(app: FastifyInstance): Promise<void> {
  const o = {
    ingest: app.whip,
    // Counts bad stream keys per address (429 past the limit), as for API tokens.
    limiter: app.hasDecorator('auth') ? app.auth.limiter : undefined,
    // Allowed browser origin for a WHIP page served elsewhere ('' = same origin only).
    corsOrigin: app.config.http.corsOrigin,
  };
  // Encapsulated: the SDP body parser exists only for these routes.
  const cors = sdpRouteCommon(app, o.corsOrigin);

  const streamKeyOf = (req: Parameters<typeof bearerToken>[0]): string => {
    const key = bearerToken(req);
    if (!key) throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'WHIP needs "Authorization: Bearer <stream key>"');
    return key;
  };

  app.post('/whip', async (req, reply) => {
    cors(reply);
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/sdp') throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'WHIP offers are sent as Content-Type: application/sdp');
    const streamKey = streamKeyOf(req);
    if (typeof req.body !== 'string') throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'the body must be an SDP offer');
    try {
      const r = await o.ingest.publish({ streamKey, offer: req.body, remoteAddress: req.ip });
      reply.header('location', `/whip/${r.sessionId}`);
      reply.header('etag', `"${r.sessionId}"`);
      reply.header('content-type', 'application/sdp');
      return reply.status(201).send(r.answer);
    } catch (err) {
      // Only a bad key counts, and only it is answered 429 once the address failed too often.
      if (err instanceof ShowcaseError && err.code === 'SHOWCASE_ERR_RTMP_BAD_KEY') o.limiter?.failure(req.ip);
      throw err;
    }
  });

  app.delete<{ Params: Static<typeof SessionParams> }>('/whip/:id', { schema: { params: SessionParams } }, async (req, reply) => {
    cors(reply);
    const streamKey = streamKeyOf(req);
    // An unknown session and a wrong key look the same: session ids cannot be probed.
    if (!o.ingest.stop(req.params.id, streamKey)) {
      o.limiter?.failure(req.ip);
      throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no WHIP session with that id for this key');
    }
    return reply.status(200).send();
  });

  // Trickle ICE and ICE restarts are not offered: the answer carries every candidate (ICE-lite).
  app.patch('/whip/:id', async (_req, reply) => {
    cors(reply);
    return reply.status(405).header('allow', 'DELETE').send(new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'trickle ICE is not supported: the answer already lists every server candidate').toJSON());
  });

  if (o.corsOrigin) {
    for (const url of ['/whip', '/whip/:id']) {
      app.options(url, async (_req, reply) => {
        cors(reply);
        reply.header('access-control-allow-methods', 'POST, DELETE, PATCH, OPTIONS');
        reply.header('access-control-allow-headers', 'authorization, content-type, if-match');
        return reply.status(204).send();
      });
    }
  }
}

/** WHIP as a plugin: registered only with WebRTC on (the whip service exists); the auth limiter when registered. */
export const whipRoutes = fp(whip, {
  name: 'showcase-whip-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'whip'),
});
