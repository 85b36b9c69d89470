import fp from 'fastify-plugin';
import { dependsOn } from './services.js';

/**
 * Every HTTP response observed for /metrics (route pattern, method, status, duration). Not
 * encapsulated: the hook sits on the root, so it must be registered before the route plugins.
 */
export const httpMetrics = fp(async (app) => {
  app.addHook('onResponse', async (req, reply) => {
    app.appMetrics.observeHttp(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });
}, { name: 'showcase-http-metrics', fastify: '5.x', dependencies: dependsOn('appMetrics') });
