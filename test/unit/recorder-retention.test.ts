import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/logger.js';
import { RetentionSweeper, sweepRecordings } from '../../src/recorder/retention-sweep.js';
import type { RecordingRecord, StreamRecord } from '../../src/store/types.js';

const DAY = 24 * 3600 * 1000;
const NOW = Date.UTC(2026, 5, 1);

/** Streams and their recording rows, as the store keeps them (every stream starts with a ready recording). */
function fakeStore(records: StreamRecord[]) {
  const map = new Map(records.map((r) => [r.id, r]));
  const recordings = new Map<string, RecordingRecord>(records.map((r) => [r.id, { state: 'ready', updatedAt: 0 }]));
  return {
    getStream: async (id: string) => map.get(id),
    getRecording: async (id: string) => recordings.get(id),
    putRecording: async (id: string, r: RecordingRecord) => {
      if (!map.has(id)) return false;
      recordings.set(id, r);
      return true;
    },
  };
}

function rec(id: string, state: StreamRecord['state'], endedAt: number | null): StreamRecord {
  return { id, ownerId: null, title: id, description: '', streamKeyHash: '', streamKeyPrefix: '', state, createdAt: 0, startedAt: 0, endedAt, endReason: null, extra: {}, lease: null };
}

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'recorder-retention-'));
  const records = [
    rec('old', 'ended', NOW - 31 * DAY),
    rec('recent', 'ended', NOW - 29 * DAY),
    rec('live', 'live', null),
    rec('idle', 'idle', null),
    rec('finalizing', 'ended', NOW - 40 * DAY),
  ];
  for (const id of ['old', 'recent', 'live', 'idle', 'finalizing', 'orphan']) {
    mkdirSync(join(root, id));
    writeFileSync(join(root, id, 'journal.jsonl'), '{}\n');
  }
  mkdirSync(join(root, 'not an id!'));
  writeFileSync(join(root, 'stray-file'), 'x');
  return { root, store: fakeStore(records) };
}

t.test('the sweep deletes recordings past retention and orphans, nothing else', async (t) => {
  const { root, store } = setup();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const deleted = await sweepRecordings({ root, retentionDays: 30, store, isActive: (id) => id === 'finalizing', now: () => NOW, logger: createLogger('silent') });
  t.same(deleted.sort(), ['old', 'orphan']);
  for (const id of ['recent', 'live', 'idle', 'finalizing', 'not an id!', 'stray-file']) t.ok(existsSync(join(root, id)), `${id} kept`);
  for (const id of ['old', 'orphan']) t.notOk(existsSync(join(root, id)), `${id} deleted`);
  t.match(await store.getRecording('old'), { state: 'expired', expiredAt: NOW }, 'the record says the recording expired');
  t.equal((await store.getRecording('recent'))?.state, 'ready');
});

t.test('the boundary moves with the clock; retentionDays 0 keeps everything', async (t) => {
  const { root, store } = setup();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const base = { root, store, isActive: () => false, logger: createLogger('silent') };
  t.same(await sweepRecordings({ ...base, retentionDays: 0, now: () => NOW + 1000 * DAY }), [], 'retention 0: nothing');
  t.same((await sweepRecordings({ ...base, retentionDays: 30, now: () => NOW })).sort(), ['finalizing', 'old', 'orphan']);
  t.same(await sweepRecordings({ ...base, retentionDays: 30, now: () => NOW + DAY - 1 }), [], '29 days + 1 day - 1 ms: still kept');
  t.same(await sweepRecordings({ ...base, retentionDays: 30, now: () => NOW + DAY + 1 }), ['recent'], 'a day later it goes');
});

t.test('the scheduled sweep runs on an unref\'d timer and stops', async (t) => {
  const { root, store } = setup();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  let now = NOW - 15 * DAY;
  const sweeper = new RetentionSweeper({ root, store, retentionDays: 30, isActive: () => false, now: () => now, logger: createLogger('silent') });
  sweeper.start(1000);
  t.same(await sweeper.sweep(), ['orphan'], 'first sweep at start: only the orphan is due');
  now = NOW;
  await new Promise((r) => setTimeout(r, 1100));
  await sweeper.sweep();
  t.notOk(existsSync(join(root, 'old')), 'a later tick deleted what became due');
  await sweeper.stop();
  now = NOW + 100 * DAY;
  await new Promise((r) => setTimeout(r, 1100));
  t.ok(existsSync(join(root, 'recent')), 'no sweep after stop');
});
