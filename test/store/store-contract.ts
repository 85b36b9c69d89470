// The store contract: the same cases run against every Store implementation (SQLite always,
// PostgreSQL against a real server the tests start), so callers can rely on one behaviour.
// Each implementation's test file calls runStoreContract with a way to get a fresh database.
import type { Test } from 'tap';
import type { ShowcaseError } from '../../src/core/errors.js';
import { runRoomContract } from './store-contract-room.js';
import { runJourneyContract } from './store-contract-journey.js';
import { runNotifyContract } from './store-contract-notify.js';
import { runCommerceContract } from './commerce-contract.js';
import type { AnalyticsRecord, CreatorRecord, NewStreamRecord, RecordingRecord, Store, StreamRecord } from '../../src/store/types.js';

export interface StoreTarget {
  name: string;
  /** A fresh, empty database for this test; the function opens a store on it (call it again for a second node or a reopen). Stores are closed by the target at teardown. */
  fresh(t: Test): Promise<() => Promise<Store>>;
}

/** A creator record with predictable fields. */
export function creator(id: string, over: Partial<CreatorRecord> = {}): CreatorRecord {
  return { id, handle: `h-${id}`, displayName: `Creator ${id}`, tokenHash: `tok-${id}`, disabled: false, createdAt: 1_700_000_000_000, ...over };
}

/** A new stream record with predictable fields. */
export function stream(id: string, over: Partial<NewStreamRecord> = {}): NewStreamRecord {
  return {
    id, ownerId: null, title: `Stream ${id}`, description: '', streamKeyHash: `key-${id}`, streamKeyPrefix: `sk_${id.slice(0, 4)}`,
    state: 'idle', createdAt: 1_700_000_000_000, startedAt: null, endedAt: null, endReason: null, extra: {}, ...over,
  };
}

/** The record the store returns for a new stream (no lease). */
export const stored = (s: NewStreamRecord, over: Partial<StreamRecord> = {}): StreamRecord => ({ scheduledAt: null, practice: false, ...s, lease: null, ...over });

/** Expected order of listStreams: created_at DESC, id DESC (byte-wise). */
function newestFirst(a: NewStreamRecord, b: NewStreamRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** What a promise rejected with (fails the test when it resolves). */
export async function rejection(t: Test, p: Promise<unknown>): Promise<ShowcaseError> {
  try {
    await p;
  } catch (err) {
    return err as ShowcaseError;
  }
  t.fail('expected a rejection');
  return undefined as never;
}

/** Registers every contract case as a subtest of the current file. */
export function runStoreContract(tap: Test, target: StoreTarget): void {
  const open = async (t: Test): Promise<{ store: Store; reopen: () => Promise<Store> }> => {
    const reopen = await target.fresh(t);
    return { store: await reopen(), reopen };
  };
  runRoomContract(tap, target.name, open);
  runJourneyContract(tap, target.name, open);
  runNotifyContract(tap, target.name, open);
  // Products and highlights (issue 13), in a file of their own.
  runCommerceContract(tap, target);

  tap.test(`${target.name}: creators: create, get, lookups by handle and token hash, update`, async (t) => {
    const { store } = await open(t);
    t.same(await store.createCreator(creator('a')), creator('a'));
    await store.createCreator(creator('b', { disabled: true }));
    t.same(await store.getCreator('a'), creator('a'));
    t.equal((await store.getCreator('b'))?.disabled, true);
    t.equal(await store.getCreator('zzz'), undefined);
    t.equal((await store.getCreatorByHandle('h-b'))?.id, 'b');
    t.equal(await store.getCreatorByHandle('nope'), undefined);
    t.equal((await store.getCreatorByTokenHash('tok-a'))?.id, 'a');
    const updated = await store.updateCreator('a', { tokenHash: 'tok-a2', disabled: true });
    t.same(updated, { ...creator('a'), tokenHash: 'tok-a2', disabled: true });
    t.equal(await store.getCreatorByTokenHash('tok-a'), undefined, 'old token no longer resolves');
    t.same(await store.updateCreator('a', { displayName: 'Renamed', disabled: undefined }), { ...updated!, displayName: 'Renamed' });
    t.same(await store.updateCreator('a', { disabled: false }), { ...updated!, displayName: 'Renamed', disabled: false }, 'false is a value, not "leave as is"');
    t.equal(await store.updateCreator('missing', { disabled: true }), undefined);
  });

  tap.test(`${target.name}: constraint errors map to CONFLICT and VALIDATION`, async (t) => {
    const { store } = await open(t);
    await store.createCreator(creator('a'));
    t.equal((await rejection(t, store.createCreator(creator('x', { handle: 'h-a' })))).code, 'SHOWCASE_ERR_CONFLICT', 'taken handle');
    t.equal((await rejection(t, store.createCreator(creator('y', { tokenHash: 'tok-a' })))).code, 'SHOWCASE_ERR_CONFLICT', 'taken token');
    t.equal((await rejection(t, store.createCreator(creator('a', { handle: 'other', tokenHash: 'other' })))).code, 'SHOWCASE_ERR_CONFLICT', 'taken id');
    await store.createStream(stream('s1'));
    t.equal((await rejection(t, store.createStream(stream('s2', { streamKeyHash: 'key-s1' })))).code, 'SHOWCASE_ERR_CONFLICT', 'taken key');
    t.equal((await rejection(t, store.createStream(stream('s3', { ownerId: 'ghost' })))).code, 'SHOWCASE_ERR_VALIDATION', 'unknown owner');
    t.equal((await rejection(t, store.createStream(stream('s4', { state: 'paused' as never })))).code, 'SHOWCASE_ERR_VALIDATION', 'unknown state');
    t.equal((await rejection(t, store.createStream(stream('s5', { extra: [1, 2] as never })))).code, 'SHOWCASE_ERR_VALIDATION', 'extra must be an object');
    t.equal(await store.getStream('s3'), undefined, 'nothing written by failed inserts');
    await store.createStream(stream('s6'));
    t.equal((await rejection(t, store.updateStream('s6', { streamKeyHash: 'key-s1' }))).code, 'SHOWCASE_ERR_CONFLICT', 'update to a taken key');
    t.equal((await store.getStream('s6'))?.streamKeyHash, 'key-s6', 'failed update leaves the row as it was');
    t.equal((await rejection(t, store.updateStream('s6', { ownerId: 'ghost' }))).code, 'SHOWCASE_ERR_VALIDATION', 'update to an unknown owner');
    t.equal((await rejection(t, store.putRecording('s6', { state: 'bogus' as never, updatedAt: 1 }))).code, 'SHOWCASE_ERR_VALIDATION', 'unknown recording state');
  });

  tap.test(`${target.name}: streams: create, get by id and key, delete (with what hangs off it)`, async (t) => {
    const { store } = await open(t);
    await store.createCreator(creator('c1'));
    const rec = stream('s1', { ownerId: 'c1', description: 'bags', extra: { tags: ['a'], nested: { n: 1.5 } } });
    t.same(await store.createStream(rec), stored(rec));
    t.same(await store.getStream('s1'), stored(rec));
    t.same(await store.getStreamByKeyHash('key-s1'), stored(rec));
    t.equal(await store.getStreamByKeyHash('key-none'), undefined);
    await store.putRecording('s1', { state: 'ready', updatedAt: 5 });
    await store.putAnalytics('s1', analytics(3));
    t.equal(await store.deleteStream('s1'), true);
    t.equal(await store.deleteStream('s1'), false);
    t.equal(await store.getStream('s1'), undefined);
    t.equal(await store.getRecording('s1'), undefined, 'its recording row went with it');
    t.equal(await store.getAnalytics('s1'), undefined, 'its analytics went with it');
    t.equal(await store.putRecording('s1', { state: 'ready', updatedAt: 6 }), false, 'no recording for a missing stream');
    t.equal(await store.putAnalytics('s1', analytics(1)), false, 'no analytics for a missing stream');
  });

  tap.test(`${target.name}: updateStream patches only what it names; extra merges by key`, async (t) => {
    const { store } = await open(t);
    await store.createCreator(creator('c1'));
    await store.createStream(stream('s1', { extra: { a: { x: 1 }, b: 2 } }));
    const live = await store.updateStream('s1', { state: 'live', startedAt: 1_700_000_001_000, title: undefined });
    t.equal(live?.state, 'live');
    t.equal(live?.title, 'Stream s1', 'undefined leaves a field as is');
    t.same(live?.extra, { a: { x: 1 }, b: 2 }, 'extra untouched when absent');
    t.same((await store.updateStream('s1', { extra: { a: { y: 2 } } }))?.extra, { a: { y: 2 }, b: 2 }, 'other keys survive');
    t.same((await store.updateStream('s1', { extra: { b: null, c: [1, 'two', true] } }))?.extra, { a: { y: 2 }, c: [1, 'two', true] }, 'null removes a key');
    const ended = await store.updateStream('s1', { state: 'ended', endedAt: 1_700_000_002_000, endReason: 'publisher-stopped', ownerId: 'c1' });
    t.match(ended, { state: 'ended', endReason: 'publisher-stopped', ownerId: 'c1', startedAt: 1_700_000_001_000, createdAt: 1_700_000_000_000 });
    const reset = await store.updateStream('s1', { ownerId: null, startedAt: null, endedAt: null, endReason: null, state: 'idle' });
    t.same(reset, stored(stream('s1'), { extra: { a: { y: 2 }, c: [1, 'two', true] } }), 'null clears nullable fields');
    const sneaky = await store.updateStream('s1', { id: 'other', createdAt: 5, lease: { nodeId: 'x', expiresAt: 1 } } as never);
    t.equal(sneaky?.id, 's1', 'id cannot be patched');
    t.equal(sneaky?.createdAt, 1_700_000_000_000, 'createdAt cannot be patched');
    t.equal(sneaky?.lease, null, 'the lease cannot be patched');
    t.equal(await store.updateStream('missing', { state: 'live' }), undefined);
  });

  tap.test(`${target.name}: listStreamsInState and listStreams pages newest first with an opaque cursor`, async (t) => {
    const { store } = await open(t);
    await store.createCreator(creator('alice'));
    await store.createCreator(creator('bob'));
    const all: NewStreamRecord[] = [];
    for (let i = 0; i < 25; i++) {
      const ownerId = i % 3 === 0 ? 'alice' : i % 3 === 1 ? 'bob' : null;
      // Pairs share a timestamp so the id tie-break is exercised across page boundaries; mixed
      // case and punctuation check the byte-wise order every implementation must keep.
      const id = `${i % 2 ? 'S' : 's'}${i % 4 === 0 ? '-' : '_'}${String(i).padStart(2, '0')}`;
      all.push(stream(id, { ownerId, createdAt: 1_700_000_000_000 + Math.floor(i / 2) * 1000, state: i % 5 === 0 ? 'live' : 'idle' }));
    }
    for (const rec of all.filter((_, i) => i % 2 === 1)) await store.createStream(rec);
    for (const rec of all.filter((_, i) => i % 2 === 0)) await store.createStream(rec);
    t.same((await store.listStreamsInState('live')).map((s) => s.id), all.filter((s) => s.state === 'live').sort(newestFirst).map((s) => s.id));

    const collect = async (ownerId: string | null | undefined, limit: number): Promise<string[][]> => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page = await store.listStreams({ ownerId, limit, cursor });
        pages.push(page.items.map((s) => s.id));
        cursor = page.nextCursor;
        if (cursor) t.match(cursor, /^[A-Za-z0-9_-]+$/, 'cursor is base64url');
        if (pages.length > 50) throw new Error('pagination does not terminate');
      } while (cursor);
      return pages;
    };
    const everyone = await collect(undefined, 10);
    t.same(everyone.map((p) => p.length), [10, 10, 5], 'three pages');
    t.same(everyone.flat(), [...all].sort(newestFirst).map((s) => s.id), 'newest first, ties by id desc, no gaps or repeats');
    const alice = await collect('alice', 4);
    t.same(alice.flat(), all.filter((s) => s.ownerId === 'alice').sort(newestFirst).map((s) => s.id));
    const operator = await collect(null, 3);
    t.same(operator.flat(), all.filter((s) => s.ownerId === null).sort(newestFirst).map((s) => s.id), 'null lists operator-owned streams');
    const exact = await store.listStreams({ limit: 25 });
    t.equal(exact.items.length, 25);
    t.equal(exact.nextCursor, null, 'no cursor when the page ends exactly at the last row');
    t.same(await store.listStreams({ ownerId: 'nobody', limit: 5 }), { items: [], nextCursor: null });
    for (const bad of ['%%%', 'bm90IGpzb24', Buffer.from('{"a":1}').toString('base64url')]) {
      t.equal((await rejection(t, store.listStreams({ limit: 5, cursor: bad }))).code, 'SHOWCASE_ERR_BAD_REQUEST', `bad cursor ${bad}`);
    }
    t.equal((await rejection(t, store.listStreams({ limit: 0 }))).code, 'SHOWCASE_ERR_BAD_REQUEST');
  });

  tap.test(`${target.name}: recordings: a row per stream, replaced whole`, async (t) => {
    const { store } = await open(t);
    await store.createStream(stream('s1'));
    t.equal(await store.getRecording('s1'), undefined);
    const rec: RecordingRecord = { state: 'recording', startedAt: 10, renditions: ['720p', '360p'], mp4Rendition: '720p', updatedAt: 11 };
    t.equal(await store.putRecording('s1', rec), true);
    t.same(await store.getRecording('s1'), rec, 'absent figures stay absent');
    const ready: RecordingRecord = {
      state: 'ready', startedAt: 10, renditions: ['720p'], mp4Rendition: '720p', durationSeconds: 12.345, sizeBytes: 5_000_000_000, segments: 7,
      discontinuities: 1, code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: 'stopped early', readyAt: 20, finalizeMs: 900, updatedAt: 21,
    };
    await store.putRecording('s1', ready);
    t.same(await store.getRecording('s1'), ready, 'every field round-trips (sizes past 2^32 included)');
    await store.putRecording('s1', { state: 'expired', expiredAt: 30, updatedAt: 30 });
    t.same(await store.getRecording('s1'), { state: 'expired', expiredAt: 30, updatedAt: 30 }, 'a put replaces the row');
  });

  tap.test(`${target.name}: analytics: summary and minute timeline round-trip, trimmed and replaced`, async (t) => {
    const { store } = await open(t);
    await store.createStream(stream('s1'));
    t.equal(await store.getAnalytics('s1'), undefined);
    const a = analytics(5);
    t.equal(await store.putAnalytics('s1', a), true);
    t.same(await store.getAnalytics('s1'), a);
    // The next write: the oldest two minutes trimmed, one changed, two added.
    const b: AnalyticsRecord = { ...analytics(7), uniqueSketch: undefined };
    delete b.uniqueSketch;
    b.timeline = b.timeline.slice(2);
    b.timeline[0] = { ...b.timeline[0]!, watchSeconds: 999.5 };
    await store.putAnalytics('s1', b);
    t.same(await store.getAnalytics('s1'), b);
    await store.putAnalytics('s1', { ...b, timeline: [] });
    t.same((await store.getAnalytics('s1'))?.timeline, [], 'an empty timeline clears the minutes');
    // Replay viewers (issue 15): kept when given, absent when not.
    const c: AnalyticsRecord = { ...a, replayUniqueViewers: 4, replaySketch: Buffer.from('replay registers').toString('base64') };
    await store.putAnalytics('s1', c);
    t.same(await store.getAnalytics('s1'), c, 'replay unique viewers and their sketch round-trip');
    await store.putAnalytics('s1', a);
    t.same(await store.getAnalytics('s1'), a, 'and are cleared by a record without them');
  });

  tap.test(`${target.name}: leases: one node holds a live stream; others are refused until it expires`, async (t) => {
    const { store, reopen } = await open(t);
    const other = await reopen(); // a second node on the same database
    await store.createStream(stream('s1'));
    await store.createStream(stream('gone', { state: 'ended', endedAt: 5, endReason: 'publisher-stopped' }));
    const a = await store.claimLive('s1', { nodeId: 'A', now: 1000, expiresAt: 2000, startedAt: 1000 });
    t.ok(a.ok, 'A takes the idle stream');
    t.match(a.ok && a.rec, { state: 'live', startedAt: 1000, lease: { nodeId: 'A', expiresAt: 2000 } });
    const b = await other.claimLive('s1', { nodeId: 'B', now: 1500, expiresAt: 2500, startedAt: 1500 });
    t.same(b.ok ? 'ok' : b.why, 'held', 'B is refused while A\'s lease runs');
    t.same((await other.claimLive('gone', { nodeId: 'B', now: 1500, expiresAt: 2500, startedAt: 1500 })), { ok: false, why: 'ended', rec: await other.getStream('gone') });
    t.same(await other.claimLive('nope', { nodeId: 'B', now: 1, expiresAt: 2, startedAt: 1 }), { ok: false, why: 'missing' });
    const again = await store.claimLive('s1', { nodeId: 'A', now: 1600, expiresAt: 2600, startedAt: 1600 });
    t.match(again.ok && again.rec, { startedAt: 1000, lease: { expiresAt: 2600 } }, 'A may claim again (a reconnect): startedAt kept');
    t.same(await store.renewLeases('A', ['s1', 'nope'], 3000), ['s1'], 'A renews what it holds');
    t.same(await other.renewLeases('B', ['s1'], 9999), [], 'B cannot renew A\'s lease');
    t.equal(await other.releaseLive('s1', 'B', { state: 'ended', endedAt: 1, endReason: 'x' }), undefined, 'B cannot end A\'s stream');
    t.equal((await store.getStream('s1'))?.state, 'live');
    const taken = await other.claimLive('s1', { nodeId: 'B', now: 3000, expiresAt: 4000, startedAt: 3000 });
    t.match(taken.ok && taken.rec, { lease: { nodeId: 'B', expiresAt: 4000 }, startedAt: 1000 }, 'B takes over once A\'s lease expired');
    t.same(await store.renewLeases('A', ['s1'], 5000), [], 'A learns it lost the lease');
    const released = await other.releaseLive('s1', 'B', { state: 'ended', endedAt: 3500, endReason: 'publisher-stopped' });
    t.match(released, { state: 'ended', endedAt: 3500, endReason: 'publisher-stopped', lease: null });
    t.same((await store.claimLive('s1', { nodeId: 'A', now: 3600, expiresAt: 4600, startedAt: 3600 })).ok, false, 'an ended stream is never taken again');
  });

  tap.test(`${target.name}: leases: two nodes racing for one key, exactly one wins`, async (t) => {
    const { store, reopen } = await open(t);
    const other = await reopen();
    for (let i = 0; i < 10; i++) await store.createStream(stream(`r${i}`));
    for (let i = 0; i < 10; i++) {
      const o = { now: 1000, expiresAt: 60_000, startedAt: 1000 };
      const [x, y] = await Promise.all([store.claimLive(`r${i}`, { ...o, nodeId: 'A' }), other.claimLive(`r${i}`, { ...o, nodeId: 'B' })]);
      t.equal([x, y].filter((c) => c.ok).length, 1, `r${i}: one winner`);
      const holder = (await store.getStream(`r${i}`))?.lease?.nodeId;
      t.equal(holder, x.ok ? 'A' : 'B', 'the store names the winner');
    }
  });

  tap.test(`${target.name}: start-up sweep ends only abandoned live streams`, async (t) => {
    const { store } = await open(t);
    for (const id of ['mine', 'theirs', 'expired', 'nolease', 'idle']) await store.createStream(stream(id));
    await store.claimLive('mine', { nodeId: 'A', now: 1000, expiresAt: 100_000, startedAt: 1000 });
    await store.claimLive('theirs', { nodeId: 'B', now: 1000, expiresAt: 100_000, startedAt: 1000 });
    await store.claimLive('expired', { nodeId: 'C', now: 1000, expiresAt: 2000, startedAt: 1000 });
    await store.updateStream('nolease', { state: 'live', startedAt: 1000 });
    const ended = await store.endAbandonedLive({ ownNodeId: 'A', now: 5000, endReason: 'interrupted' });
    t.same(ended.sort(), ['expired', 'mine', 'nolease'], 'own, expired and lease-less streams end');
    t.match(await store.getStream('mine'), { state: 'ended', endedAt: 5000, endReason: 'interrupted', lease: null });
    t.match(await store.getStream('theirs'), { state: 'live', lease: { nodeId: 'B' } }, 'another node\'s running stream is left alone');
    t.equal((await store.getStream('idle'))?.state, 'idle');
    t.same(await store.endAbandonedLive({ now: 6000, endReason: 'interrupted' }), [], 'nothing left to sweep');
  });

  tap.test(`${target.name}: failover: a dead node's expired leases go to interrupted naming it, then end past the grace`, async (t) => {
    const { store, reopen } = await open(t);
    const other = await reopen();
    for (const id of ['dead', 'alive', 'mine', 'deploy', 'legacy', 'theirs']) await store.createStream(stream(id));
    await store.claimLive('dead', { nodeId: 'B', now: 1000, expiresAt: 2000, startedAt: 1000 });
    await store.claimLive('alive', { nodeId: 'C', now: 1000, expiresAt: 100_000, startedAt: 1000 });
    await store.claimLive('mine', { nodeId: 'A', now: 1000, expiresAt: 2000, startedAt: 1000 });
    t.same(await other.interruptExpiredLive({ ownNodeId: 'A', now: 3000 }), ['dead'], 'only another node\'s expired lease (not A\'s own, not an unexpired one)');
    t.match(await store.getStream('dead'), { state: 'interrupted', endedAt: null, lease: { nodeId: 'B', expiresAt: 3000 } }, 'interrupted, the expired lease naming B from the sweep on');
    t.match(await store.getStream('alive'), { state: 'live', lease: { nodeId: 'C', expiresAt: 100_000 } });
    t.match(await store.getStream('mine'), { state: 'live', lease: { nodeId: 'A' } });
    t.same(await store.interruptExpiredLive({ ownNodeId: 'A', now: 3500 }), [], 'nothing more to interrupt');
    // A graceful stop (a deploy) keeps its lease too, expired at the moment of the interruption.
    await store.claimLive('deploy', { nodeId: 'D', now: 1000, expiresAt: 100_000, startedAt: 1000 });
    t.match(await store.releaseLive('deploy', 'D', { state: 'interrupted', interruptedAt: 2500 }), { state: 'interrupted', lease: { nodeId: 'D', expiresAt: 2500 } });
    t.match(await store.updateStream('deploy', { extra: { k: 1 } }), { state: 'interrupted', lease: { nodeId: 'D', expiresAt: 2500 } }, 'a patch of an interrupted stream keeps the lease');
    await store.updateStream('legacy', { state: 'interrupted' });
    t.equal((await store.getStream('legacy'))?.lease, null, 'an older interrupted record has no lease');
    // Adoption at start-up: own and lease-less ones only.
    t.same((await other.adoptInterrupted('D', ['deploy', 'dead', 'legacy', 'nope'], 4000)).sort(), ['deploy', 'legacy'], 'D adopts its own and the lease-less one, not B\'s');
    t.match(await store.getStream('legacy'), { state: 'interrupted', lease: { nodeId: 'D', expiresAt: 4000 } });
    t.same(await store.adoptInterrupted('E', ['deploy'], 4100), [], 'another node cannot adopt D\'s');
    // The end of the grace: at or before `before` only, and only interrupted ones with a lease.
    await store.updateStream('theirs', { state: 'interrupted' });
    t.same(await store.endExpiredInterrupted({ before: 2999, now: 9000, endReason: 'no reconnect' }), [], 'the grace has not run out');
    t.same(await store.endExpiredInterrupted({ before: 3000, now: 9000, endReason: 'no reconnect' }), ['dead']);
    t.match(await store.getStream('dead'), { state: 'ended', endedAt: 9000, endReason: 'no reconnect', lease: null });
    t.equal((await store.getStream('theirs'))?.state, 'interrupted', 'no lease: left to a start-up');
    // A publisher reconnecting on any node continues an interrupted stream: claimLive takes it.
    const c = await other.claimLive('deploy', { nodeId: 'C', now: 5000, expiresAt: 8000, startedAt: 5000 });
    t.match(c.ok && c.rec, { state: 'live', startedAt: 1000, lease: { nodeId: 'C', expiresAt: 8000 } }, 'C continues D\'s interrupted stream');
    t.same(await store.endExpiredInterrupted({ before: 100_000, now: 9500, endReason: 'x' }), ['legacy'], 'a continued stream is not swept (the adopted one is)');
    // A node gone from the cluster before its lease expired: its stream is interrupted on demand.
    t.equal(await other.interruptLiveOf('alive', 'B', 9600), false, 'not B\'s lease: untouched');
    t.equal(await other.interruptLiveOf('alive', 'C', 9600), true, 'C\'s unexpired lease');
    t.match(await store.getStream('alive'), { state: 'interrupted', lease: { nodeId: 'C', expiresAt: 9600 } });
    t.equal(await other.interruptLiveOf('alive', 'C', 9700), false, 'no longer live');
  });

  tap.test(`${target.name}: data persists across close and reopen; calls after close reject`, async (t) => {
    const { store, reopen } = await open(t);
    await store.createCreator(creator('c1'));
    await store.createStream(stream('s1', { ownerId: 'c1', extra: { k: 'v' } }));
    await store.claimLive('s1', { nodeId: 'A', now: 42, expiresAt: 100, startedAt: 42 });
    await store.putRecording('s1', { state: 'recording', updatedAt: 43 });
    await store.close();
    await store.close(); // idempotent
    t.equal((await rejection(t, store.getStream('s1'))).code, 'SHOWCASE_ERR_UNAVAILABLE');
    const second = await reopen();
    t.same(await second.getCreator('c1'), creator('c1'));
    t.same(await second.getStream('s1'), stored(stream('s1', { ownerId: 'c1', extra: { k: 'v' }, state: 'live', startedAt: 42 }), { lease: { nodeId: 'A', expiresAt: 100 } }));
    t.same(await second.getRecording('s1'), { state: 'recording', updatedAt: 43 });
  });
}

/** Analytics with n timeline minutes and a sketch. */
export function analytics(n: number): AnalyticsRecord {
  return {
    watchSecondsLive: 120.5,
    watchSecondsReplay: 30,
    watchSecondsByProtocol: { hls: 100.5, webrtc: 50 },
    uniqueViewers: 17,
    uniqueSketch: Buffer.from('registers').toString('base64'),
    peakViewers: 9,
    timeline: Array.from({ length: n }, (_, i) => ({
      startMs: 1_700_000_000_000 + i * 60_000, viewersAvg: i + 0.25, viewersPeak: i + 1, watchSeconds: 60 * i,
      ...(i % 2 ? { ingestBitsPerSecond: 2_500_000.5 } : {}),
    })),
    updatedAt: 1_700_000_999_000,
  };
}
