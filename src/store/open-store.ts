import { join, resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import { openPgStore, redactUrl } from './pg-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

/** Where the store lives, from config (store.url, dataDir). */
export interface StoreLocation {
  /** '' for the embedded SQLite file; postgres://… for PostgreSQL. */
  url: string;
  dataDir: string;
  maxConnections?: number;
  logger?: Logger;
}

/** True when url selects PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** Opens (and migrates) the configured store: PostgreSQL for a postgres:// url, else SQLite in the data dir. */
export async function openStore(o: StoreLocation): Promise<Store> {
  if (isPostgresUrl(o.url)) {
    const store = await openPgStore({ url: o.url, logger: o.logger, maxConnections: o.maxConnections });
    o.logger?.info({ store: 'postgres', url: redactUrl(o.url), schemaVersion: store.schemaVersion }, 'store opened');
    return store;
  }
  const file = join(resolve(o.dataDir), 'showcase.db');
  const store = openSqliteStore({ file, logger: o.logger });
  o.logger?.info({ store: 'sqlite', file, schemaVersion: store.schemaVersion }, 'store opened');
  return store;
}
