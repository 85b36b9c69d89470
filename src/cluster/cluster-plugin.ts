import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { dependsOn } from '../http/services.js';
import { PROXIED_HEADER } from './hls-proxy.js';
import { ShowcaseError } from '../core/errors.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ANALYTICS_PATH = /^\/v1\/streams\/([A-Za-z0-9_-]{1,64})\/analytics(?:\?|$)/;

/**
 * Any node serves any stream: an /hls/ request for a stream this node does not have live, whose
 * lease another node in the set holds, is proxied to that node (src/cluster/hls-proxy.ts). It is an
 * onRequest hook on the root instance (this plugin is not encapsulated, on purpose) registered
 * before the HLS routes, so the routes themselves stay the single-node origin they were. A request
 * another node proxied here is never proxied again. GET /v1/streams/:id/analytics goes to the node
 * that owns the stream's analytics (the sum of every node's viewers) the same way.
 */
async function cluster(app: FastifyInstance): Promise<void> {
  const node = app.cluster;
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/hls/') || (req.method !== 'GET' && req.method !== 'HEAD') || req.headers[PROXIED_HEADER] !== undefined) return;
    const id = req.url.slice(5).split(/[/?]/, 1)[0]!;
    if (!ID.test(id)) return;
    const local = app.origin.get(id);
    if ((local && !local.ended) || app.registry.get(id)?.publisher) return;
    let url: string | undefined;
    try {
      url = await node.holderUrl(id);
    } catch (err) {
      // The store unreachable: answered locally (a 404, or a replay from a shared recording).
      req.log.warn({ err, streamId: id }, 'looking up the node holding a stream failed');
      return;
    }
    if (!url) return;
    return node.proxy.forward(req, reply, url);
  });

  // A stream's analytics are the sum its analytics owner keeps (src/cluster/cluster-audience.ts):
  // asked of another node, the question goes to the owner, which answers for the whole cluster.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' || req.headers[PROXIED_HEADER] !== undefined) return;
    const id = ANALYTICS_PATH.exec(req.url)?.[1];
    if (!id) return;
    const owner = await node.audience.ownerOf(id);
    const url = owner && owner !== node.id ? node.membership.node(owner)?.url : undefined;
    if (!url) return;
    return node.proxy.forward(req, reply, url, ['authorization']);
  });

  // The operator's view of the set as this node sees it (what placement chooses from).
  app.get('/v1/cluster/nodes', async (req) => {
    const p = await app.auth.requireAuthenticated(req);
    if (p.role !== 'operator') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only the operator sees the cluster');
    return { self: node.id, redisHealthy: node.membership.healthy, nodes: node.membership.nodes(), proxy: { inFlight: node.proxy.inFlight, proxied: node.proxy.proxied, failed: node.proxy.failed, rejected: node.proxy.rejected },
      audience: { healthy: node.audience.healthy, rounds: node.audience.rounds, failures: node.audience.failures } };
  });
}

/** The cluster's HTTP part (the HLS proxy, GET /v1/cluster/nodes); registered before the HLS routes, only when clustered. */
export const clusterPlugin = fp(cluster, {
  name: 'showcase-cluster-plugin',
  fastify: '5.x',
  dependencies: dependsOn('cluster', 'origin', 'registry', 'auth'),
});
