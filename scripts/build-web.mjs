#!/usr/bin/env node
// Bundles the shopper's watch page (src/web/watch/) with esbuild into dist/web/: content-hashed JS
// and CSS (plus .gz/.br copies the server sends when asked), the HTML template and manifest.json,
// which src/http/watch-routes.ts reads. hls.js is bundled, so nothing comes from a CDN at run time.
// Usage: node scripts/build-web.mjs [--outdir dist/web] [--no-minify]
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const outdir = resolve(root, arg('--outdir') ?? 'dist/web');
const minify = !process.argv.includes('--no-minify');
const src = join(root, 'src/web/watch');

mkdirSync(outdir, { recursive: true });
// Remove the previous build's hashed files so the folder does not grow with every build.
const manifestFile = join(outdir, 'manifest.json');
if (existsSync(manifestFile)) {
  try {
    for (const f of JSON.parse(readFileSync(manifestFile, 'utf8')).files ?? []) {
      for (const suffix of ['', '.gz', '.br']) rmSync(join(outdir, basename(f) + suffix), { force: true });
    }
  } catch {
    /* an unreadable manifest: overwrite it */
  }
}

const t0 = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: [
    { in: join(src, 'watch.ts'), out: 'watch' },
    { in: join(src, 'watch.css'), out: 'watch' },
  ],
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

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => /^watch-[A-Z0-9]+\.js$/i.test(f));
const css = outputs.find((f) => /^watch-[A-Z0-9]+\.css$/i.test(f));
if (!js || !css) throw new Error(`build-web: expected watch-*.js and watch-*.css, got ${outputs.join(', ')}`);
copyFileSync(join(src, 'watch.html'), join(outdir, 'watch.html'));

const files = outputs.filter((f) => /\.(js|css|map|txt)$/.test(f));
for (const f of files.filter((f) => /\.(js|css)$/.test(f))) {
  const body = readFileSync(join(outdir, f));
  writeFileSync(join(outdir, `${f}.gz`), gzipSync(body, { level: 9 }));
  writeFileSync(join(outdir, `${f}.br`), brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}
writeFileSync(manifestFile, `${JSON.stringify({ js, css, html: 'watch.html', files, builtAt: new Date().toISOString() }, null, 2)}\n`);
const size = (f) => `${(readFileSync(join(outdir, f)).length / 1024).toFixed(0)} KiB (${(readFileSync(join(outdir, `${f}.br`)).length / 1024).toFixed(0)} KiB br)`;
console.log(`build-web: ${js} ${size(js)}, ${css} ${size(css)} -> ${outdir} in ${Date.now() - t0} ms`);
