import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { dependsOn } from '../../http/services.js';
import { CreatorDirectory } from './creator-directory.js';
import { baseUrl, liveRoute, type DiscoveryContext } from './live-routes.js';
import { storefrontRoute } from './storefront-routes.js';
import { productStreamsRoute } from './product-streams-routes.js';
import { discoveryPages } from './discovery-pages.js';
import { watchingNow } from '../../cluster/audience-views.js';

/** Test tunables only; settings come from the config service. */
export interface DiscoveryPluginOptions {
  /** Where scripts/build-web.mjs wrote the pages (dist/web by default). */
  assetsDir?: string;
}

/**
 * Discovery (issue 15): GET /v1/live in placement order, creators' storefronts
 * (GET /v1/creators/:handle/storefront, the page /c/:handle), product placements
 * (GET /v1/products/:ref/streams) and the Live home page (/), over one creator directory that
 * keeps creators' levels for journey.levelCacheMs.
 */
async function discovery(app: FastifyInstance, opts: DiscoveryPluginOptions): Promise<void> {
  const j = app.config.journey;
  const ctx: DiscoveryContext = {
    directory: new CreatorDirectory({ store: app.store, thresholds: j.levels, ttlMs: j.levelCacheMs, maxEntries: j.levelCacheSize }),
    // Clustered: summed across the nodes (src/cluster/audience-views.ts).
    viewersOf: (id) => watchingNow(app, id),
    base: (req) => baseUrl(req, app.config.publicBaseUrl),
  };
  liveRoute(app, ctx);
  storefrontRoute(app, ctx);
  productStreamsRoute(app, ctx);
  discoveryPages(app, { assetsDir: opts.assetsDir });
}

/** Discovery as a plugin over the store, the config and the watch ticker (current viewers). */
export const discoveryPlugin = fp(discovery, {
  name: 'showcase-discovery',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store', 'ticker'),
});
