import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { loadConfig, type ConfigOverrides } from './config/load-config.js';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './core/logger.js';
import { Owner } from './core/owner.js';
import { StreamRegistry } from './core/stream-registry.js';
import { ownerDisabledCheck } from './core/creator-policy.js';
import { resolveNodeId } from './core/node-id.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { HlsOrigin } from './playback/hls/hls-origin.js';
import { continuationPreparer } from './playback/hls/hls-continuation.js';
import type { Transcoder } from './transcode/transcoder.js';
import type { RtmpPlaybackFeeds } from './transcode/rtmp-playback-feeds.js';
import { RtmpServer } from './ingest/rtmp/rtmp-server.js';
import { RtmpPublishPolicy } from './ingest/rtmp/rtmp-publish-policy.js';
import type { WhipIngest } from './ingest/whip/whip-ingest.js';
import type { WhepPlayback } from './playback/whep/whep-playback.js';
import type { WorkerPool } from './webrtc/worker-pool.js';
import type { SignalServer } from './signaling/signal-server.js';
import { Authenticator } from './http/auth.js';
import { AnalyticsPersistence } from './metrics/analytics-persistence.js';
import { ViewerSessionTable } from './metrics/session-table.js';
import { WatchTicker } from './metrics/watch-ticker.js';
import { createMetricsRegistry, type ShowcaseMetrics } from './metrics/metrics-registry.js';
import { registerAppCollectors, type AppMetrics } from './metrics/app-collectors.js';
import { ingestMeterOf } from './metrics/ingest-meter.js';
import { StreamStatus } from './metrics/stream-status.js';
import { followPartLatency } from './metrics/part-latency.js';
import { RecordingService } from './recorder/recording-service.js';
import { registerRecordingCollectors } from './recorder/recording-metrics.js';
import { StreamOutputs } from './server/stream-outputs.js';
import { startWebRtc } from './server/webrtc-services.js';
import { provideAll } from './http/services.js';
import { errorHandling } from './http/error-handler.js';
import { httpMetrics } from './http/http-metrics.js';
import { metricsRoutes } from './http/metrics-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { staticFiles } from './http/file-response.js';
import { hlsRoutes } from './playback/hls/hls-routes.js';
import { streamsRoutes } from './http/streams-routes.js';
import { whipRoutes } from './ingest/whip/whip-routes.js';
import { whepRoutes } from './playback/whep/whep-routes.js';
import { studioRoutes } from './http/studio-routes.js';
import { recordingRoutes } from './http/recording-routes.js';
import { webAssets } from './http/web-assets.js';
import { watchRoutes, defaultWebAssetsDir } from './http/watch-routes.js';
import { commercePlugin } from './commerce/commerce-plugin.js';
import { commerceAnalytics } from './commerce/commerce-analytics.js';
import { WatchEventFeed } from './http/watch-event-feed.js';
import { roomPlugin } from './room/room-plugin.js';
import { UpgradeRouter } from './http/upgrade-router.js';
import { creatorsRoutes } from './http/creators-routes.js';
import { practicePlugin } from './journey/practice/practice-plugin.js';
import { discoveryPlugin } from './journey/discovery/discovery-plugin.js';
import { followersRoutes } from './journey/followers/followers-routes.js';
import { pushRoutes } from './journey/notify/push-routes.js';
import { NotifyService } from './journey/notify/notify-service.js';
import { clusterNode, type ClusterNode } from './cluster/cluster-node.js';
import { clusterPlugin } from './cluster/cluster-plugin.js';
import { clusterPipeRoutes } from './cluster/pipe-routes.js';
import type { ClusterPipes } from './cluster/cluster-pipes.js';

export interface AppOptions {
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
  /** Where pino writes (tests pass a sink); stdout by default. */
  logDestination?: NodeJS.WritableStream;
}

/**
 * Wires the parts; holds no policy of its own. The HTTP side is one fastify plugin per concern
 * over services registered once as decorators (src/http/services.ts); shutdown is an ownership
 * tree (core/owner.ts) whose shape is built in the constructor: see docs/ARCHITECTURE.md.
 */
export class ShowcaseApp {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly store: Store;
  readonly registry: StreamRegistry;
  readonly origin: HlsOrigin;
  readonly rtmp: RtmpServer;
  readonly http: FastifyInstance;
  readonly adminToken: string;
  readonly sessions: ViewerSessionTable;
  readonly ticker: WatchTicker;
  readonly analytics: AnalyticsPersistence;
  readonly metrics: ShowcaseMetrics;
  readonly appMetrics: AppMetrics;
  readonly auth: Authenticator;
  readonly status: StreamStatus;
  readonly outputs: StreamOutputs;
  readonly recordings?: RecordingService;
  /** The HTTP server's one WebSocket upgrade listener: /v1/signal, the room. */
  readonly upgrades: UpgradeRouter;
  /** Only when clustered (cluster.redisUrl): membership in Redis, placement, the HLS proxy. */
  readonly cluster?: ClusterNode;
  /** Notifications (issue 15): the outbox and this node's delivery worker. */
  readonly notify: NotifyService;
  webrtcPool?: WorkerPool;
  signaling?: SignalServer;
  whip?: WhipIngest;
  whep?: WhepPlayback;
  rtmpFeeds?: RtmpPlaybackFeeds;
  /** Clustered with WebRTC and a cluster.secret: the node-to-node WebRTC pipe (both sides). */
  pipes?: ClusterPipes;
  httpPort = 0;
  rtmpPort = 0;
  readonly #publishPolicy: RtmpPublishPolicy;
  /** app → ingest servers → streams (→ readers) → WebRTC → background → HTTP → store. */
  readonly #shutdown: Owner;
  readonly #tree: { ingest: Owner; webrtc: Owner };

  private constructor(config: Readonly<Config>, log: Logger, store: Store, nodeId: string) {
    this.config = config;
    this.log = log;
    const dataDir = resolve(config.dataDir);
    this.adminToken = config.adminToken || ShowcaseApp.#ensureAdminToken(dataDir, log);
    this.store = store;
    this.registry = new StreamRegistry({
      store, logger: log, reconnectGraceMs: config.streams.reconnectGraceMs, nodeId, leaseMs: config.node.leaseMs,
      prepareContinue: continuationPreparer(() => this.origin, () => this.recordings),
      isNodeGone: async (id) => (await this.cluster?.membership.isGone(id)) === true,
    });
    this.origin = new HlsOrigin({
      timing: { segmentSeconds: config.hls.segmentSeconds, partSeconds: config.hls.partSeconds, partHoldBackParts: config.hls.partHoldBackParts },
      windowSegments: config.hls.windowSegments,
      retainExtraSegments: config.hls.retainExtraSegments,
      maxBlockingRequests: config.hls.maxBlockingRequests,
      endedRetainSeconds: config.hls.endedRetainSeconds,
    });
    this.auth = new Authenticator(this.adminToken, store);
    this.notify = new NotifyService({ config, store, nodeId, logger: log });
    this.notify.attach(this.registry);
    this.upgrades = new UpgradeRouter(log);
    this.sessions = new ViewerSessionTable({ capacity: config.metrics.sessionCapacity, timeoutMs: config.metrics.sessionTimeoutMs, maxStreams: config.metrics.maxStreams });
    this.ticker = new WatchTicker({
      table: this.sessions,
      graceMs: config.metrics.endedSeriesGraceMs,
      onStreamDropped: (totals) => this.analytics.dropped(totals),
      // The per-minute timeline's ingest bitrate, from the stream's ingest meter (every protocol).
      ingestBitsPerSecond: (id, now) => ingestMeterOf(this.registry.get(id))?.rates(now).bitsPerSecond,
      logger: log.child({ component: 'watch-ticker' }),
    });
    this.analytics = new AnalyticsPersistence(store, this.ticker, Date.now, log.child({ component: 'analytics' }));
    this.metrics = createMetricsRegistry({ ticker: this.ticker, table: this.sessions, eventLoopPrecisionMs: config.metrics.eventLoopPrecisionMs, nodeLabel: config.cluster.redisUrl ? nodeId : undefined });
    if (config.recording.enabled) {
      this.recordings = new RecordingService({ dataDir, config: config.recording, ffmpegPath: config.transcode.ffmpegPath, store, origin: this.origin, logger: log.child({ component: 'recorder' }) });
      registerRecordingCollectors(this.metrics.registry, this.recordings);
      this.recordings.onReady = (id, info) => this.notify.recordingReady(id, info);
    }
    // unix socket paths must stay under ~100 bytes: a short private directory in the temp dir.
    const socketDir = mkdtempSync(join(tmpdir(), 'showcase-'));
    this.outputs = new StreamOutputs({ registry: this.registry, store, origin: this.origin, ticker: this.ticker, config, socketDir, whep: () => this.whep, recordings: this.recordings, logger: log });
    this.status = new StreamStatus({
      streams: () => this.registry.all(),
      stream: (id) => this.registry.get(id),
      transcoder: (id) => this.outputs.transcoders.get(id),
      hls: (id) => this.origin.get(id),
      recordingState: (id) => this.recordings?.cachedState(id),
    });
    this.cluster = clusterNode(config, { store, nodeId, logger: log, streams: () => ({ live: this.registry.liveCount(), speeds: this.status.metricsViews().map((v) => v.transcoderSpeed).filter((x) => x > 0) }), ingest: () => ({ rtmpPort: this.rtmpPort, whip: this.whip !== undefined }),
      ticker: this.ticker, holdsLive: (id) => this.registry.get(id)?.state === 'live', roomSockets: () => (this.http.hasDecorator('room') ? this.http.room.socketCounts() : []) });
    // Clustered: one node writes each stream's analytics, the sum of every node's viewers.
    if (this.cluster) this.analytics.periodSource = this.cluster.audience;
    this.#publishPolicy = new RtmpPublishPolicy({ registry: this.registry, isOwnerDisabled: ownerDisabledCheck(store), deadPublisherMs: config.rtmp.deadPublisherMs, reconnectGraceMs: config.streams.reconnectGraceMs });
    this.rtmp = new RtmpServer({ host: config.rtmp.host, port: config.rtmp.port, app: config.rtmp.app, readCoalesceMs: config.rtmp.readCoalesceMs, logger: log.child({ component: 'rtmp' }), limits: rtmpLimits(config), onPublish: (req) => this.#publishPolicy.decide(req) });
    this.appMetrics = registerAppCollectors(this.metrics.registry, this.metrics.streamLabels, {
      streamsLive: () => this.registry.liveCount(),
      streams: () => this.status.metricsViews(),
      blockingRequests: () => this.origin.budget.inFlight,
      blockingRejected: () => this.origin.budget.rejected,
      hlsBytesHeld: () => this.origin.all().reduce((n, s) => n + s.bytesHeld(), 0),
      rtmp: () => this.rtmp.stats(),
      auth: () => ({ failures: this.auth.limiter.failures, limited: this.auth.limiter.limited }),
    });
    this.origin.on('stream', (s) => followPartLatency(s, (id, seconds) => this.appMetrics.observePartLatency(id, seconds)));
    this.origin.on('dropped', (id) => this.appMetrics.dropStream(id));
    // Per-request access logs would be one line per LL-HLS part: the HTTP logger starts at warn.
    this.http = Fastify({ loggerInstance: log.child({ component: 'http' }, { level: log.levelVal > 40 ? log.level : 'warn' }) as unknown as FastifyBaseLogger, bodyLimit: config.http.bodyLimitBytes,
      trustProxy: false,
      // Strict validation: a wrong type or an unknown field is a 400, never silently coerced or dropped.
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    });

    // The shutdown tree, in closing order. A deploy must not end the shows: live streams become
    // 'interrupted' and the next process continues each one whose publisher reconnects within
    // streams.reconnectGraceMs.
    const app = (this.#shutdown = new Owner('app', log));
    const ingest = app.branch('ingest');
    if (this.cluster) ingest.add('cluster', this.cluster); // leaves the set first: no placement lands here any more
    ingest.step('admission', (reason) => {
      this.#publishPolicy.close();
      this.outputs.interrupt(reason);
    });
    ingest.add('rtmp', this.rtmp);
    app.add('streams', this.outputs);
    const webrtc = app.branch('webrtc');
    const background = app.branch('background');
    background.step('leases', () => this.registry.stopLeaseRenewal());
    background.step('analytics', () => this.analytics.stopPeriodic());
    if (this.recordings) background.step('recorder', () => this.recordings!.stop());
    background.add('ticker', this.ticker);
    background.add('metrics', this.metrics);
    background.add('origin', this.origin);
    background.add('notify', this.notify); // the worker stops; its leased rows go back to the outbox
    app.step('http', () => this.http.close());
    // Writes queued by the streams' ends and the ticker's last flush go out before the store closes.
    const storage = app.branch('store');
    storage.step('stream-writes', () => this.registry.flush());
    storage.step('analytics-writes', () => this.analytics.flush());
    storage.step('notify-writes', () => this.notify.flush());
    storage.add('store', store);
    storage.step('socket-dir', () => rmSync(socketDir, { recursive: true, force: true }));
    this.#tree = { ingest, webrtc };
  }

  /** Each in-memory stream's transcoder (owned by the streams node). */
  get transcoders(): Map<string, Transcoder> {
    return this.outputs.transcoders;
  }

  /** Loads config, opens the store, starts RTMP and HTTP listeners; resolves once both listen. */
  static async start(opts: AppOptions = {}): Promise<ShowcaseApp> {
    const config = loadConfig({ overrides: opts.overrides, env: opts.env, file: opts.configFile });
    const log = createLogger(config.logLevel, opts.logDestination);
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const nodeId = resolveNodeId(config.node.id, dataDir, log);
    const store = await openStore({ url: config.store.url, dataDir, maxConnections: config.store.maxConnections, logger: log });
    let app: ShowcaseApp;
    try {
      app = new ShowcaseApp(config, log, store, nodeId);
    } catch (err) {
      await store.close();
      throw err;
    }
    try {
      await app.#listen();
    } catch (err) {
      await app.stop();
      throw err;
    }
    return app;
  }

  /** Generates (once) and reads the operator token kept in the data dir when none is configured. */
  static #ensureAdminToken(dataDir: string, log: Logger): string {
    const file = join(dataDir, 'admin-token');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const token = `op_${randomBytes(24).toString('base64url')}`;
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    log.warn({ file }, 'no adminToken configured: generated one and stored it in the data dir (set SHOWCASE_ADMIN_TOKEN to choose your own)');
    return token;
  }

  async #listen(): Promise<void> {
    const c = this.config;
    this.upgrades.attach(this.http.server);
    const webrtc = await startWebRtc({
      config: c, registry: this.registry, store: this.store, sessions: this.sessions, limiter: this.auth.limiter, metrics: this.metrics.registry,
      upgrades: this.upgrades, ingest: this.#tree.ingest, webrtc: this.#tree.webrtc, cluster: this.cluster, logger: this.log,
    });
    this.webrtcPool = webrtc?.pool;
    this.whip = webrtc?.whip;
    this.whep = webrtc?.whep;
    this.rtmpFeeds = webrtc?.feeds;
    this.signaling = webrtc?.signaling;
    this.pipes = webrtc?.pipes;
    await this.#routes();
    // Before any publisher can arrive: end what a previous process (or an expired node) left live,
    // then recording reads each stream's renditions and finalizes what a crash left.
    this.notify.streamsEnded(await this.registry.recoverInterrupted());
    await this.recordings?.start();
    // Streams the previous process interrupted (a deploy): their outputs continue where it left
    // them, and each waits streams.reconnectGraceMs from now for its publisher, then ends.
    await this.registry.restoreInterrupted();
    this.registry.startReconnectWindows();
    this.rtmpPort = (await this.rtmp.listen()).port;
    await this.http.listen({ host: c.http.host, port: c.http.port });
    const addr = this.http.server.address();
    this.httpPort = typeof addr === 'object' && addr ? addr.port : c.http.port;
    await this.cluster?.start();
    this.ticker.start();
    this.registry.startLeaseRenewal();
    this.analytics.startPeriodic(60_000);
    await this.notify.start();
    this.log.info({ httpPort: this.httpPort, rtmpPort: this.rtmpPort, rtmpApp: c.rtmp.app, dataDir: resolve(c.dataDir), node: process.version }, 'showcase listening');
  }

  /** The services as decorators, then one plugin per concern (each declares what it depends on). */
  async #routes(): Promise<void> {
    const http = this.http;
    await provideAll(http, {
      config: this.config, store: this.store, registry: this.registry, auth: this.auth, origin: this.origin, sessions: this.sessions,
      ticker: this.ticker, metrics: this.metrics, appMetrics: this.appMetrics, analytics: this.analytics, streamStatus: this.status, rtmp: this.rtmp,
      recordings: this.recordings, whip: this.whip, whep: this.whep, signaling: this.signaling, cluster: this.cluster, notify: this.notify,
    });
    await http.register(errorHandling);
    await http.register(httpMetrics);
    // Before every route it guards: its hook hides practice streams from the public surfaces.
    await http.register(practicePlugin, { upgrades: this.upgrades });
    await http.register(metricsRoutes, { commerce: (id) => commerceAnalytics(this.store, id) });
    await http.register(healthRoutes);
    await http.register(staticFiles);
    if (this.cluster) await http.register(clusterPlugin); // before the HLS routes: its hook proxies other nodes' streams
    await http.register(hlsRoutes);
    await http.register(streamsRoutes);
    if (this.whip) await http.register(whipRoutes);
    if (this.whep) await http.register(whepRoutes);
    if (this.pipes) await http.register(clusterPipeRoutes, { pipes: this.pipes });
    if (this.signaling) await http.register(studioRoutes);
    if (this.recordings) await http.register(recordingRoutes);
    await http.register(webAssets, { assetsDir: defaultWebAssetsDir(), pages: ['watch', 'studio', 'home', 'storefront'] });
    // Events other parts push to open watch pages (the carousel, highlights, sold counts).
    const watchFeed = new WatchEventFeed();
    await http.register(watchRoutes, { feed: watchFeed });
    await http.register(commercePlugin, { config: this.config.commerce, store: this.store, auth: this.auth, registry: this.registry, origin: this.origin, recordings: this.recordings, feed: watchFeed, logger: this.log, onConversion: (c) => this.notify.conversionCreated(c) });
    await http.register(roomPlugin, { store: this.store, auth: this.auth, config: this.config.room, upgrades: this.upgrades, registry: this.registry, origin: this.origin, logger: this.log, fanout: this.cluster?.roomFanout,
      ...(this.cluster ? { viewerCount: (id: string, n: number) => this.cluster!.audience.roomViewers(id, n) } : {}) });
    await http.register(creatorsRoutes);
    // The creator's journey (issue 15).
    await http.register(discoveryPlugin);
    await http.register(followersRoutes);
    await http.register(pushRoutes);
  }

  /**
   * Stops: the shutdown tree closes in order (see the constructor). Live streams are interrupted
   * (kept for the next process: no ENDLIST, recordings not finalized), ffmpeg children killed,
   * queued writes flushed, the store closed. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#shutdown.closedReason !== undefined) return this.#shutdown.close('server stopping');
    this.log.info('showcase stopping');
    await this.#shutdown.close('server stopping');
    this.log.info('showcase stopped');
  }
}

/** The RTMP server's guards, from config. */
function rtmpLimits(c: Readonly<Config>): ConstructorParameters<typeof RtmpServer>[0]['limits'] {
  const r = c.rtmp;
  return {
    maxConnections: r.maxConnections,
    maxConnectionsPerIp: r.maxConnectionsPerIp,
    handshakeTimeoutMs: r.handshakeTimeoutMs,
    idleTimeoutMs: r.idleTimeoutMs,
    maxChunkSize: r.maxChunkSize,
    maxMessageSize: r.maxMessageSize,
    maxBufferedBytes: r.maxBufferedBytes,
    maxChunkStreams: r.maxChunkStreams,
  };
}
