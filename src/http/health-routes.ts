import fp from 'fastify-plugin';
import { dependsOn } from './services.js';

/** GET /healthz: the process answers and how many streams are live (load balancers, .ci/run). */
export const healthRoutes = fp(async (app) => {
  app.get('/healthz', async () => ({ ok: true, streamsLive: app.registry.liveCount() }));
}, { name: 'showcase-health-routes', fastify: '5.x', encapsulate: true, dependencies: dependsOn('registry') });
