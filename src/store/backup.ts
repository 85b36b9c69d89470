import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { toStoreError } from './open-database.js';
import type { Store } from './types.js';

/**
 * Copies a live database to `dest` with SQLite's online backup API (page by page, without blocking
 * writers for long; safe while the server runs). The copy is written beside `dest` and renamed into
 * place, so `dest` is either the previous backup or a complete new one, never half a file. The copy
 * is switched to a rollback journal so it is one self-contained file.
 */
export async function backupDatabase(db: Database.Database, dest: string): Promise<void> {
  const target = resolve(dest);
  if (db.name !== ':memory:' && resolve(db.name) === target) throw new Error(`backup destination ${dest} is the database itself`);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await db.backup(tmp);
    const copy = new Database(tmp);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-journal`, { force: true });
    throw err;
  }
}

/**
 * Backs up a store to `destFile`: given a Store, through its own connection (Store.backup); given a
 * database path, through a separate read-only connection (works while the server has it open, WAL).
 */
export async function backupStore(source: string | Store, destFile: string): Promise<void> {
  if (typeof source !== 'string') {
    if (!source.backup) throw new Error('this store implementation does not support backup');
    return source.backup(destFile);
  }
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw toStoreError(err, source);
  }
  try {
    await backupDatabase(db, destFile);
  } finally {
    db.close();
  }
}
