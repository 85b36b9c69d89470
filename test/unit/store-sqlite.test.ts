import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backupStore } from '../../src/store/backup.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, assertMigrationsOrdered, migrate } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { StoreError } from '../../src/store/store-error.js';
import { creator, stream } from '../store/store-contract.js';

/** A fresh temp dir for this test (tap deletes it afterwards) and the db path inside it. */
function dbPath(t: Test, name = 'showcase.db'): string {
  return join(t.testdir(), name);
}


/** Runs fn and returns what it threw (fails the test when it throws nothing). */
function caught(t: Test, fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  t.fail('expected a throw');
  return undefined;
}

t.test('a new file is created, migrated to the latest version, in WAL mode', async (t) => {
  const file = join(t.testdir(), 'nested', 'dir', 'showcase.db');
  const store = openSqliteStore({ file });
  t.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
  t.ok(LATEST_SCHEMA_VERSION >= 2);
  await store.close();
  await store.close(); // idempotent
  const raw = new Database(file, { readonly: true });
  t.equal(raw.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  // Each feature adds its tables; listing every one here would make each migration edit this line.
  for (const name of ['creators', 'recordings', 'stream_analytics', 'stream_analytics_minutes', 'streams', 'shoppers', 'room_messages',
    'room_bans', 'room_blocked_words', 'room_minutes', 'followers', 'products', 'highlights', 'creator_commerce', 'clicks', 'conversions', 'promos']) t.ok(tables.includes(name), `table ${name}`);
  const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'streams'").pluck().all() as string[];
  t.ok(indexes.includes('streams_by_owner_created'));
  raw.close();
});

t.test('a file of random bytes fails with STORE_CORRUPT and is left untouched', async (t) => {
  const file = dbPath(t);
  const garbage = randomBytes(8192);
  writeFileSync(file, garbage);
  const err = caught(t, () => openSqliteStore({ file }));
  t.type(err, StoreError);
  t.equal((err as StoreError).code, 'SHOWCASE_ERR_STORE_CORRUPT');
  t.equal((err as StoreError).exitCode, 65);
  t.equal((err as StoreError).file, file);
  t.ok(readFileSync(file).equals(garbage), 'the bad file is not modified');
});

t.test('a file from a newer schema fails with STORE_TOO_NEW and is left untouched', async (t) => {
  const file = dbPath(t);
  const raw = new Database(file);
  raw.pragma('user_version = 999');
  raw.close();
  const err = caught(t, () => openSqliteStore({ file }));
  t.type(err, StoreError);
  t.equal((err as StoreError).code, 'SHOWCASE_ERR_STORE_TOO_NEW');
  t.equal((err as StoreError).exitCode, 66);
  t.match((err as StoreError).message, /999/);
  const check = new Database(file, { readonly: true });
  t.equal(check.pragma('user_version', { simple: true }), 999);
  t.same(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [], 'no tables created');
  check.close();
});

t.test('an unusable path fails with STORE_UNAVAILABLE', async (t) => {
  const dir = t.testdir();
  const asDir = join(dir, 'is-a-dir.db');
  mkdirSync(asDir);
  const err = caught(t, () => openSqliteStore({ file: asDir }));
  t.type(err, StoreError);
  t.equal((err as StoreError).code, 'SHOWCASE_ERR_STORE_UNAVAILABLE');
  t.equal((err as StoreError).exitCode, 74);

  const plain = join(dir, 'plain-file');
  writeFileSync(plain, 'x');
  const under = caught(t, () => openSqliteStore({ file: join(plain, 'sub', 'showcase.db') }));
  t.equal((under as StoreError).code, 'SHOWCASE_ERR_STORE_UNAVAILABLE', 'parent is a regular file');

  await t.rejects(backupStore(join(dir, 'does-not-exist.db'), join(dir, 'b.db')), { code: 'SHOWCASE_ERR_STORE_UNAVAILABLE' });
});

t.test('the three exit codes are distinct', async (t) => {
  const codes = ['SHOWCASE_ERR_STORE_CORRUPT', 'SHOWCASE_ERR_STORE_TOO_NEW', 'SHOWCASE_ERR_STORE_UNAVAILABLE'] as const;
  const exits = codes.map((c) => new StoreError(c, 'f', 'm').exitCode);
  t.same(exits, [65, 66, 74]);
  t.equal(new Set(exits).size, 3);
});

t.test('migrations: ordered, idempotent, and all-or-nothing', async (t) => {
  t.doesNotThrow(() => assertMigrationsOrdered());
  t.throws(() => assertMigrationsOrdered([{ version: 2, description: 'x', sql: '' }]));
  t.equal(LATEST_SCHEMA_VERSION, MIGRATIONS.length);

  const file = dbPath(t);
  await openSqliteStore({ file }).close();
  const raw = new Database(file);
  t.teardown(() => raw.close());
  t.equal(migrate(raw, file), LATEST_SCHEMA_VERSION, 're-running is a no-op');

  const broken = [
    ...MIGRATIONS,
    { version: MIGRATIONS.length + 1, description: 'half good', sql: 'CREATE TABLE half (id TEXT); THIS IS NOT SQL;' },
  ];
  t.throws(() => migrate(raw, file, undefined, broken));
  t.equal(raw.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION, 'version unchanged');
  t.same(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all(), [], 'partial step rolled back');

  const next = [...MIGRATIONS, { version: MIGRATIONS.length + 1, description: 'add column', sql: 'ALTER TABLE streams ADD COLUMN x TEXT' }];
  t.equal(migrate(raw, file, undefined, next), LATEST_SCHEMA_VERSION + 1);
});

t.test('backup while the store is open and being written produces a readable copy', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'live.db');
  const store = openSqliteStore({ file });
  t.teardown(() => store.close());
  await store.createCreator(creator('c1'));
  for (let i = 0; i < 200; i++) await store.createStream(stream(`s${i}`, { ownerId: 'c1', createdAt: i, extra: { pad: 'x'.repeat(500) } }));

  t.ok(store.backup, 'the SQLite store offers backup');
  const viaStore = join(dir, 'backups', 'via-store.db');
  const pending = backupStore(store, viaStore);
  await store.createStream(stream('during', { createdAt: 10_000 })); // a write while the backup runs
  await pending;

  const viaPath = join(dir, 'via-path.db');
  await backupStore(file, viaPath); // a second connection, as an operator's tool would use

  for (const copy of [viaStore, viaPath]) {
    // Checked before openSqliteStore below switches the copy to WAL.
    const plain = new Database(copy, { readonly: true });
    t.equal(plain.pragma('journal_mode', { simple: true }), 'delete', 'backup is one self-contained file');
    t.equal(plain.pragma('integrity_check', { simple: true }), 'ok');
    // SQLite carries writes made on the backing-up connection into a running backup.
    t.equal(plain.prepare("SELECT count(*) FROM streams WHERE id = 'during'").pluck().get(), 1, 'write made during the backup is in the copy');
    plain.close();

    const restored = openSqliteStore({ file: copy });
    t.equal(restored.schemaVersion, LATEST_SCHEMA_VERSION);
    t.same(await restored.getCreator('c1'), creator('c1'));
    t.equal((await restored.listStreams({ ownerId: 'c1', limit: 1000 })).items.length, 200, `${copy} has every stream`);
    t.equal((await restored.getStream('s7'))?.extra.pad, 'x'.repeat(500));
    await restored.close();
  }

  await t.rejects(store.backup!(file), /is the database itself/);
  t.equal((await store.getStream('s0'))?.id, 's0', 'store still works after backups');
});

t.test('migration 2 moves extra.recording and extra.analytics into their tables', async (t) => {
  const file = dbPath(t);
  // A file as version 1 left it, with recording and analytics data in extra.
  const raw = new Database(file);
  raw.exec(MIGRATIONS[0]!.sql);
  raw.pragma('user_version = 1');
  const insert = raw.prepare(`INSERT INTO streams (id, owner_id, title, description, stream_key_hash, stream_key_prefix, state, created_at, extra)
    VALUES (?, NULL, 't', '', ?, 'sk_', 'ended', 1, ?)`);
  insert.run('s1', 'k1', JSON.stringify({
    recording: { state: 'ready', startedAt: 10, renditions: ['720p', '360p'], mp4Rendition: '720p', durationSeconds: 61.5, sizeBytes: 123456, segments: 31, discontinuities: 0, readyAt: 99, finalizeMs: 1200.0, updatedAt: 100 },
    analytics: {
      watchSecondsLive: 120, watchSecondsReplay: 7.5, watchSecondsByProtocol: { hls: 100, webrtc: 27.5 }, uniqueViewers: 4, uniqueSketch: 'AAEC', peakViewers: 3,
      timeline: [{ startMs: 60000, viewersAvg: 1.5, viewersPeak: 3, watchSeconds: 90, ingestBitsPerSecond: 2500000 }, { startMs: 120000, viewersAvg: 0.5, viewersPeak: 1, watchSeconds: 30 }],
      updatedAt: 101,
    },
    keep: 'me',
  }));
  insert.run('s2', 'k2', JSON.stringify({ recording: { state: 'nonsense' } }));
  insert.run('s3', 'k3', '{}');
  raw.close();

  const store = openSqliteStore({ file });
  t.teardown(() => store.close());
  t.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
  t.same(await store.getRecording('s1'), { state: 'ready', startedAt: 10, renditions: ['720p', '360p'], mp4Rendition: '720p', durationSeconds: 61.5, sizeBytes: 123456, segments: 31, discontinuities: 0, readyAt: 99, finalizeMs: 1200, updatedAt: 100 });
  t.same(await store.getAnalytics('s1'), {
    watchSecondsLive: 120, watchSecondsReplay: 7.5, watchSecondsByProtocol: { hls: 100, webrtc: 27.5 }, uniqueViewers: 4, uniqueSketch: 'AAEC', peakViewers: 3,
    timeline: [{ startMs: 60000, viewersAvg: 1.5, viewersPeak: 3, watchSeconds: 90, ingestBitsPerSecond: 2500000 }, { startMs: 120000, viewersAvg: 0.5, viewersPeak: 1, watchSeconds: 30 }],
    updatedAt: 101,
  });
  t.same((await store.getStream('s1'))?.extra, { keep: 'me' }, 'the moved keys leave extra; others stay');
  t.equal(await store.getRecording('s2'), undefined, 'a state the table does not know is not carried over');
  t.same((await store.getStream('s2'))?.extra, {});
  t.equal(await store.getRecording('s3'), undefined);
  t.equal(await store.getAnalytics('s3'), undefined);
});
