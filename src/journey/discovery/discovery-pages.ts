import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ShowcaseError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { defaultWebAssetsDir, escapeHtml, loadAssets, render } from '../../http/watch-routes.js';

const HANDLE = /^[a-z0-9_]{3,32}$/;

/** JSON that is safe inside a <script type="application/json"> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'strict-origin-when-cross-origin')
    .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'");
}

/**
 * The shopper's discovery pages, phone-first: the Live home page at `/` (featured slot, "Live now",
 * "Upcoming" with countdowns, from GET /v1/live) and a creator's storefront at `/c/:handle` (from
 * GET /v1/creators/:handle/storefront, with the follow button). Their scripts are bundled by
 * scripts/build-web.mjs (src/web/home, src/web/storefront) and served under /assets/<page>/.
 */
export function discoveryPages(app: FastifyInstance, o: { assetsDir?: string }): void {
  const dir = o.assetsDir ?? defaultWebAssetsDir();
  const log = app.log as unknown as Logger;
  const loaded = new Map<string, { template: string; js: string; css: string }>();
  const page = (name: 'home' | 'storefront'): { template: string; js: string; css: string } => {
    let p = loaded.get(name);
    if (!p) {
      const files = loadAssets(dir)?.manifest.pages?.[name];
      if (!files) {
        log.warn({ assetsDir: dir, page: name }, 'page not built: run node scripts/build-web.mjs');
        throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', `the ${name} page is not built on this server`);
      }
      p = { template: readFileSync(join(dir, files.html), 'utf8'), js: `/assets/${name}/${files.js}`, css: `/assets/${name}/${files.css}` };
      loaded.set(name, p);
    }
    return p;
  };

  app.get('/', async (_req, reply) => {
    const p = page('home');
    return htmlHeaders(reply).send(render(p.template, { js: p.js, css: p.css, config: scriptJson({ live: '/v1/live' }) }));
  });

  app.get<{ Params: { handle: string } }>('/c/:handle', async (req, reply) => {
    const { handle } = req.params;
    const c = HANDLE.test(handle) ? await app.store.getCreatorByHandle(handle) : undefined;
    if (!c || c.disabled) {
      htmlHeaders(reply).status(404);
      return reply.send('<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Not found</title><p style="font-family:system-ui;padding:2rem">No creator with that name here. <a href="/">See who is live</a>.</p>');
    }
    const p = page('storefront');
    const config = { handle: c.handle, creatorId: c.id, displayName: c.displayName, api: `/v1/creators/${c.handle}/storefront` };
    return htmlHeaders(reply).send(render(p.template, { js: p.js, css: p.css, name: escapeHtml(c.displayName), config: scriptJson(config) }));
  });
}
