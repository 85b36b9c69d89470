#!/usr/bin/env node
// Builds the room fan-out addon (native/room-fanout/room-fanout.c, N-API) into
// dist/native/room-fanout.node with the C compiler setup installs and the headers of the Node that
// runs this script (its include/node). Rebuilt only when the source is newer than the addon. Where
// there is no compiler or no headers (a machine that skipped scripts/setup.sh) it says so and stops
// without failing: the room server then writes its fan-out from JavaScript (src/room/native-fanout.ts).
// Usage: node scripts/build-native.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native/room-fanout/room-fanout.c');
const out = join(root, 'dist/native/room-fanout.node');
const include = resolve(dirname(process.execPath), '..', 'include', 'node');
const cc = process.env.CC || 'cc';

if (process.platform !== 'linux') {
  console.log(`build-native: ${process.platform} is not Linux; the room fan-out stays in JavaScript`);
  process.exit(0);
}
if (!process.argv.includes('--force') && existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) process.exit(0);
if (!existsSync(join(include, 'node_api.h'))) {
  console.log(`build-native: no Node headers at ${include}; the room fan-out stays in JavaScript (run scripts/setup.sh)`);
  process.exit(0);
}
try {
  execFileSync(cc, ['--version'], { stdio: 'ignore' });
} catch {
  console.log(`build-native: no C compiler (${cc}); the room fan-out stays in JavaScript (run scripts/setup.sh)`);
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c11', '-shared', '-fPIC', '-pthread', `-I${include}`, src, '-o', tmp], { stdio: 'inherit' });
renameSync(tmp, out);
console.log(`build-native: ${out}`);
