import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ShowcaseError } from '../../src/core/errors.js';
import { backupStore } from '../../src/store/backup.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, assertMigrationsOrdered, migrate } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { StoreError } from '../../src/store/store-error.js';
import type { CreatorRecord, Store, StreamRecord } from '../../src/store/types.js';

/** A fresh temp dir for this test (tap deletes it afterwards) and the db path inside it. */
function dbPath(t: Test, name = 'showcase.db'): string {
  return join(t.testdir(), name);
}

function openFresh(t: Test): { store: Store; file: string } {
  const file = dbPath(t);
  const store = openSqliteStore({ file });
  t.teardown(() => store.close());
  return { store, file };
}

function creator(id: string, over: Partial<CreatorRecord> = {}): CreatorRecord {
  return { id, handle: `h-${id}`, displayName: `Creator ${id}`, tokenHash: `tok-${id}`, disabled: false, createdAt: 1_700_000_000_000, ...over };
}

function stream(id: string, over: Partial<StreamRecord> = {}): StreamRecord {
  return {
    id,
    ownerId: null,
    title: `Stream ${id}`,
    description: '',
    streamKeyHash: `key-${id}`,
    streamKeyPrefix: `sk_${id.slice(0, 4)}`,
    state: 'idle',
    createdAt: 1_700_000_000_000,
    startedAt: null,
    endedAt: null,
    endReason: null,
    extra: {},
    ...over,
  };
}

/** Expected order of listStreams: created_at DESC, id DESC. */
function newestFirst(a: StreamRecord, b: StreamRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
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
  t.ok(LATEST_SCHEMA_VERSION >= 1);
  store.close();
  store.close(); // idempotent
  const raw = new Database(file, { readonly: true });
  t.equal(raw.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  t.same(tables, ['creators', 'streams']);
  const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'streams'").pluck().all() as string[];
  t.ok(indexes.includes('streams_by_owner_created'));
  raw.close();
});

t.test('creators: create, get, lookups by handle and token hash, update', async (t) => {
  const { store } = openFresh(t);
  const a = store.createCreator(creator('a'));
  t.same(a, creator('a'));
  store.createCreator(creator('b', { disabled: true }));
  t.same(store.getCreator('a'), creator('a'));
  t.equal(store.getCreator('b')?.disabled, true);
  t.equal(store.getCreator('zzz'), undefined);
  t.equal(store.getCreatorByHandle('h-b')?.id, 'b');
  t.equal(store.getCreatorByHandle('nope'), undefined);
  t.equal(store.getCreatorByTokenHash('tok-a')?.id, 'a');
  t.equal(store.getCreatorByTokenHash('tok-zzz'), undefined);

  const updated = store.updateCreator('a', { tokenHash: 'tok-a2', disabled: true });
  t.same(updated, { ...creator('a'), tokenHash: 'tok-a2', disabled: true });
  t.equal(store.getCreatorByTokenHash('tok-a'), undefined, 'old token no longer resolves');
  t.equal(store.getCreatorByTokenHash('tok-a2')?.id, 'a');
  t.same(store.updateCreator('a', { displayName: 'Renamed', disabled: undefined }), { ...updated!, displayName: 'Renamed' });
  t.equal(store.updateCreator('missing', { disabled: true }), undefined);
});

t.test('constraint failures become coded ShowcaseErrors', async (t) => {
  const { store } = openFresh(t);
  store.createCreator(creator('a'));
  const dupHandle = caught(t, () => store.createCreator(creator('x', { handle: 'h-a' })));
  t.type(dupHandle, ShowcaseError);
  t.equal((dupHandle as ShowcaseError).code, 'SHOWCASE_ERR_CONFLICT');
  t.match((dupHandle as ShowcaseError).details, { constraint: 'creators.handle' });
  const dupToken = caught(t, () => store.createCreator(creator('y', { tokenHash: 'tok-a' })));
  t.equal((dupToken as ShowcaseError).code, 'SHOWCASE_ERR_CONFLICT');

  store.createStream(stream('s1'));
  const dupKey = caught(t, () => store.createStream(stream('s2', { streamKeyHash: 'key-s1' })));
  t.equal((dupKey as ShowcaseError).code, 'SHOWCASE_ERR_CONFLICT');
  const badOwner = caught(t, () => store.createStream(stream('s3', { ownerId: 'ghost' })));
  t.equal((badOwner as ShowcaseError).code, 'SHOWCASE_ERR_VALIDATION');
  const badState = caught(t, () => store.createStream(stream('s4', { state: 'paused' as never })));
  t.equal((badState as ShowcaseError).code, 'SHOWCASE_ERR_VALIDATION');
  const badExtra = caught(t, () => store.createStream(stream('s5', { extra: [1, 2] as never })));
  t.equal((badExtra as ShowcaseError).code, 'SHOWCASE_ERR_VALIDATION');
  t.equal(store.getStream('s3'), undefined, 'nothing written by failed inserts');
});

t.test('streams: create, get, lookup by key hash, delete', async (t) => {
  const { store } = openFresh(t);
  store.createCreator(creator('c1'));
  const rec = stream('s1', { ownerId: 'c1', description: 'bags', extra: { recording: { segments: 3 }, tags: ['a'] } });
  t.same(store.createStream(rec), rec);
  t.same(store.getStream('s1'), rec);
  t.same(store.getStreamByKeyHash('key-s1'), rec);
  t.equal(store.getStreamByKeyHash('key-none'), undefined);
  t.equal(store.getStream('none'), undefined);
  t.equal(store.deleteStream('s1'), true);
  t.equal(store.deleteStream('s1'), false);
  t.equal(store.getStream('s1'), undefined);
  t.equal(store.getStreamByKeyHash('key-s1'), undefined);
});

t.test('updateStream changes only the given fields and merges extra by top-level key', async (t) => {
  const { store } = openFresh(t);
  store.createCreator(creator('c1'));
  store.createStream(stream('s1', { extra: { recording: { state: 'off' }, analytics: { peak: 1 } } }));

  const live = store.updateStream('s1', { state: 'live', startedAt: 1_700_000_001_000, title: undefined });
  t.equal(live?.state, 'live');
  t.equal(live?.startedAt, 1_700_000_001_000);
  t.equal(live?.title, 'Stream s1', 'undefined leaves a field alone');
  t.same(live?.extra, { recording: { state: 'off' }, analytics: { peak: 1 } }, 'extra untouched when absent');

  const rec = store.updateStream('s1', { extra: { recording: { state: 'on', file: 'a.mp4' } } });
  t.same(rec?.extra, { recording: { state: 'on', file: 'a.mp4' }, analytics: { peak: 1 } }, 'other keys survive');

  const cleared = store.updateStream('s1', { extra: { analytics: null, flags: [1, 'two', true] } });
  t.same(cleared?.extra, { recording: { state: 'on', file: 'a.mp4' }, flags: [1, 'two', true] }, 'null removes a key');

  const ended = store.updateStream('s1', { state: 'ended', endedAt: 1_700_000_002_000, endReason: 'publisher-stopped', ownerId: 'c1' });
  t.equal(ended?.endReason, 'publisher-stopped');
  t.equal(ended?.ownerId, 'c1');
  t.equal(ended?.startedAt, 1_700_000_001_000);
  t.equal(ended?.createdAt, 1_700_000_000_000);

  const reset = store.updateStream('s1', { ownerId: null, startedAt: null, endedAt: null, endReason: null, state: 'idle' });
  t.same(reset, { ...stream('s1'), extra: { recording: { state: 'on', file: 'a.mp4' }, flags: [1, 'two', true] } }, 'null clears nullable fields');

  // id/createdAt are excluded by the type; a caller bypassing it must not change them either.
  const sneaky = store.updateStream('s1', { id: 'other', createdAt: 5 } as never);
  t.equal(sneaky?.id, 's1');
  t.equal(sneaky?.createdAt, 1_700_000_000_000);

  t.same(store.getStream('s1'), sneaky, 'returned record is what is stored');
  t.equal(store.updateStream('missing', { state: 'live' }), undefined);
  t.equal(store.getStream('missing'), undefined);

  store.createStream(stream('s2'));
  const dup = caught(t, () => store.updateStream('s2', { streamKeyHash: 'key-s1' }));
  t.equal((dup as ShowcaseError).code, 'SHOWCASE_ERR_CONFLICT');
  t.equal(store.getStream('s2')?.streamKeyHash, 'key-s2', 'failed update leaves the row as it was');
});

t.test('listStreamsInState finds streams a dead process left live', async (t) => {
  const { store } = openFresh(t);
  store.createStream(stream('a', { state: 'live', createdAt: 1 }));
  store.createStream(stream('b', { state: 'idle', createdAt: 2 }));
  store.createStream(stream('c', { state: 'live', createdAt: 3 }));
  store.createStream(stream('d', { state: 'ended', createdAt: 4 }));
  t.same(store.listStreamsInState('live').map((s) => s.id), ['c', 'a']);
  t.same(store.listStreamsInState('ended').map((s) => s.id), ['d']);
  t.same(store.listStreamsInState('idle').map((s) => s.id), ['b']);
  store.updateStream('a', { state: 'ended', endReason: 'interrupted' });
  t.same(store.listStreamsInState('live').map((s) => s.id), ['c']);
});

t.test('listStreams pages newest first with an opaque cursor, with and without an owner filter', async (t) => {
  const { store } = openFresh(t);
  store.createCreator(creator('alice'));
  store.createCreator(creator('bob'));
  const all: StreamRecord[] = [];
  for (let i = 0; i < 25; i++) {
    const ownerId = i % 3 === 0 ? 'alice' : i % 3 === 1 ? 'bob' : null;
    // Pairs share a timestamp so the id tie-break is exercised across page boundaries.
    const rec = stream(`s${String(i).padStart(2, '0')}`, { ownerId, createdAt: 1_700_000_000_000 + Math.floor(i / 2) * 1000 });
    all.push(rec);
  }
  // Insert out of order (odd indexes first, then even, each oldest first) so the result order
  // cannot come from insertion order or rowid.
  for (const rec of all.filter((_, i) => i % 2 === 1)) store.createStream(rec);
  for (const rec of all.filter((_, i) => i % 2 === 0)) store.createStream(rec);

  const collect = (ownerId: string | null | undefined, limit: number): { pages: string[][]; cursors: (string | null)[] } => {
    const pages: string[][] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | null = null;
    do {
      const page = store.listStreams({ ownerId, limit, cursor });
      pages.push(page.items.map((s) => s.id));
      cursors.push(page.nextCursor);
      cursor = page.nextCursor;
      if (pages.length > 50) throw new Error('pagination does not terminate');
    } while (cursor);
    return { pages, cursors };
  };

  const everyone = collect(undefined, 10);
  const expectedAll = [...all].sort(newestFirst).map((s) => s.id);
  t.same(everyone.pages.map((p) => p.length), [10, 10, 5], 'three pages');
  t.same(everyone.pages.flat(), expectedAll, 'newest first, ties by id desc, no gaps or repeats');
  t.equal(everyone.cursors.at(-1), null, 'last page has no cursor');
  for (const c of everyone.cursors.slice(0, -1)) t.match(c, /^[A-Za-z0-9_-]+$/, 'cursor is base64url');

  const alice = collect('alice', 4);
  const expectedAlice = all.filter((s) => s.ownerId === 'alice').sort(newestFirst).map((s) => s.id);
  t.equal(expectedAlice.length, 9);
  t.same(alice.pages.map((p) => p.length), [4, 4, 1], 'three pages for one owner');
  t.same(alice.pages.flat(), expectedAlice);

  const operator = collect(null, 3);
  const expectedOperator = all.filter((s) => s.ownerId === null).sort(newestFirst).map((s) => s.id);
  t.equal(expectedOperator.length, 8);
  t.same(operator.pages.map((p) => p.length), [3, 3, 2], 'null lists operator-owned streams');
  t.same(operator.pages.flat(), expectedOperator);

  const exact = store.listStreams({ limit: 25 });
  t.equal(exact.items.length, 25);
  t.equal(exact.nextCursor, null, 'no cursor when the page ends exactly at the last row');
  t.same(store.listStreams({ ownerId: 'nobody', limit: 5 }), { items: [], nextCursor: null });

  for (const bad of ['%%%', 'bm90IGpzb24', Buffer.from('{"a":1}').toString('base64url')]) {
    const err = caught(t, () => store.listStreams({ limit: 5, cursor: bad }));
    t.equal((err as ShowcaseError).code, 'SHOWCASE_ERR_BAD_REQUEST', `bad cursor ${bad}`);
  }
  t.equal((caught(t, () => store.listStreams({ limit: 0 })) as ShowcaseError).code, 'SHOWCASE_ERR_BAD_REQUEST');
});

t.test('data persists across close and reopen', async (t) => {
  const file = dbPath(t);
  const first = openSqliteStore({ file });
  first.createCreator(creator('c1'));
  first.createStream(stream('s1', { ownerId: 'c1', extra: { k: 'v' } }));
  first.updateStream('s1', { state: 'live', startedAt: 42 });
  first.close();

  const second = openSqliteStore({ file });
  t.teardown(() => second.close());
  t.equal(second.schemaVersion, LATEST_SCHEMA_VERSION);
  t.same(second.getCreator('c1'), creator('c1'));
  t.same(second.getStream('s1'), stream('s1', { ownerId: 'c1', extra: { k: 'v' }, state: 'live', startedAt: 42 }));
  t.same(second.listStreamsInState('live').map((s) => s.id), ['s1']);
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
  openSqliteStore({ file }).close();
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
  store.createCreator(creator('c1'));
  for (let i = 0; i < 200; i++) store.createStream(stream(`s${i}`, { ownerId: 'c1', createdAt: i, extra: { pad: 'x'.repeat(500) } }));

  t.ok(store.backup, 'the SQLite store offers backup');
  const viaStore = join(dir, 'backups', 'via-store.db');
  const pending = backupStore(store, viaStore);
  store.createStream(stream('during', { createdAt: 10_000 })); // a write while the backup runs
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
    t.same(restored.getCreator('c1'), creator('c1'));
    t.equal(restored.listStreams({ ownerId: 'c1', limit: 1000 }).items.length, 200, `${copy} has every stream`);
    t.equal(restored.getStream('s7')?.extra.pad, 'x'.repeat(500));
    restored.close();
  }

  await t.rejects(store.backup!(file), /is the database itself/);
  t.equal(store.getStream('s0')?.id, 's0', 'store still works after backups');
});
