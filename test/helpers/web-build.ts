// The web pages the e2e tests load (scripts/build-web.mjs into dist/web). `npm test` builds them
// first; a test run on its own builds them only when dist/web is missing or older than its sources,
// so test files running side by side do not rebuild (and delete) the files each other's servers serve.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'scripts', 'build-web.mjs');

/** The newest modification time under a folder (files only), 0 when it has none. */
function newest(dir: string): number {
  let latest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) latest = Math.max(latest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return latest;
}

/** Whether dist/web's manifest is at least as new as src/web and the build script. */
export function webBuildFresh(outdir = join(root, 'dist', 'web')): boolean {
  const manifest = join(outdir, 'manifest.json');
  if (!existsSync(manifest)) return false;
  return statSync(manifest).mtimeMs >= Math.max(newest(join(root, 'src', 'web')), statSync(script).mtimeMs);
}

/**
 * Builds the pages into `outdir` (dist/web by default) unless they are already fresh there. A
 * private outdir (a test's own temp folder) is always built. Throws with esbuild's output on failure.
 */
export function ensureWebBuilt(outdir?: string): void {
  if (outdir === undefined && webBuildFresh()) return;
  try {
    execFileSync(process.execPath, [script, ...(outdir ? ['--outdir', outdir] : [])], { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`scripts/build-web.mjs failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, { cause: err });
  }
}
