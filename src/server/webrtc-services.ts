import type { UpgradeRouter } from '../http/upgrade-router.js';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Owner } from '../core/owner.js';
import type { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { ownerDisabledCheck } from '../core/creator-policy.js';
import { hashSecret } from '../core/secrets.js';
import type { Store } from '../store/types.js';
import { WorkerPool } from '../webrtc/worker-pool.js';
import { resolveWorkerBinary } from '../webrtc/worker-binary.js';
import { WebRtcListenPlanner } from '../webrtc/listen-plan.js';
import { registerWebRtcCollectors } from '../webrtc/webrtc-metrics.js';
import { WhipIngest } from '../ingest/whip/whip-ingest.js';
import { WhepPlayback } from '../playback/whep/whep-playback.js';
import { WhepSessionAccounting, type WebRtcViewerSessions } from '../playback/whep/whep-session-accounting.js';
import { RtmpPlaybackFeeds } from '../transcode/rtmp-playback-feeds.js';
import { SignalServer } from '../signaling/signal-server.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { ClusterPipes } from '../cluster/cluster-pipes.js';
import { registerPipeCollectors } from '../cluster/pipe-metrics.js';

/** The WebRTC servers of one process (one worker pool shared by WHIP, WHEP and the signaling). */
export interface WebRtcParts {
  pool: WorkerPool;
  whip: WhipIngest;
  whep: WhepPlayback;
  /** RTMP streams' WebRTC feeds (a second encode per stream, only while it has WHEP viewers). */
  feeds?: RtmpPlaybackFeeds;
  signaling: SignalServer;
  /** Clustered with a cluster.secret: WHEP viewers here of streams other nodes hold (src/cluster/pipe-*.ts). */
  pipes?: ClusterPipes;
}

export interface WebRtcStartOptions {
  config: Readonly<Config>;
  registry: StreamRegistry;
  store: Store;
  sessions: WebRtcViewerSessions;
  /** Bad stream keys count against the address, as for API tokens. */
  limiter: AuthFailureLimiter;
  metrics: Registry;
  /** The HTTP server's one upgrade router: the signaling's WebSocket path is routed there. */
  upgrades: UpgradeRouter;
  /** Where the signaling (an ingest server) is closed, with RTMP. */
  ingest: Owner;
  /** Where WHEP, the RTMP feeds, WHIP and the pool are closed, in that order. */
  webrtc: Owner;
  /** Only when clustered: streams other nodes hold are piped here for WebRTC viewers. */
  cluster?: ClusterNode;
  logger: Logger;
}

/**
 * Starts WebRTC when enabled and the mediasoup worker exists: the pool, WHIP ingest, WHEP playback
 * (a WHIP stream watched from its producers, an RTMP stream from a feed started on demand), its
 * viewers counted as watching sessions, and the WebSocket signaling. Each part is added to the
 * shutdown tree where it belongs. Undefined when WebRTC is off.
 */
export async function startWebRtc(o: WebRtcStartOptions): Promise<WebRtcParts | undefined> {
  const c = o.config;
  const w = c.webrtc;
  const log = o.logger;
  if (!w.enabled) return undefined;
  if (!resolveWorkerBinary()) {
    log.warn('WebRTC ingest disabled: mediasoup-worker not found (bash native/mediasoup/build.sh or set MEDIASOUP_WORKER_BIN)');
    return undefined;
  }
  const pool = await WorkerPool.create({ size: w.workers, rtcMinPort: w.rtcMinPort, rtcMaxPort: w.rtcMaxPort, logLevel: w.logLevel, logger: log.child({ component: 'webrtc' }) });
  // One plan for WHIP, WHEP and the signaling's transports: the host's own addresses unless told otherwise.
  const listenInfos = new WebRtcListenPlanner(w, log.child({ component: 'webrtc' })).listenInfos;
  const timeouts = { connectTimeoutMs: w.connectTimeoutMs, disconnectTimeoutMs: w.disconnectTimeoutMs };
  const whip = new WhipIngest({
    registry: o.registry,
    pool,
    logger: log.child({ component: 'whip' }),
    listenInfos,
    timeouts: { ...timeouts, reconnectGraceMs: c.streams.reconnectGraceMs },
    iceConsentTimeoutSeconds: w.iceConsentTimeoutSeconds,
    maxSessions: w.maxSessions,
    bridgePortRange: { min: w.bridgeMinPort, max: w.bridgeMaxPort },
    keyExists: async (key) => (await o.store.getStreamByKeyHash(hashSecret(key))) !== undefined,
    isOwnerDisabled: ownerDisabledCheck(o.store),
  });
  const feeds: RtmpPlaybackFeeds | undefined = w.rtmpPlayback.enabled ? new RtmpPlaybackFeeds({
    stream: (id) => o.registry.get(id),
    pool,
    settings: w.rtmpPlayback,
    supervision: c.transcode,
    // Called only once viewers come, after whep below exists.
    viewers: (id): number => whep.viewers(id),
    logger: log,
  }) : undefined;
  const whep: WhepPlayback = new WhepPlayback({
    pool,
    logger: log,
    listenInfos,
    timeouts,
    iceConsentTimeoutSeconds: w.iceConsentTimeoutSeconds,
    limits: { maxViewers: w.maxViewers, maxViewersPerStream: w.maxViewersPerStream, maxViewersPerIp: w.maxViewersPerIp, maxConsumersPerWorker: w.maxConsumersPerWorker },
    // A practice stream does not exist for viewers (its owner previews it over HLS).
    streamExists: async (id) => {
      const rec = await o.store.getStream(id);
      return rec !== undefined && rec.practice !== true;
    },
    isHidden: (id) => o.registry.get(id)?.practice === true,
    // An RTMP stream held here starts its feed; a stream another node holds is piped from it.
    sourceFor: async (id: string) => (await feeds?.sourceFor(id)) ?? pipes?.sources.sourceFor(id),
  });
  const pipes = o.cluster && c.cluster.secret ? new ClusterPipes({ config: c, cluster: o.cluster, pool, whep, listenInfos, holds: (id) => o.registry.get(id)?.state === 'live', logger: log }) : undefined;
  if (o.cluster && !pipes) log.warn('clustered without cluster.secret (SHOWCASE_CLUSTER_SECRET): WebRTC viewers of streams other nodes hold are refused');
  if (feeds) whep.on('sessionclosed', (s) => feeds.viewerLeft(s.streamId));
  if (feeds) whep.on('placementreleased', (id) => feeds.viewerLeft(id));
  new WhepSessionAccounting(whep, o.sessions, (id) => o.registry.get(id)?.state === 'live');
  registerWebRtcCollectors(o.metrics, { workers: () => pool.load(), sessions: () => ({ whip: whip.size, whep: whep.size }) });
  if (pipes) registerPipeCollectors(o.metrics, pipes);
  // WebSocket signaling (/v1/signal) for the studio page and mediasoup-client viewers.
  const signaling = new SignalServer({
    ingest: whip,
    playback: whep,
    limiter: o.limiter,
    limits: {
      maxMessageBytes: w.signalingMaxMessageBytes,
      messagesPerSecond: w.signalingMessagesPerSecond,
      joinTimeoutMs: w.signalingJoinTimeoutMs,
      negotiateTimeoutMs: w.connectTimeoutMs,
      maxConnections: w.signalingMaxConnections,
      maxConnectionsPerIp: w.signalingMaxConnectionsPerIp,
      heartbeatMs: w.signalingHeartbeatMs,
    },
    viewerTimeouts: timeouts,
    logger: log,
  });
  o.upgrades.route('signaling', signaling.path, signaling);
  o.ingest.add('signaling', signaling);
  if (pipes) o.webrtc.add('cluster-pipes', pipes);
  o.webrtc.add('whep', whep);
  if (feeds) o.webrtc.add('rtmp-feeds', feeds);
  o.webrtc.add('whip', whip);
  o.webrtc.add('worker-pool', pool);
  return { pool, whip, whep, feeds, signaling, pipes };
}
