#!/usr/bin/env node
import { ShowcaseApp } from './app.js';
import { ShowcaseError } from './core/errors.js';
import { isStoreError } from './store/store-error.js';

/** CLI entry: starts the server, stops it cleanly on SIGTERM/SIGINT, exits non-zero on a bad start. */
async function main(): Promise<void> {
  let app: ShowcaseApp;
  try {
    app = await ShowcaseApp.start();
  } catch (err) {
    const code = err instanceof ShowcaseError ? err.code : isStoreError(err) ? err.code : 'SHOWCASE_ERR_INTERNAL';
    process.stderr.write(`${JSON.stringify({ level: 60, time: new Date().toISOString(), code, msg: `showcase failed to start: ${(err as Error).message}` })}\n`);
    process.exit(isStoreError(err) ? err.exitCode : err instanceof ShowcaseError && err.code === 'SHOWCASE_ERR_CONFIG_INVALID' ? 78 : 1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'signal received');
    const force = setTimeout(() => process.exit(1), 15000);
    force.unref();
    app.stop().then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled rejection'));
}

void main();
