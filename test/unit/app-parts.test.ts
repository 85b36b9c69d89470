// The policies that left app.ts, each on its own (pure logic, fakes): the shutdown tree's order,
// idempotence and error isolation; the RTMP publish decision; the creator-disable cascade; WHEP
// viewers as watching sessions; the per-stream status maths.
import t from 'tap';
import { pino } from 'pino';
import { Owner } from '../../src/core/owner.js';
import { LiveStream, type PublisherHandle } from '../../src/core/live-stream.js';
import { TypedEmitter } from '../../src/core/typed-emitter.js';
import { endCreatorStreams, ownerDisabledCheck } from '../../src/core/creator-policy.js';
import { RtmpPublishPolicy, isGracefulUnpublish } from '../../src/ingest/rtmp/rtmp-publish-policy.js';
import type { RtmpPublishRequest } from '../../src/ingest/rtmp/rtmp-types.js';
import type { PublishDecision } from '../../src/core/stream-registry.js';
import { WhepSessionAccounting } from '../../src/playback/whep/whep-session-accounting.js';
import type { WhepPlaybackEvents } from '../../src/playback/whep/whep-playback.js';
import type { WhepSession } from '../../src/playback/whep/whep-session.js';
import { StreamStatus, transcoderSpeed } from '../../src/metrics/stream-status.js';
import type { StreamRecord } from '../../src/store/types.js';

const log = pino({ level: 'silent' });

t.test('the shutdown tree closes children in order, once, with the reason passed down', async (t) => {
  const seen: string[] = [];
  const root = new Owner('app', log);
  const a = root.branch('a');
  a.step('a1', (reason) => { seen.push(`a1:${reason}`); });
  a.add('a2', { close: async (reason: string) => { await new Promise((r) => setImmediate(r)); seen.push(`a2:${reason}`); } });
  root.step('b', () => { throw new Error('b fails'); });
  root.step('c', (reason) => { seen.push(`c:${reason}`); });
  t.same(root.childNames, ['a', 'b', 'c']);
  const first = root.close('deploy');
  const second = root.close('other');
  await Promise.all([first, second]);
  t.same(seen, ['a1:deploy', 'a2:deploy', 'c:deploy'], 'depth first, in order; a failing child does not stop the rest; closed once');
  t.equal(root.closedReason, 'deploy');
  t.equal(a.closedReason, 'deploy', 'the child learned why');
  root.step('late', (reason) => { seen.push(`late:${reason}`); });
  await new Promise((r) => setImmediate(r));
  t.same(seen.at(-1), 'late:deploy', 'a child added after the close is closed at once');
});

function conn(id: string, lastReceivedAt: () => number) {
  const closed: string[] = [];
  return { closed, info: { id, remoteAddress: '10.0.0.1', lastReceivedAt, isClosed: () => closed.length > 0, close: (r: string) => { closed.push(r); }, bytesReceived: () => 0 } };
}

t.test('RTMP publish policy: packet-form publisher, liveness, sink routing, refusal once closed', async (t) => {
  const stream = new LiveStream('s1', 'idle');
  let handle: PublisherHandle | undefined;
  let now = 1000;
  const registry = {
    authorizePublish: async (key: string, h: PublisherHandle): Promise<PublishDecision> => {
      if (key !== 'good') return { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason: 'unknown stream key' };
      handle = h;
      stream.attachPublisher(h);
      return { ok: true, stream };
    },
  };
  const policy = new RtmpPublishPolicy({ registry, isOwnerDisabled: () => false, deadPublisherMs: 500, reconnectGraceMs: 0, now: () => now });
  const c = conn('c1', () => 900);
  const req = (streamKey: string): RtmpPublishRequest => ({ connectionId: 'c1', app: 'live', streamKey, remoteAddress: '10.0.0.1', connection: c.info } as RtmpPublishRequest);
  t.match(await policy.decide(req('bad')), { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY' });
  const d = await policy.decide(req('good'));
  t.ok(d.ok);
  t.match(handle, { protocol: 'rtmp', media: { form: 'packets', tracks: [] } });
  t.ok(handle!.isAlive(), 'alive while bytes arrive');
  now = 2000;
  t.notOk(handle!.isAlive(), 'silent past deadPublisherMs: dead (a reconnect may take over)');
  if (d.ok) d.sink.onClose('FCUnpublish');
  t.equal(stream.state, 'ended', 'an explicit unpublish ends the stream');
  policy.close();
  t.match(await policy.decide(req('good')), { ok: false, code: 'SHOWCASE_ERR_RTMP_LIMIT', reason: 'server stopping' });
  t.ok(isGracefulUnpublish('deleteStream'));
  t.ok(isGracefulUnpublish('closeStream'));
  t.notOk(isGracefulUnpublish('socket closed'), 'a dropped socket waits for a reconnect');
});

t.test('owner check and the creator-disable cascade', async (t) => {
  const creators: Record<string, { disabled: boolean }> = { on: { disabled: false }, off: { disabled: true } };
  const check = ownerDisabledCheck({ getCreator: async (id: string) => creators[id] as never });
  t.equal(await check({ ownerId: null } as StreamRecord), false, 'the operator\'s streams have no owner');
  t.equal(await check({ ownerId: 'on' } as StreamRecord), false);
  t.equal(await check({ ownerId: 'off' } as StreamRecord), true);
  t.equal(await check({ ownerId: 'gone' } as StreamRecord), true, 'a deleted owner counts as disabled');

  const streams = [new LiveStream('a', 'live'), new LiveStream('b', 'live'), new LiveStream('c', 'ended'), new LiveStream('d', 'interrupted')];
  const owners: Record<string, string> = { a: 'cr1', b: 'cr2', c: 'cr1', d: 'cr1' };
  const endedCalls: string[] = [];
  const ended = await endCreatorStreams('cr1', { all: () => streams, end: (id, reason) => { endedCalls.push(`${id}:${reason}`); } }, { getStream: async (id: string) => ({ ownerId: owners[id] }) as never }, log);
  t.same(ended, ['a', 'd'], 'only that creator\'s streams not ended yet');
  t.same(endedCalls, ['a:creator disabled', 'd:creator disabled']);
  const failed = await endCreatorStreams('cr1', { all: () => streams, end: () => {} }, { getStream: async () => { throw new Error('store down'); } }, log);
  t.same(failed, [], 'a store failure is logged, never thrown');
});

t.test('WHEP viewers and signaling viewers are watching sessions from connect to close', async (t) => {
  const whep = new TypedEmitter<WhepPlaybackEvents>();
  const open: Array<[string, string]> = [];
  const closed: Array<[unknown, string | undefined]> = [];
  let n = 0;
  const live = new Set(['s1']);
  const acc = new WhepSessionAccounting(whep, { open: (id, mode) => { open.push([id, mode]); return `sid${++n}`; }, close: (sid, id) => { closed.push([sid, id]); return true; } }, (id) => live.has(id));
  const session = { id: 'w1', streamId: 's1' } as WhepSession;
  whep.safeEmit('sessionconnected', session);
  whep.safeEmit('viewerconnected', 'p1', 's2');
  t.same(open, [['s1', 'live'], ['s2', 'replay']], 'mode from the stream state');
  t.equal(acc.size, 2);
  whep.safeEmit('sessionclosed', session, 'bye');
  whep.safeEmit('viewerleft', 'p1', 's2');
  whep.safeEmit('viewerleft', 'p1', 's2');
  t.same(closed, [['sid1', 's1'], ['sid2', 's2']], 'each closed once');
  t.equal(acc.size, 0, 'nothing kept after the viewers left');
});

t.test('per-stream status: transcoder speed and the owner\'s live details', async (t) => {
  const now = 100_000;
  const parts = (n: number, dur: number, from: number) => Array.from({ length: n }, (_, i) => ({ duration: dur, availableAt: from + i * dur * 1000 }));
  // 15 parts of 1/3 s, the last 5 s of them available in the last 5 s: real time.
  const tl = { ended: false, segments: [{ parts: parts(6, 1 / 3, now - 7000) }, { parts: parts(9, 1 / 3, now - 3000) }] };
  const hls = { timelines: new Map([['180p', tl]]), blockedRequests: 2 };
  const speed = transcoderSpeed(hls, now);
  t.ok(speed > 0.5 && speed <= 1.1, `about real time (${speed})`);
  t.equal(transcoderSpeed({ timelines: new Map([['180p', { ...tl, ended: true }]]), blockedRequests: 0 }, now), 0, 'an ended rendition produces nothing');

  const s = new LiveStream('s1', 'idle');
  const status = new StreamStatus({
    streams: () => [s],
    stream: (id) => (id === 's1' ? s : undefined),
    transcoder: (id) => (id === 's1' ? { state: 'running', restarts: 1, stalls: 0, droppedPackets: 3, mode: 'passthrough', renditions: [{ name: '180p' }] } : undefined),
    hls: (id) => (id === 's1' ? hls : undefined),
    recordingState: () => 'recording',
    now: () => now,
  });
  t.match(status.metricsViews(), [{ id: 's1', transcoderState: 'running', transcoderRestarts: 1, passthrough: 1, droppedPackets: 3, blockingRequests: 2, recordingState: 'recording', ingestBitsPerSecond: 0 }]);
  t.match(status.liveDetails('s1'), { transcoder: 'running', renditions: ['180p'], transcodeMode: 'passthrough', publisher: null, reconnecting: null, ingest: null, readerDrops: {} });
  t.equal(status.liveDetails('nope'), undefined, 'nothing for a stream not in memory');
});
