import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LiveStream, type PublisherHandle, type StreamReader } from '../../src/core/live-stream.js';
import { StreamRegistry } from '../../src/core/stream-registry.js';
import { createLogger } from '../../src/core/logger.js';
import { hashSecret } from '../../src/core/secrets.js';
import { Fmp4Splitter } from '../../src/playback/hls/fmp4-splitter.js';
import { HlsStream } from '../../src/playback/hls/hls-stream.js';
import { HlsOrigin } from '../../src/playback/hls/hls-origin.js';
import { BlockingBudget } from '../../src/playback/hls/blocking-waiter.js';
import { laterContinuation, parseContinuation, restoreContinuations, saveContinuations, CONTINUATION_KEY, type HlsContinuation } from '../../src/playback/hls/hls-continuation.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { StreamRecord } from '../../src/store/types.js';
import { makeFragmentedMp4 } from '../helpers/ffmpeg.js';

const log = createLogger('silent');

function publisher(id: string): PublisherHandle & { closed: string[] } {
  const closed: string[] = [];
  return { id, protocol: 'rtmp', remoteAddress: '127.0.0.1', media: { form: 'packets', tracks: [] }, isAlive: () => closed.length === 0, close: (r) => void closed.push(r), closed };
}

function reader(): StreamReader & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'probe',
    consumes: ['packets'],
    calls,
    onPublisherStart: () => void calls.push('start'),
    onPacket: () => {},
    onPublisherStop: (_r, graceful) => void calls.push(`stop:${graceful}`),
    onStreamEnd: () => void calls.push('end'),
  };
}

t.test('interrupt: the publisher goes, readers stop as for a reconnect, the stream is kept (not ended)', async (t) => {
  const s = new LiveStream('a', 'idle');
  const r = reader();
  s.addReader(r);
  const p = publisher('p1');
  s.attachPublisher(p);
  const states: string[] = [];
  s.on('state', (st) => states.push(st));
  s.interrupt('server stopping');
  t.equal(s.state, 'interrupted');
  t.same(states, ['interrupted']);
  t.same(r.calls, ['start', 'stop:false'], 'readers were told a reconnect may follow, never that the stream ended');
  t.equal(p.closed.length, 1, 'the publisher was disconnected');
  t.equal(s.endedAt, null);
  s.interrupt('again');
  t.same(states, ['interrupted'], 'idempotent');
  const ended = new LiveStream('b', 'ended');
  ended.interrupt('x');
  t.equal(ended.state, 'ended', 'an ended stream stays ended');
});

t.test('awaitReconnect: a publisher within the grace continues the stream; otherwise it ends', async (t) => {
  const s = new LiveStream('a', 'interrupted');
  s.awaitReconnect(60_000, 'restart');
  t.ok(s.reconnectDeadline! > Date.now());
  s.attachPublisher(publisher('p2'));
  t.equal(s.state, 'live');
  t.equal(s.reconnectDeadline, null, 'the window closed');

  const late = new LiveStream('b', 'interrupted');
  const ended = new Promise<[string, string]>((res) => late.once('state', (st, why) => res([st, why])));
  late.awaitReconnect(30, 'restart');
  const [state, reason] = await ended;
  t.equal(state, 'ended');
  t.match(reason, /no reconnect within 30 ms/);

  const none = new LiveStream('c', 'interrupted');
  none.awaitReconnect(0, 'restart');
  t.equal(none.state, 'ended', 'no grace configured: it ends at once');
});

t.test('registry: interruptAll persists interrupted; a new registry restores it and accepts the same key', async (t) => {
  const store = openSqliteStore({ file: ':memory:' });
  t.teardown(() => store.close());
  const key = 'sk_test_key_1';
  const rec: StreamRecord = { id: 's1', ownerId: null, title: 't', description: '', streamKeyHash: hashSecret(key), streamKeyPrefix: 'sk_t', state: 'idle', createdAt: 1, startedAt: null, endedAt: null, endReason: null, lease: null, extra: {} };
  await store.createStream(rec);
  const a = new StreamRegistry({ store, logger: log, reconnectGraceMs: 60_000 });
  const d = await a.authorizePublish(key, publisher('p1'));
  t.ok(d.ok);
  const startedAt = (await store.getStream('s1'))!.startedAt;
  t.same(a.interruptAll('server stopping').map((s) => s.id), ['s1']);
  await a.flush();
  t.equal((await store.getStream('s1'))!.state, 'interrupted', 'persisted');
  t.equal((await store.getStream('s1'))!.endedAt, null);
  const lease = (await store.getStream('s1'))!.lease;
  t.match(lease, { nodeId: 'local' }, 'an interrupted stream keeps a lease naming the node that served it (its restart restores it)');
  t.ok(lease!.expiresAt <= Date.now(), 'an expired one: nobody serves it now');

  const b = new StreamRegistry({ store, logger: log, reconnectGraceMs: 60_000 });
  t.same(await b.recoverInterrupted(), [], 'an interrupted stream is not a crashed one');
  const created: string[] = [];
  b.on('stream', (s) => created.push(s.id));
  t.same((await b.restoreInterrupted()).map((r) => r.id), ['s1']);
  t.same(created, ['s1'], 'outputs attach to the restored stream before any publisher');
  b.startReconnectWindows();
  t.ok(b.get('s1')!.reconnectDeadline);
  const again = await b.authorizePublish(key, publisher('p2'));
  t.ok(again.ok, 'the same key continues it');
  t.equal(again.ok && again.stream.id, 's1');
  t.equal((await store.getStream('s1'))!.state, 'live');
  t.equal((await store.getStream('s1'))!.startedAt, startedAt, 'it keeps its start time');
  b.end('s1', 'test over');
});

// Real CMAF from ffmpeg, cut as the transcoder cuts it.
const mp4 = await makeFragmentedMp4(6);
const chunks = new Fmp4Splitter().push(mp4);
const init = chunks.find((c) => c.type === 'init')!.data;
const frags = chunks.filter((c) => c.type === 'fragment').map((c) => c.data);

function hls(continueFrom?: HlsContinuation): HlsStream {
  return new HlsStream({ streamId: 'abc', renditions: [{ name: 'hi', fallbackBandwidth: 1e6 }], timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 3, retainExtraSegments: 1, budget: new BlockingBudget(10), continueFrom });
}

function feed(s: HlsStream, runId: number, n: number): void {
  const tl = s.timelines.get('hi')!;
  tl.startRun(runId, init, Date.now());
  for (const f of frags.slice(0, n)) tl.addFragment(f);
}

t.test('HLS: an interrupted stream completes its open segment; the next process continues numbering after a discontinuity', async (t) => {
  const before = hls();
  feed(before, 1, frags.length);
  feed(before, 2, 4); // a transcoder restart in the first process: one discontinuity
  const tl = before.timelines.get('hi')!;
  const open = tl.openSegment();
  t.ok(open, 'a segment is open when the stop comes');
  const segments: number[] = [];
  tl.on('segment', (s) => segments.push(s.msn));
  const point = before.interrupt();
  t.same(segments, [open!.msn], 'the open segment completed (the recorder journals it)');
  t.notOk(tl.ended, 'no ENDLIST');
  t.same(point, { nextMsn: open!.msn + 1, discontinuities: 1, lastRunId: 2 });

  const after = hls(point);
  t.equal(after.continuedFrom, point);
  const inits: boolean[] = [];
  after.timelines.get('hi')!.on('init', (_id, _init, disc) => inits.push(disc));
  feed(after, 3, frags.length);
  t.same(inits, [true], 'the first run of the new process is a discontinuity');
  const r = await after.mediaPlaylist('hi', {}, '');
  const pl = r.status === 200 ? String(r.body) : '';
  t.match(pl, `#EXT-X-MEDIA-SEQUENCE:${point.nextMsn}\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n`);
  t.match(pl, /#EXT-X-PART-INF[^\n]*\n[^\n]*\n[^\n]*\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init3\.mp4"/, 'the first listed segment carries EXT-X-DISCONTINUITY');
  const next = after.interrupt();
  t.ok(next.nextMsn > point.nextMsn && next.lastRunId === 3 && next.discontinuities === 2, `a second restart continues further (${JSON.stringify(next)})`);
  t.same(hls(point).interrupt(), point, 'no media since the restart: the same point is kept');
});

t.test('continuations: kept in the store, restored into the origin, dropped when the stream ends', async (t) => {
  t.same(parseContinuation({ nextMsn: 5, discontinuities: 1, lastRunId: 2 }), { nextMsn: 5, discontinuities: 1, lastRunId: 2 });
  for (const bad of [null, 'x', {}, { nextMsn: -1, discontinuities: 0, lastRunId: 0 }, { nextMsn: 1.5, discontinuities: 0, lastRunId: 0 }, { nextMsn: 2 ** 50, discontinuities: 0, lastRunId: 0 }]) {
    t.equal(parseContinuation(bad), undefined, `refused: ${JSON.stringify(bad)}`);
  }
  t.same(laterContinuation({ nextMsn: 5, discontinuities: 3, lastRunId: 1 }, { nextMsn: 7, discontinuities: 1, lastRunId: 4 }), { nextMsn: 7, discontinuities: 3, lastRunId: 4 });

  const store = openSqliteStore({ file: ':memory:' });
  t.teardown(() => store.close());
  await store.createStream({ id: 's1', ownerId: null, title: 't', description: '', streamKeyHash: 'h', streamKeyPrefix: 'p', state: 'live', createdAt: 1, startedAt: 1, endedAt: null, endReason: null, extra: { other: 1 } });
  const origin = new HlsOrigin({ timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 3, retainExtraSegments: 1, maxBlockingRequests: 10, endedRetainSeconds: 1 });
  t.teardown(() => origin.close());
  const live = origin.getOrCreate('s1', [{ name: 'hi', fallbackBandwidth: 1e6 }]);
  feed(live, 1, frags.length);
  await saveContinuations(origin, store, ['s1']);
  const saved = (await store.getStream('s1'))!.extra;
  t.equal(saved.other, 1, 'other features keep their keys');
  const point = parseContinuation(saved[CONTINUATION_KEY])!;
  t.ok(point.nextMsn > 0 && point.lastRunId === 1);

  const next = new HlsOrigin({ timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 3, retainExtraSegments: 1, maxBlockingRequests: 10, endedRetainSeconds: 1 });
  t.teardown(() => next.close());
  restoreContinuations(next, [(await store.getStream('s1'))!]);
  t.same(next.interrupt('s1'), point, 'nothing produced yet: the saved point stands');
  t.same(next.getOrCreate('s1', [{ name: 'hi', fallbackBandwidth: 1e6 }]).continuedFrom, point, 'the origin continues from it');
  restoreContinuations(next, [{ id: 's2', extra: { [CONTINUATION_KEY]: point } }]);
  next.end('s2');
  t.equal(next.interrupt('s2'), undefined, 'ending a stream drops its continuation');
});

t.test('origin: a stream that ended here and comes back (it moved to another node and back) gets a fresh origin, continued', async (t) => {
  const origin = new HlsOrigin({ timing: { segmentSeconds: 2, partSeconds: 0.334 }, windowSegments: 3, retainExtraSegments: 1, maxBlockingRequests: 10, endedRetainSeconds: 60 });
  t.teardown(() => origin.close());
  const first = origin.getOrCreate('s1', [{ name: 'hi', fallbackBandwidth: 1e6 }]);
  feed(first, 1, frags.length);
  origin.end('s1');
  t.equal(origin.get('s1'), first, 'kept for its retention, ended');
  const point = { nextMsn: 40, discontinuities: 2, lastRunId: 3 };
  origin.continueFrom('s1', point);
  const again = origin.getOrCreate('s1', [{ name: 'hi', fallbackBandwidth: 1e6 }]);
  t.not(again, first, 'a new origin');
  t.notOk(again.ended);
  t.same(again.continuedFrom, point, 'continuing from where the recording says');
  t.equal(origin.getOrCreate('s1', [{ name: 'hi', fallbackBandwidth: 1e6 }]), again, 'and kept while live');
});

t.test('store migration 2 (then 3): the state CHECK admits interrupted; rows survive the table rebuild', async (t) => {
  const file = join(t.testdir(), 'v1.db');
  const raw = new Database(file);
  migrate(raw, file, undefined, MIGRATIONS.slice(0, 1));
  raw.prepare(`INSERT INTO streams (id, title, stream_key_hash, stream_key_prefix, state, created_at, extra) VALUES ('old', 'Old', 'kh', 'kp', 'live', 5, '{"a":1}')`).run();
  t.throws(() => raw.prepare(`UPDATE streams SET state = 'interrupted' WHERE id = 'old'`).run(), 'version 1 refuses the new state');
  raw.close();
  const store = openSqliteStore({ file });
  t.teardown(() => store.close());
  t.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
  const rec = (await store.getStream('old'))!;
  t.match(rec, { title: 'Old', state: 'live', createdAt: 5, extra: { a: 1 } });
  t.equal((await store.getStreamByKeyHash('kh'))?.id, 'old', 'the key index is back');
  await store.updateStream('old', { state: 'interrupted' });
  t.same((await store.listStreamsInState('interrupted')).map((r) => r.id), ['old']);
  await t.rejects(store.updateStream('old', { state: 'bogus' as never }), 'other values are still refused');
});
