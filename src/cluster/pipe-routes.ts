import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { dependsOn } from '../http/services.js';
import type { ClusterPipes } from './cluster-pipes.js';
import { NODE_HEADER, SECRET_HEADER, secretMatches, type PipeEvent } from './pipe-protocol.js';

const ID = '^[A-Za-z0-9_-]{1,64}$';
const PipeParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const OpenBody = Type.Object({ streamId: Type.String({ pattern: ID }) }, { additionalProperties: false });
const Srtp = Type.Object({ cryptoSuite: Type.String({ maxLength: 64 }), keyBase64: Type.String({ maxLength: 256 }) }, { additionalProperties: false });
const EndpointBody = Type.Object({ ip: Type.String({ minLength: 2, maxLength: 253 }), port: Type.Integer({ minimum: 1, maximum: 65535 }), srtpParameters: Srtp }, { additionalProperties: false });
const EventBody = Type.Union([
  Type.Object({ type: Type.Union([Type.Literal('paused'), Type.Literal('resumed')]), producerId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('closed'), reason: Type.String({ maxLength: 500 }) }, { additionalProperties: false }),
]);

/**
 * The node-to-node routes of the WebRTC pipe (src/cluster/pipe-*.ts), every one behind the cluster
 * secret (SHOWCASE_ERR_CLUSTER_UNAUTHORIZED otherwise) and naming its node in a header:
 *   POST   /v1/cluster/pipes               {streamId}          the holder opens a pipe: its end and codecs
 *   POST   /v1/cluster/pipes/:id/connect   {ip, port, srtp}    the holder connects to the viewer node's end
 *   GET    /v1/cluster/pipes/:id                               keep-alive; the producers' pause state
 *   DELETE /v1/cluster/pipes/:id                               the viewer node is done with it
 *   POST   /v1/cluster/pipes/:id/events    {type, ...}         the holder tells the viewer node (pause, end)
 * and, for the operator (its token), GET /v1/cluster/pipes: every pipe held and taken, with its SRTP
 * suite (never the key), addresses and bytes.
 */
async function pipeRoutes(app: FastifyInstance, o: { pipes: ClusterPipes }): Promise<void> {
  const { holder, sources, secret } = o.pipes;
  const peer = (req: FastifyRequest): string => {
    const node = req.headers[NODE_HEADER];
    if (!secretMatches(req.headers[SECRET_HEADER], secret) || typeof node !== 'string' || !new RegExp(ID).test(node)) {
      throw new ShowcaseError('SHOWCASE_ERR_CLUSTER_UNAUTHORIZED', 'node-to-node requests carry the cluster secret and the node id');
    }
    return node;
  };

  app.get('/v1/cluster/pipes', async (req) => {
    const p = await app.auth.requireAuthenticated(req);
    if (p.role !== 'operator') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only the operator sees the cluster');
    return { self: app.cluster.id, holding: await holder.views(), taking: await sources.views(), opened: sources.opened, holderGone: sources.holderGone };
  });

  app.post<{ Body: Static<typeof OpenBody> }>('/v1/cluster/pipes', { schema: { body: OpenBody } }, async (req, reply) => {
    const node = peer(req);
    return reply.status(201).send(await holder.open(req.body.streamId, node));
  });

  app.post<{ Params: Static<typeof PipeParams>; Body: Static<typeof EndpointBody> }>('/v1/cluster/pipes/:id/connect', { schema: { params: PipeParams, body: EndpointBody } }, async (req) => {
    const node = peer(req);
    return holder.connect(req.params.id, node, { ip: req.body.ip, port: req.body.port, srtpParameters: req.body.srtpParameters as never });
  });

  app.get<{ Params: Static<typeof PipeParams> }>('/v1/cluster/pipes/:id', { schema: { params: PipeParams } }, async (req, reply) => {
    const node = peer(req);
    reply.header('cache-control', 'no-store');
    return holder.keepalive(req.params.id, node);
  });

  app.delete<{ Params: Static<typeof PipeParams> }>('/v1/cluster/pipes/:id', { schema: { params: PipeParams } }, async (req) => {
    const node = peer(req);
    holder.remove(req.params.id, node);
    return {};
  });

  app.post<{ Params: Static<typeof PipeParams>; Body: Static<typeof EventBody> }>('/v1/cluster/pipes/:id/events', { schema: { params: PipeParams, body: EventBody } }, async (req) => {
    const node = peer(req);
    if (!sources.onEvent(node, req.params.id, req.body as PipeEvent)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such pipe');
    return {};
  });
}

/** The pipe's routes: registered only when clustered with a cluster.secret and WebRTC on. */
export const clusterPipeRoutes = fp(pipeRoutes, {
  name: 'showcase-cluster-pipe-routes',
  fastify: '5.x',
  dependencies: dependsOn('cluster', 'auth'),
});
