import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../../core/errors.js';
import { sdpRouteCommon } from '../../http/sdp-routes-common.js';
import { dependsOn } from '../../http/services.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });

/**
 * WHEP playback: `POST /whep/<streamId>` with a viewer's SDP offer (no auth: streams are public)
 * answers 201 with the SDP answer and `Location: /whep/<session>`; `DELETE /whep/<session>` stops.
 * The session id (128 random bits) is the only credential a DELETE needs.
 */
async function whep(app: FastifyInstance): Promise<void> {
  // corsOrigin: allowed browser origin for a player page served elsewhere ('' = same origin only).
  const o = { playback: app.whep, corsOrigin: app.config.http.corsOrigin };
  // Encapsulated: the SDP body parser exists only for these routes.
  const cors = sdpRouteCommon(app, o.corsOrigin);

  app.post<{ Params: Static<typeof IdParams> }>('/whep/:id', { schema: { params: IdParams } }, async (req, reply) => {
    cors(reply);
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/sdp') throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'WHEP offers are sent as Content-Type: application/sdp');
    if (typeof req.body !== 'string') throw new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'the body must be an SDP offer');
    const r = await o.playback.play({ streamId: req.params.id, offer: req.body, remoteAddress: req.ip });
    reply.header('location', `/whep/${r.sessionId}`);
    reply.header('etag', `"${r.sessionId}"`);
    reply.header('content-type', 'application/sdp');
    return reply.status(201).send(r.answer);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/whep/:id', { schema: { params: IdParams } }, async (req, reply) => {
    cors(reply);
    if (!o.playback.stop(req.params.id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no WHEP session with that id');
    return reply.status(200).send();
  });

  // Trickle ICE and ICE restarts are not offered: the answer carries every candidate (ICE-lite).
  app.patch('/whep/:id', async (_req, reply) => {
    cors(reply);
    return reply.status(405).header('allow', 'DELETE').send(new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', 'trickle ICE is not supported: the answer already lists every server candidate').toJSON());
  });

  if (o.corsOrigin) {
    app.options('/whep/:id', async (_req, reply) => {
      cors(reply);
      reply.header('access-control-allow-methods', 'POST, DELETE, PATCH, OPTIONS');
      reply.header('access-control-allow-headers', 'content-type, if-match');
      return reply.status(204).send();
    });
  }
}

/** WHEP as a plugin: registered only with WebRTC on (the whep service exists). */
export const whepRoutes = fp(whep, {
  name: 'showcase-whep-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'whep'),
});
