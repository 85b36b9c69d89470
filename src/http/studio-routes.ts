import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { defaultWebAssetsDir, loadAssets, render, type LoadedAssets } from './watch-routes.js';
import { dependsOn } from './services.js';

export interface StudioRoutesOptions {
  /** Where scripts/build-web.mjs wrote the pages (manifest.json, studio.html, hashed JS/CSS); dist/web by default. */
  assetsDir?: string;
}

/**
 * The creator's studio page: GET /studio (camera preview, stream key, Go live / Stop over the
 * WebSocket signaling) and its bundled script and styles under /assets/studio/*. The page holds no
 * secret: the key is typed in by the creator and sent only over the signaling socket.
 */
async function studio(app: FastifyInstance, opts: StudioRoutesOptions): Promise<void> {
  // The WebSocket signaling path the page connects to (for its Content-Security-Policy).
  const o = { assetsDir: opts.assetsDir ?? defaultWebAssetsDir(), signalPath: app.signaling.path };
  const log = app.log as unknown as Logger;
  let loaded: { assets: LoadedAssets; template: string; js: string; css: string } | undefined;
  let warned = false;
  const get = (): NonNullable<typeof loaded> => {
    if (!loaded) {
      const assets = loadAssets(o.assetsDir);
      const page = assets?.manifest.pages?.studio;
      if (assets && page) loaded = { assets, template: readFileSync(join(o.assetsDir, page.html), 'utf8'), js: page.js, css: page.css };
    }
    if (!loaded) {
      if (!warned) log.warn({ assetsDir: o.assetsDir }, 'studio page not built: run node scripts/build-web.mjs');
      warned = true;
      throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'the studio page is not built on this server');
    }
    return loaded;
  };

  app.get('/studio', async (req, reply) => {
    const a = get();
    // 'self' covers same-host ws:/wss: in current browsers; the explicit URL is for older Safari.
    const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host ?? '') ? req.headers.host! : '';
    // The signaling socket, and the control room's room sockets (/v1/streams/:id/room).
    const ws = host ? ` ws://${host}${o.signalPath} wss://${host}${o.signalPath} ws://${host}/v1/streams/ wss://${host}/v1/streams/` : '';
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('cache-control', 'no-cache');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // The camera page is never framed by another site (a click-jacked Go live would broadcast someone).
    reply.header('x-frame-options', 'DENY');
    reply.header('permissions-policy', 'camera=(self), microphone=(self)');
    reply.header('content-security-policy', `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self'${ws}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`);
    return reply.send(render(a.template, { js: `/assets/studio/${a.js}`, css: `/assets/studio/${a.css}` }));
  });
}

/** The studio page as a plugin: registered only with WebRTC on (it needs the signaling socket). */
export const studioRoutes = fp(studio, {
  name: 'showcase-studio-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('signaling'),
});
