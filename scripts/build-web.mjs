#!/usr/bin/env node
// Bundles the web pages with esbuild into dist/web/: the shopper's watch page (src/web/watch/),
// the creator's studio page (src/web/studio/), the Live home page (src/web/home/) and creators'
// storefronts (src/web/storefront/). Each gets content-hashed JS and CSS (plus .gz/.br
// copies the server sends when asked) and its HTML template; manifest.json lists them for
// src/http/watch-routes.ts and src/http/studio-routes.ts. hls.js and mediasoup-client are bundled,
// so nothing comes from a CDN at run time.
// Usage: node scripts/build-web.mjs [--outdir dist/web] [--no-minify]
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const outdir = resolve(root, arg('--outdir') ?? 'dist/web');
const minify = !process.argv.includes('--no-minify');
/** Writes through a temporary name and a rename, so a reader sees the old file or the new one. */
const writeAtomic = (file, body) => {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
};
/** One entry per page: its folder under src/web and the files named after it there. */
const pages = ['watch', 'studio', 'home', 'storefront'].map((name) => ({ name, dir: join(root, 'src/web', name) }));

mkdirSync(outdir, { recursive: true });
// One build at a time per folder (test files may start builds side by side): an atomic mkdir lock,
// taken over when its holder has been gone for a minute.
const lock = `${outdir}.lock`;
for (let waited = 0; ; waited += 100) {
  try {
    mkdirSync(lock);
    break;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
    } catch {
      /* released meanwhile */
    }
    if (waited > 120_000) throw new Error(`build-web: ${lock} held for two minutes`, { cause: err });
    await sleep(100);
  }
}
process.on('exit', () => rmSync(lock, { recursive: true, force: true }));
// The previous build's hashed files, removed once the new ones are written (not before, so a
// server reading this folder meanwhile never finds a file of the manifest it read missing).
const manifestFile = join(outdir, 'manifest.json');
let previous = [];
if (existsSync(manifestFile)) {
  try {
    previous = JSON.parse(readFileSync(manifestFile, 'utf8')).files ?? [];
  } catch {
    /* an unreadable manifest: overwrite it */
  }
}

const t0 = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: pages.flatMap((p) => [
    { in: join(p.dir, `${p.name}.ts`), out: p.name },
    { in: join(p.dir, `${p.name}.css`), out: p.name },
  ]),
  outdir,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify,
  sourcemap: 'linked',
  format: 'iife',
  platform: 'browser',
  // iOS/Safari 14.1+ (14.0's destructuring bug would force esbuild to down-level hls.js) and evergreen browsers.
  target: ['es2020', 'chrome87', 'edge88', 'firefox78', 'safari14.1', 'ios14.5'],
  // hls.js's light build: everything this page uses (LL-HLS, ABR, fMP4) without subtitles, EME,
  // alternate audio, CMCD or interstitials, about 220 KB less to download on a phone.
  alias: { 'hls.js': 'hls.js/light' },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

// The push service worker (src/web/push/sw.ts): a fixed name, served at /sw.js so its scope is the whole site.
await build({
  absWorkingDir: root, entryPoints: [join(root, 'src/web/push/sw.ts')], outfile: join(outdir, 'sw.js'),
  bundle: true, minify, format: 'iife', platform: 'browser', target: ['es2020'], logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const built = {};
for (const p of pages) {
  const js = outputs.find((f) => new RegExp(`^${p.name}-[A-Z0-9]+\\.js$`, 'i').test(f));
  const css = outputs.find((f) => new RegExp(`^${p.name}-[A-Z0-9]+\\.css$`, 'i').test(f));
  if (!js || !css) throw new Error(`build-web: expected ${p.name}-*.js and ${p.name}-*.css, got ${outputs.join(', ')}`);
  writeAtomic(join(outdir, `${p.name}.html`), readFileSync(join(p.dir, `${p.name}.html`)));
  built[p.name] = { js, css, html: `${p.name}.html` };
}

const files = outputs.filter((f) => /\.(js|css|map|txt)$/.test(f));
for (const f of files.filter((f) => /\.(js|css)$/.test(f))) {
  const body = readFileSync(join(outdir, f));
  writeAtomic(join(outdir, `${f}.gz`), gzipSync(body, { level: 9 }));
  writeAtomic(join(outdir, `${f}.br`), brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}
// Top-level js/css/html stay the watch page's (what earlier readers of the manifest expect).
writeAtomic(manifestFile, `${JSON.stringify({ ...built.watch, pages: built, files, builtAt: new Date().toISOString() }, null, 2)}\n`);
for (const f of previous) {
  if (files.includes(basename(f))) continue;
  for (const suffix of ['', '.gz', '.br']) rmSync(join(outdir, basename(f) + suffix), { force: true });
}
const size = (f) => `${(readFileSync(join(outdir, f)).length / 1024).toFixed(0)} KiB (${(readFileSync(join(outdir, `${f}.br`)).length / 1024).toFixed(0)} KiB br)`;
console.log(`build-web: ${Object.values(built).map((b) => `${b.js} ${size(b.js)}, ${b.css} ${size(b.css)}`).join('; ')} -> ${outdir} in ${Date.now() - t0} ms`);
