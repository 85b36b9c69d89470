import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ShowcaseError } from '../core/errors.js';

export interface WebAssetsOptions {
  /** dist/web: what scripts/build-web.mjs wrote (hashed files, their .br/.gz, manifest.json). */
  assetsDir: string;
  /** The pages whose files are served, each under /assets/<page>/. */
  pages: readonly string[];
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/**
 * The pages' bundled files under /assets/<page>/<file>, served from disk by @fastify/static with
 * the brotli/gzip copies the build made (preCompressed), immutable caching (the names carry a
 * content hash, so a new build gets new names) and nosniff. Only names the build's manifest lists
 * are served: anything else, traversal-shaped names included, is a 404 before the file system is
 * touched. The manifest is re-read when the build replaces it.
 */
async function assets(app: FastifyInstance, o: WebAssetsOptions): Promise<void> {
  const manifestFile = join(o.assetsDir, 'manifest.json');
  let listed = new Set<string>();
  let seenMtime = -1;
  const isListed = (name: string): boolean => {
    const mtime = existsSync(manifestFile) ? statSync(manifestFile).mtimeMs : 0;
    if (mtime !== seenMtime) {
      seenMtime = mtime;
      listed = mtime ? new Set((JSON.parse(readFileSync(manifestFile, 'utf8')) as { files: string[] }).files) : new Set();
    }
    return NAME.test(name) && listed.has(name);
  };
  for (const page of o.pages) {
    const prefix = `/assets/${page}/`;
    await app.register(async (scope) => {
      scope.addHook('onRequest', async (req) => {
        const raw = (req.url.split('?')[0] ?? '').slice(prefix.length);
        let name: string;
        try {
          name = decodeURIComponent(raw);
        } catch {
          name = '';
        }
        if (!isListed(name)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such asset');
      });
      await scope.register(fastifyStatic, {
        root: o.assetsDir,
        prefix,
        decorateReply: false,
        preCompressed: true,
        immutable: true,
        maxAge: '365d',
        index: false,
        list: false,
        dotfiles: 'deny',
        // The pages may not be built yet when the server starts (the watch route says so then).
        suppressWarning: true,
        setHeaders: (reply) => reply.header('x-content-type-options', 'nosniff'),
      });
    });
  }
}

/** The pages' bundles as a plugin (options: where the build wrote them, which pages). */
export const webAssets = fp(assets, { name: 'showcase-web-assets', fastify: '5.x', encapsulate: true });
