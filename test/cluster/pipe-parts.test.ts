// The pipe's two sides with real mediasoup workers but no HTTP, Redis or second process: a
// "holding node" (its own WorkerPool and WhepPlayback with a source of two producers) and a
// "viewer node" (another pool and WhepPlayback whose sourceFor is PipedSources), joined by a client
// that calls the holder's methods directly (the HTTP routes are covered by whep-pipe.test.ts). Shown:
// a pause of the source's video reaches the viewer node's piped producer (and the resume); a pipe
// is never made of a stream the holder does not hold itself; a viewer node that stops asking is
// dropped by the holder after its timeout (its place there given back); a holder that leaves the
// set closes the viewer node's viewers with SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE.
import t from 'tap';
import { Writable } from 'node:stream';
import type { types } from 'mediasoup';
import { createLogger } from '../../src/core/logger.js';
import { WorkerPool } from '../../src/webrtc/worker-pool.js';
import { WhepPlayback } from '../../src/playback/whep/whep-playback.js';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';
import { WHIP_MEDIA_CODECS } from '../../src/webrtc/sdp.js';
import { PipeHolder } from '../../src/cluster/pipe-holder.js';
import { PipedSources } from '../../src/cluster/pipe-sources.js';
import { PipeRequestError, type PipeClient } from '../../src/cluster/pipe-protocol.js';
import { ShowcaseError } from '../../src/core/errors.js';
import { waitFor } from '../helpers/server.js';

const skip = resolveWorkerBinary() ? false : 'mediasoup-worker not found (set MEDIASOUP_WORKER_BIN or run bash native/mediasoup/build.sh)';
const LISTEN: types.TransportListenInfo = { protocol: 'udp', ip: '127.0.0.1' };
const lines: Array<Record<string, unknown>> = [];
const logger = createLogger('info', new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } }));

function playback(pool: WorkerPool, sourceFor?: (id: string) => Promise<never>): WhepPlayback {
  return new WhepPlayback({
    pool, logger, listenInfos: [LISTEN], timeouts: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 5000 },
    limits: { maxViewers: 100, maxViewersPerStream: 100, maxViewersPerIp: 100, maxConsumersPerWorker: 1000 },
    ...(sourceFor ? { sourceFor } : {}),
  });
}

t.test('the pipe between two nodes\' workers', { skip }, async (t) => {
  const holderPool = await WorkerPool.create({ size: 1, logger });
  const viewerPool = await WorkerPool.create({ size: 1, logger });
  t.teardown(() => { holderPool.close(); viewerPool.close(); });
  const holderWhep = playback(holderPool);
  t.teardown(() => holderWhep.close());

  // The holder's source: a PlainTransport with an Opus and an H.264 producer (no RTP needed here).
  const router = await holderPool.createRouter('test:source', WHIP_MEDIA_CODECS);
  const ingest = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: true });
  const audio = await ingest.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }], encodings: [{ ssrc: 1111 }], rtcp: { cname: 'pipe-test' } } });
  const video = await ingest.produce({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H264', payloadType: 102, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 }, rtcpFeedback: [] }], encodings: [{ ssrc: 2222 }], rtcp: { cname: 'pipe-test' } } });
  holderWhep.setSource({ streamId: 's1', router, producers: [audio, video] });

  const held = new Set(['s1']);
  let answerKeepalives = true;
  let holderInSet = true;
  const holder = new PipeHolder({
    place: async (id, addr) => {
      if (!held.has(id)) throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'not held here');
      return holderWhep.placeViewer({ streamId: id, remoteAddress: addr });
    },
    listenInfo: () => LISTEN,
    nodeUrl: () => 'http://viewer.invalid',
    // The holder's pushes go straight to the viewer node's PipedSources (set below).
    client: { call: async (_u: string, _m: string, path: string, body: never) => { sources.onEvent('holder', path.split('/')[4]!, body); return {}; } } as unknown as PipeClient,
    timeoutMs: 600,
    maxPipes: 8,
    logger,
  });
  t.teardown(() => holder.close());
  // The viewer node's requests, answered by the holder's methods as its routes would.
  const toHolder = {
    call: async (_u: string, method: string, path: string, body?: any) => {
      const parts = path.split('/');
      try {
        if (method === 'POST' && parts.length === 4) return await holder.open(body.streamId, 'viewer');
        if (method === 'POST' && parts[5] === 'connect') return await holder.connect(parts[4]!, 'viewer', body);
        if (method === 'GET') {
          if (!answerKeepalives) throw new PipeRequestError('no answer', 0);
          return holder.keepalive(parts[4]!, 'viewer');
        }
        if (method === 'DELETE') return holder.remove(parts[4]!, 'viewer');
      } catch (err) {
        if (err instanceof ShowcaseError) throw new PipeRequestError(err.message, err.status, err.code);
        throw err;
      }
      throw new Error(`unexpected ${method} ${path}`);
    },
  } as unknown as PipeClient;
  const sources: PipedSources = new PipedSources({
    selfId: 'viewer', pool: viewerPool, listenInfo: () => LISTEN,
    holderOf: async () => ({ nodeId: 'holder', url: 'http://holder.invalid' }),
    inSet: () => holderInSet,
    client: toHolder,
    viewers: (id) => viewerWhep.viewers(id),
    dropSource: (id, source, reason) => { if (viewerWhep.fanout(id)?.source === source) viewerWhep.removeSource(id, reason); },
    keepaliveMs: 100, timeoutMs: 600, idleStopMs: 300, maxPipes: 8, logger,
  });
  t.teardown(() => sources.close());
  const viewerWhep = playback(viewerPool, (id) => sources.sourceFor(id) as Promise<never>);
  t.teardown(() => viewerWhep.close());
  viewerWhep.on('placementreleased', (id) => sources.viewerLeft(id));

  // A viewer on the viewer node: the stream is piped, with both producers.
  const place = await viewerWhep.placeViewer({ streamId: 's1', remoteAddress: '10.0.0.9' });
  t.equal(place.producers.length, 2, 'the viewer node\'s viewer sees audio and video');
  t.equal(sources.size, 1, 'one pipe');
  t.equal(holder.size, 1, 'held once');
  t.equal(holderWhep.viewers('s1'), 1, 'the pipe counts as one viewer on the holder');
  const [taken] = await sources.views();
  t.match(taken, { streamId: 's1', node: 'holder', producers: 2, srtp: { cryptoSuite: /\w+/ } }, 'SRTP on the viewer node\'s end');
  const piped = viewerWhep.fanout('s1')!.source.producers;
  const pipedVideo = piped.find((p) => p.kind === 'video')!;
  t.equal(pipedVideo.paused, false);

  // Pause state mirrored: the source's video paused on the holder pauses the viewer node's copy.
  await video.pause();
  await waitFor(() => pipedVideo.paused, 'the piped video paused on the viewer node', 5000, 20);
  await video.resume();
  await waitFor(() => !pipedVideo.paused, 'and resumed', 5000, 20);
  t.pass('pause and resume mirrored across the pipe');

  // Never a pipe of a stream the holder does not hold itself: the viewer gets the usual 409.
  await t.rejects(viewerWhep.placeViewer({ streamId: 'elsewhere', remoteAddress: '10.0.0.9' }), { code: 'SHOWCASE_ERR_WHEP_NOT_LIVE' });
  t.equal(sources.size, 1, 'no pipe for it');

  // The viewer node goes silent: the holder drops the pipe after its timeout and gives its place back;
  // the viewer node, getting no answers, finds the holder gone.
  answerKeepalives = false;
  await waitFor(() => holder.size === 0, 'the holder dropped the silent pipe', 5000, 20);
  t.equal(holderWhep.viewers('s1'), 0, 'its place on the holder given back');
  await waitFor(() => sources.size === 0, 'the viewer node gave up on the silent holder', 5000, 20);
  t.equal(sources.holderGone, 1, 'counted as holder gone');
  place.release();
  answerKeepalives = true;

  // A holder that leaves the set: the viewer node's WHEP viewers are closed with the code.
  const again = await viewerWhep.placeViewer({ streamId: 's1', remoteAddress: '10.0.0.9' });
  t.equal(sources.size, 1, 'piped again');
  const closedAt = lines.length;
  holderInSet = false;
  await waitFor(() => sources.size === 0, 'the pipe closed once the holder left the set', 5000, 20);
  t.equal(viewerWhep.hasSource('s1'), false, 'the viewer node\'s source for it is gone');
  t.ok(lines.slice(closedAt).find((l) => l.code === 'SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE' && /left the cluster/.test(String(l.reason))), 'logged with the code and why');
  await waitFor(() => holder.size === 0, 'the holder dropped it too (no keep-alive)', 5000, 20);
  again.release();

  // Idle teardown: the last viewer leaving ends the pipe after idleStopMs, and the holder is told.
  holderInSet = true;
  const third = await viewerWhep.placeViewer({ streamId: 's1', remoteAddress: '10.0.0.9' });
  t.equal(holder.size, 1);
  third.release();
  await waitFor(() => sources.size === 0 && holder.size === 0, 'idle pipe torn down on both sides', 5000, 20);
  t.equal(holderWhep.viewers('s1'), 0, 'nothing left on the holder');
});
