import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../core/logger.js';
import { migrate } from './migrations.js';
import { StoreError, isStoreError } from './store-error.js';

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** True for the in-memory / temporary database names SQLite gives special meaning to. */
export function isMemoryPath(file: string): boolean {
  return file === ':memory:' || file === '' || file.startsWith('file::memory:');
}

/**
 * Turns whatever opening or migrating threw into a StoreError with the right code. SQLite reports
 * a garbage file as SQLITE_NOTADB and a damaged one as SQLITE_CORRUPT; everything else that stops
 * us from opening (CANTOPEN, PERM, READONLY, IOERR_*, FULL, BUSY, fs errors) means the file is
 * unavailable rather than bad, and the operator's fix is different, hence a different code.
 */
export function toStoreError(err: unknown, file: string): StoreError {
  if (isStoreError(err)) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError('SHOWCASE_ERR_STORE_CORRUPT', file, `store ${file} is not a valid database (${code}: ${detail}); restore a backup or move the file away`, { cause: err });
  }
  return new StoreError('SHOWCASE_ERR_STORE_UNAVAILABLE', file, `store ${file} cannot be opened for writing (${code || 'error'}: ${detail})`, { cause: err });
}

/** Fails early, with a plain message, for a path that exists but is not a regular file. */
function checkPath(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // A new store: create its folder (the data dir may not exist on first start).
      mkdirSync(dirname(file), { recursive: true });
      return;
    }
    throw err;
  }
  if (!isFile) throw new StoreError('SHOWCASE_ERR_STORE_UNAVAILABLE', file, `store path ${file} exists but is not a regular file`);
}

/**
 * Opens (creating if needed) the database file, sets the connection up (WAL, synchronous=NORMAL,
 * foreign keys, busy timeout) and migrates it. Returns the handle and its schema version, or
 * throws a StoreError; the handle is closed on failure.
 */
export function openDatabase(file: string, logger?: Logger): { db: Database.Database; schemaVersion: number } {
  let db: Database.Database | undefined;
  try {
    if (!isMemoryPath(file)) checkPath(file);
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // The first statement reads the header: a garbage file fails here with SQLITE_NOTADB.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const journal = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (journal !== 'wal' && !isMemoryPath(file)) {
      logger?.warn({ file, journal }, 'store could not switch to WAL journaling; concurrency and durability are reduced');
    }
    // With WAL, NORMAL only risks the last transactions on power loss, never the file's integrity.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Migrations run in an IMMEDIATE transaction, which also proves the file is writable now
    // rather than at the first API write.
    const schemaVersion = migrate(db, file, logger);
    logger?.debug({ file, schemaVersion, journal }, 'store opened');
    return { db, schemaVersion };
  } catch (err) {
    try {
      db?.close();
    } catch {
      // Already failing; the original error is the one worth reporting.
    }
    throw toStoreError(err, file);
  }
}
