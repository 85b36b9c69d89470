import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { loadConfig, type ConfigOverrides } from './config/load-config.js';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './core/logger.js';
import { StreamRegistry } from './core/stream-registry.js';
import type { LiveStream, PublisherHandle } from './core/live-stream.js';
import { openStore } from './store/open-store.js';
import { resolveNodeId } from './core/node-id.js';
import type { Store, StreamRecord } from './store/types.js';
import { HlsOrigin } from './playback/hls/hls-origin.js';
import { Transcoder } from './transcode/transcoder.js';
import { RtmpServer, type RtmpPublishDecision, type RtmpPublishRequest } from './ingest/rtmp/rtmp-server.js';
import { installErrorHandling } from './http/error-handler.js';
import { staticFiles } from './http/file-response.js';
import { webAssets } from './http/web-assets.js';
import { hlsRoutes } from './playback/hls/hls-routes.js';
import { streamsRoutes } from './http/streams-routes.js';
import { creatorsRoutes } from './http/creators-routes.js';
import { watchRoutes, defaultWebAssetsDir } from './http/watch-routes.js';
import { Authenticator } from './http/auth.js';
import { AuthFailureLimiter } from './core/auth-failure-limiter.js';
import { metricsRoutes } from './http/metrics-routes.js';
import { AnalyticsPersistence } from './metrics/analytics-persistence.js';
import { ViewerSessionTable } from './metrics/session-table.js';
import { WatchTicker } from './metrics/watch-ticker.js';
import { createMetricsRegistry, type ShowcaseMetrics } from './metrics/metrics-registry.js';
import { registerAppCollectors, type AppMetrics, type StreamMetricsView } from './metrics/app-collectors.js';
import type { HlsStream } from './playback/hls/hls-stream.js';
import { RecordingService } from './recorder/recording-service.js';
import { registerRecordingCollectors } from './recorder/recording-metrics.js';
import { recordingRoutes } from './http/recording-routes.js';
import { WorkerPool } from './webrtc/worker-pool.js';
import { WhipIngest } from './ingest/whip/whip-ingest.js';
import { resolveWorkerBinary } from './webrtc/worker-binary.js';
import { WebRtcListenPlanner } from './webrtc/listen-plan.js';
import { whipRoutes } from './ingest/whip/whip-routes.js';
import { WhepPlayback } from './playback/whep/whep-playback.js';
import { RtmpPlaybackFeeds } from './transcode/rtmp-playback-feeds.js';
import { whepRoutes } from './playback/whep/whep-routes.js';
import { registerWebRtcCollectors } from './webrtc/webrtc-metrics.js';
import { IngestMeter, ingestMeterOf } from './metrics/ingest-meter.js';
import { WhepSourceReader } from './playback/whep/whep-source-reader.js';
import { hashSecret } from './core/secrets.js';
import { SignalServer } from './signaling/signal-server.js';
import { studioRoutes } from './http/studio-routes.js';
import { restoreContinuations, saveContinuations } from './playback/hls/hls-continuation.js';
import { commercePlugin } from './commerce/commerce-plugin.js';
import { commerceAnalytics } from './commerce/commerce-analytics.js';
import { WatchEventFeed } from './http/watch-event-feed.js';

export interface AppOptions {
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
  /** Where pino writes (tests pass a sink); stdout by default. */
  logDestination?: NodeJS.WritableStream;
}

/**
 * Wires the parts in dependency order and stops them in reverse: store -> registry -> HLS origin ->
 * transcoders (per stream, on go-live) -> RTMP ingest -> HTTP.
 */
export class ShowcaseApp {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly store: Store;
  readonly registry: StreamRegistry;
  readonly origin: HlsOrigin;
  readonly rtmp: RtmpServer;
  readonly http: FastifyInstance;
  readonly transcoders = new Map<string, Transcoder>();
  readonly adminToken: string;
  readonly sessions: ViewerSessionTable;
  readonly ticker: WatchTicker;
  readonly analytics: AnalyticsPersistence;
  readonly metrics: ShowcaseMetrics;
  readonly appMetrics: AppMetrics;
  readonly auth: Authenticator;
  readonly recordings?: RecordingService;
  webrtcPool?: WorkerPool;
  signaling?: SignalServer;
  whip?: WhipIngest;
  whep?: WhepPlayback;
  /** RTMP streams' WebRTC feeds (a second encode per stream, only while it has WHEP viewers). */
  rtmpFeeds?: RtmpPlaybackFeeds;
  readonly #socketDir: string;
  #analyticsTimer?: NodeJS.Timeout;
  httpPort = 0;
  rtmpPort = 0;
  #stopped = false;

  private constructor(config: Readonly<Config>, log: Logger, store: Store, nodeId: string) {
    this.config = config;
    this.log = log;
    const dataDir = resolve(config.dataDir);
    this.adminToken = config.adminToken || ShowcaseApp.#ensureAdminToken(dataDir, log);
    this.store = store;
    this.registry = new StreamRegistry({ store, logger: log, reconnectGraceMs: config.streams.reconnectGraceMs, nodeId, leaseMs: config.node.leaseMs });
    this.origin = new HlsOrigin({
      timing: { segmentSeconds: config.hls.segmentSeconds, partSeconds: config.hls.partSeconds },
      windowSegments: config.hls.windowSegments,
      retainExtraSegments: config.hls.retainExtraSegments,
      maxBlockingRequests: config.hls.maxBlockingRequests,
      endedRetainSeconds: config.hls.endedRetainSeconds,
    });
    this.origin.on('stream', (s) => this.#observeParts(s));
    this.origin.on('dropped', (id) => this.appMetrics.dropStream(id));
    // unix socket paths must stay under ~100 bytes: a short private directory in the temp dir.
    this.#socketDir = mkdtempSync(join(tmpdir(), 'showcase-'));
    this.registry.on('stream', (s) => this.#attachOutputs(s));
    this.auth = new Authenticator(this.adminToken, this.store);
    this.sessions = new ViewerSessionTable({ capacity: config.metrics.sessionCapacity, timeoutMs: config.metrics.sessionTimeoutMs, maxStreams: config.metrics.maxStreams });
    this.ticker = new WatchTicker({
      table: this.sessions,
      graceMs: config.metrics.endedSeriesGraceMs,
      onStreamDropped: (totals) => this.analytics.dropped(totals),
      // The per-minute timeline's ingest bitrate, from the stream's ingest meter (every protocol).
      ingestBitsPerSecond: (id, now) => ingestMeterOf(this.registry.get(id))?.rates(now).bitsPerSecond,
      logger: log.child({ component: 'watch-ticker' }),
    });
    this.analytics = new AnalyticsPersistence(this.store, this.ticker, Date.now, log.child({ component: 'analytics' }));
    this.metrics = createMetricsRegistry({ ticker: this.ticker, table: this.sessions, eventLoopPrecisionMs: this.config.metrics.eventLoopPrecisionMs });
    this.appMetrics = registerAppCollectors(this.metrics.registry, this.metrics.streamLabels, {
      streamsLive: () => this.registry.liveCount(),
      streams: () => this.#streamMetrics(),
      blockingRequests: () => this.origin.budget.inFlight,
      blockingRejected: () => this.origin.budget.rejected,
      hlsBytesHeld: () => this.origin.all().reduce((n, s) => n + s.bytesHeld(), 0),
      rtmp: () => this.rtmp.stats(),
      auth: () => ({ failures: this.auth.limiter.failures, limited: this.auth.limiter.limited }),
    });
    if (config.recording.enabled) {
      this.recordings = new RecordingService({
        dataDir,
        config: config.recording,
        ffmpegPath: config.transcode.ffmpegPath,
        store: this.store,
        origin: this.origin,
        logger: log.child({ component: 'recorder' }),
      });
      registerRecordingCollectors(this.metrics.registry, this.recordings);
    }
    this.rtmp = new RtmpServer({
      host: config.rtmp.host,
      port: config.rtmp.port,
      app: config.rtmp.app,
      logger: log.child({ component: 'rtmp' }),
      limits: {
        maxConnections: config.rtmp.maxConnections,
        maxConnectionsPerIp: config.rtmp.maxConnectionsPerIp,
        handshakeTimeoutMs: config.rtmp.handshakeTimeoutMs,
        idleTimeoutMs: config.rtmp.idleTimeoutMs,
        maxChunkSize: config.rtmp.maxChunkSize,
        maxMessageSize: config.rtmp.maxMessageSize,
        maxBufferedBytes: config.rtmp.maxBufferedBytes,
        maxChunkStreams: config.rtmp.maxChunkStreams,
      },
      onPublish: (req) => this.#onRtmpPublish(req),
    });
    // Per-request access logs would be one line per LL-HLS part: the HTTP logger starts at warn.
    this.http = Fastify({ loggerInstance: log.child({ component: 'http' }, { level: log.levelVal > 40 ? log.level : 'warn' }) as unknown as FastifyBaseLogger, bodyLimit: config.http.bodyLimitBytes,
      trustProxy: false,
      // Strict validation: a wrong type or an unknown field is a 400, never silently coerced or dropped.
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    });
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
    installErrorHandling(this.http);
    const auth = this.auth;
    this.http.addHook('onResponse', async (req, reply) => {
      this.appMetrics.observeHttp(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    });
    await this.http.register(metricsRoutes, {
      store: this.store,
      auth,
      metrics: this.metrics,
      table: this.sessions,
      ticker: this.ticker,
      heartbeatLimiter: new AuthFailureLimiter(c.metrics.heartbeatsPerMinute, 60_000),
      analytics: (id) => this.analytics.current(id),
      commerce: (id) => commerceAnalytics(this.store, id),
    });
    this.http.get('/healthz', async () => ({ ok: true, streamsLive: this.registry.liveCount() }));
    await this.http.register(staticFiles);
    await this.http.register(hlsRoutes, {
      origin: this.origin,
      corsOrigin: c.http.corsOrigin,
      sessionQuery: (id) => {
        const live = this.registry.get(id)?.state === 'live';
        const sid = this.sessions.issue(id, 'hls', live ? 'live' : 'replay');
        return sid ? `?_sid=${sid}` : '';
      },
      touchSession: (id, sid) => this.sessions.touch(sid, undefined, id),
      isLive: (id) => this.registry.get(id)?.publisher !== undefined,
      vod: this.recordings ? (id, rendition, file) => this.recordings!.vodFile(id, rendition, file) : undefined,
    });
    await this.http.register(streamsRoutes, {
      store: this.store,
      auth,
      registry: this.registry,
      publicBaseUrl: c.publicBaseUrl,
      rtmpPublicHost: c.rtmpPublicHost,
      rtmpPort: () => this.rtmpPort,
      rtmpApp: c.rtmp.app,
      liveDetails: (id) => this.#liveDetails(id),
      endStream: (id, reason) => this.#endStream(id, reason),
      whipEnabled: () => this.whip !== undefined,
    });
    await this.#startWebRtc();
    if (this.recordings) await this.http.register(recordingRoutes, { store: this.store, auth, recordings: this.recordings, publicBaseUrl: c.publicBaseUrl });
    await this.http.register(webAssets, { assetsDir: defaultWebAssetsDir(), pages: ['watch', 'studio'] });
    const watchFeed = new WatchEventFeed();
    await this.http.register(watchRoutes, { store: this.store, registry: this.registry, assetsDir: defaultWebAssetsDir(), publicBaseUrl: c.publicBaseUrl, feed: watchFeed });
    await this.http.register(commercePlugin, { config: c.commerce, store: this.store, auth, registry: this.registry, origin: this.origin, recordings: this.recordings, feed: watchFeed, logger: this.log });
    await this.http.register(creatorsRoutes, {
      store: this.store,
      auth,
      onCreatorDisabled: (creatorId) => {
        void (async () => {
          for (const s of this.registry.all()) {
            if (s.state !== 'ended' && (await this.store.getStream(s.id))?.ownerId === creatorId) this.#endStream(s.id, 'creator disabled');
          }
        })().catch((err) => this.log.error({ err, creatorId }, 'ending a disabled creator\'s streams failed'));
      },
    });
    // Before any publisher can arrive: end what a previous process (or an expired node) left live,
    // then recording reads each stream's renditions and finalizes what a crash left.
    await this.registry.recoverInterrupted();
    await this.recordings?.start();
    // Streams the previous process interrupted (a deploy): their outputs continue where it left
    // them, and each waits streams.reconnectGraceMs from now for its publisher, then ends.
    restoreContinuations(this.origin, await this.registry.restoreInterrupted());
    this.registry.startReconnectWindows();
    const rtmpAddr = await this.rtmp.listen();
    this.rtmpPort = rtmpAddr.port;
    await this.http.listen({ host: c.http.host, port: c.http.port });
    const addr = this.http.server.address();
    this.httpPort = typeof addr === 'object' && addr ? addr.port : c.http.port;
    this.ticker.start();
    this.registry.startLeaseRenewal();
    this.#analyticsTimer = setInterval(() => this.#persistLiveAnalytics(), 60_000);
    this.#analyticsTimer.unref();
    this.log.info({ httpPort: this.httpPort, rtmpPort: this.rtmpPort, rtmpApp: c.rtmp.app, dataDir: resolve(c.dataDir), node: process.version }, 'showcase listening');
  }

  #streamMetrics(): StreamMetricsView[] {
    const now = Date.now();
    const out: StreamMetricsView[] = [];
    for (const s of this.registry.all()) {
      const t = this.transcoders.get(s.id);
      const hls = this.origin.get(s.id);
      const rates = ingestMeterOf(s)?.rates(now);
      out.push({
        id: s.id,
        ingestBitsPerSecond: rates?.bitsPerSecond ?? 0,
        ingestFramesPerSecond: rates?.framesPerSecond ?? 0,
        keyframeIntervalSeconds: rates?.keyframeIntervalSeconds ?? 0,
        transcoderState: t?.state ?? 'idle',
        transcoderRestarts: t?.restarts ?? 0,
        transcoderStalls: t?.stalls ?? 0,
        transcoderSpeed: hls ? transcoderSpeed(hls, now) : 0,
        passthrough: t?.mode === 'passthrough' ? 1 : 0,
        droppedPackets: t?.droppedPackets ?? 0,
        blockingRequests: hls?.blockedRequests ?? 0,
        recordingState: this.recordings?.cachedState(s.id),
      });
    }
    return out;
  }

  /** Observes each part's publish latency: from its last frame's ingest wall clock to availability. */
  #observeParts(hls: HlsStream): void {
    const first = [...hls.timelines.values()][0];
    if (!first) return;
    let segStart = 0;
    first.on('part', (part, seg) => {
      if (part.index === 0) segStart = 0;
      segStart += part.duration;
      const endWall = seg.programDateTimeMs + segStart * 1000;
      this.appMetrics.observePartLatency(hls.streamId, (part.availableAt - endWall) / 1000);
    });
  }

  /** Every minute: persist what the ticker holds, so a crash loses at most a minute of analytics. */
  #persistLiveAnalytics(): Promise<void> {
    return this.analytics.persistTracked();
  }

  /** WHIP ingest through a mediasoup worker pool, when enabled and the worker binary exists. */
  async #startWebRtc(): Promise<void> {
    const c = this.config;
    const w = c.webrtc;
    if (!w.enabled) return;
    if (!resolveWorkerBinary()) {
      this.log.warn('WebRTC ingest disabled: mediasoup-worker not found (bash native/mediasoup/build.sh or set MEDIASOUP_WORKER_BIN)');
      return;
    }
    this.webrtcPool = await WorkerPool.create({ size: w.workers, rtcMinPort: w.rtcMinPort, rtcMaxPort: w.rtcMaxPort, logLevel: w.logLevel, logger: this.log.child({ component: 'webrtc' }) });
    // One plan for WHIP, WHEP and the signaling's transports: the host's own addresses unless told otherwise.
    const listenInfos = new WebRtcListenPlanner(w, this.log.child({ component: 'webrtc' })).listenInfos;
    this.whip = new WhipIngest({
      registry: this.registry,
      pool: this.webrtcPool,
      logger: this.log.child({ component: 'whip' }),
      listenInfos,
      timeouts: { connectTimeoutMs: w.connectTimeoutMs, disconnectTimeoutMs: w.disconnectTimeoutMs, reconnectGraceMs: c.streams.reconnectGraceMs },
      iceConsentTimeoutSeconds: w.iceConsentTimeoutSeconds,
      maxSessions: w.maxSessions,
      bridgePortRange: { min: w.bridgeMinPort, max: w.bridgeMaxPort },
      keyExists: async (key) => (await this.store.getStreamByKeyHash(hashSecret(key))) !== undefined,
      isOwnerDisabled: (rec) => this.#isOwnerDisabled(rec),
    });
    await this.http.register(whipRoutes, { ingest: this.whip, limiter: this.auth.limiter, corsOrigin: c.http.corsOrigin });
    // WHEP: a WHIP stream is watched from its producers; an RTMP stream from a feed started on demand.
    const feeds = w.rtmpPlayback.enabled ? new RtmpPlaybackFeeds({
      stream: (id) => this.registry.get(id),
      pool: this.webrtcPool,
      settings: w.rtmpPlayback,
      supervision: c.transcode,
      viewers: (id) => this.whep?.viewers(id) ?? 0,
      logger: this.log,
    }) : undefined;
    this.rtmpFeeds = feeds;
    const whep = new WhepPlayback({
      pool: this.webrtcPool,
      logger: this.log,
      listenInfos,
      timeouts: { connectTimeoutMs: w.connectTimeoutMs, disconnectTimeoutMs: w.disconnectTimeoutMs },
      iceConsentTimeoutSeconds: w.iceConsentTimeoutSeconds,
      limits: { maxViewers: w.maxViewers, maxViewersPerStream: w.maxViewersPerStream, maxViewersPerIp: w.maxViewersPerIp, maxConsumersPerWorker: w.maxConsumersPerWorker },
      streamExists: async (id) => (await this.store.getStream(id)) !== undefined,
      ...(feeds ? { sourceFor: (id: string) => feeds.sourceFor(id) } : {}),
    });
    this.whep = whep;
    if (feeds) whep.on('sessionclosed', (s) => feeds.viewerLeft(s.streamId));
    if (feeds) whep.on('placementreleased', (id) => feeds.viewerLeft(id));
    // A WHEP viewer is a watching session from DTLS connect to close (it needs no fetches to stay active).
    const viewerSessions = new Map<string, string>();
    whep.on('sessionconnected', (s) => {
      const sid = this.sessions.open(s.streamId, this.registry.get(s.streamId)?.state === 'live' ? 'live' : 'replay');
      if (sid) viewerSessions.set(s.id, sid);
    });
    whep.on('sessionclosed', (s) => {
      const sid = viewerSessions.get(s.id);
      viewerSessions.delete(s.id);
      if (sid) this.sessions.close(sid, s.streamId);
    });
    // Viewers over the WebSocket signaling count the same way, keyed by their placement.
    whep.on('viewerconnected', (placementId, streamId) => {
      const sid = this.sessions.open(streamId, this.registry.get(streamId)?.state === 'live' ? 'live' : 'replay');
      if (sid) viewerSessions.set(placementId, sid);
    });
    whep.on('viewerleft', (placementId, streamId) => {
      const sid = viewerSessions.get(placementId);
      viewerSessions.delete(placementId);
      if (sid) this.sessions.close(sid, streamId);
    });
    const pool = this.webrtcPool;
    registerWebRtcCollectors(this.metrics.registry, { workers: () => pool.load(), sessions: () => ({ whip: this.whip?.size ?? 0, whep: whep.size }) });
    await this.http.register(whepRoutes, { playback: whep, corsOrigin: c.http.corsOrigin });
    // WebSocket signaling (/v1/signal) for the studio page and mediasoup-client viewers.
    this.signaling = new SignalServer({
      ingest: this.whip,
      playback: whep,
      limiter: this.auth.limiter,
      limits: {
        maxMessageBytes: w.signalingMaxMessageBytes,
        messagesPerSecond: w.signalingMessagesPerSecond,
        joinTimeoutMs: w.signalingJoinTimeoutMs,
        negotiateTimeoutMs: w.connectTimeoutMs,
        maxConnections: w.signalingMaxConnections,
        maxConnectionsPerIp: w.signalingMaxConnectionsPerIp,
        heartbeatMs: w.signalingHeartbeatMs,
      },
      viewerTimeouts: { connectTimeoutMs: w.connectTimeoutMs, disconnectTimeoutMs: w.disconnectTimeoutMs },
      logger: this.log,
    });
    this.signaling.attach(this.http.server);
    await this.http.register(studioRoutes, { assetsDir: defaultWebAssetsDir(), signalPath: this.signaling.path });
  }

  /** Ends a stream now: its publisher is disconnected and its playlists end. */
  #endStream(id: string, reason: string): void {
    this.registry.end(id, reason);
  }

  #liveDetails(id: string): Record<string, unknown> | undefined {
    const t = this.transcoders.get(id);
    const s = this.registry.get(id);
    if (!t && !s) return undefined;
    return {
      transcoder: t?.state ?? 'idle',
      transcoderRestarts: t?.restarts ?? 0,
      transcoderStalls: t?.stalls ?? 0,
      renditions: t?.renditions?.map((r) => r.name) ?? [],
      transcodeMode: t?.mode ?? null, passthroughRefusal: t?.passthroughRefusal ?? null,
      publisher: s?.publisher ? { protocol: s.publisher.protocol, form: s.publisher.media.form, tracks: s.publisher.media.tracks } : null,
      reconnecting: s?.reconnectDeadline ? new Date(s.reconnectDeadline).toISOString() : null,
      ingest: ingestMeterOf(s)?.rates() ?? null,
      readerDrops: s?.readerDrops() ?? {},
    };
  }

  /** Every output attaches to a new stream as a reader; none learns which protocol feeds it. */
  #attachOutputs(stream: LiveStream): void {
    stream.addReader(new IngestMeter({ logger: this.log }));
    const t = new Transcoder({ stream, transcode: this.config.transcode, hls: this.config.hls, origin: this.origin, socketDir: this.#socketDir, logger: this.log });
    this.transcoders.set(stream.id, t);
    stream.addReader(t);
    if (this.whep) stream.addReader(new WhepSourceReader(this.whep));
    if (this.recordings) stream.addReader(this.recordings.reader());
    if (stream.state === 'live') this.ticker.markLive(stream.id);
    stream.on('state', (state) => {
      if (state === 'live') this.ticker.markLive(stream.id);
      if (state === 'ended') {
        this.ticker.markEnded(stream.id);
        // An interrupted stream nobody continued has no recorder here: its recording is finalized now.
        void this.recordings?.streamEnded(stream.id);
        // Keep the transcoder object a moment for its final flush, then forget the stream.
        t.once('state', () => {
          this.transcoders.delete(stream.id);
          this.registry.forget(stream.id);
        });
      }
    });
  }

  /** A stream whose owner is disabled (or gone) opens nothing; the operator's streams have no owner. */
  async #isOwnerDisabled(rec: StreamRecord): Promise<boolean> {
    if (!rec.ownerId) return false;
    return (await this.store.getCreator(rec.ownerId))?.disabled ?? true;
  }

  /** The RTMP publish decision: the store is asked here, before the publisher may send media. */
  async #onRtmpPublish(req: RtmpPublishRequest): Promise<RtmpPublishDecision> {
    if (this.#stopped) return { ok: false, code: 'SHOWCASE_ERR_RTMP_LIMIT', reason: 'server stopping' };
    const conn = req.connection;
    const deadMs = this.config.rtmp.deadPublisherMs;
    const handle: PublisherHandle = {
      id: conn.id,
      protocol: 'rtmp',
      remoteAddress: req.remoteAddress,
      // Tracks are declared by the sequence headers as they come (RTMP names no codecs before media).
      media: { form: 'packets', tracks: [] },
      isAlive: () => !conn.isClosed() && Date.now() - conn.lastReceivedAt() < deadMs,
      close: (reason) => conn.close(reason),
    };
    const decision = await this.registry.authorizePublish(req.streamKey, handle, (rec) => this.#isOwnerDisabled(rec));
    if (!decision.ok) return decision;
    const stream = decision.stream;
    const graceMs = this.config.streams.reconnectGraceMs;
    return {
      ok: true,
      sink: {
        onMetadata: (info) => stream.setMediaInfo(info),
        onPacket: (p) => {
          if (stream.publisher === handle) stream.pushPacket(p);
        },
        onClose: (reason) => stream.detachPublisher(handle, reason, isGracefulUnpublish(reason), graceMs),
      },
    };
  }

  /**
   * Stops accepting, interrupts live streams (kept for the next process: no ENDLIST, recordings not
   * finalized), kills ffmpeg children, closes the store.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.log.info('showcase stopping');
    // A deploy must not end the shows: live streams become 'interrupted' and the next process
    // continues each one whose publisher reconnects within streams.reconnectGraceMs.
    const interrupted = this.registry.interruptAll('server stopping');
    await this.rtmp.close().catch((err) => this.log.error({ err }, 'rtmp close failed'));
    await this.signaling?.close().catch((err) => this.log.error({ err }, 'signaling close failed'));
    // A publish that was being decided while the ingests closed.
    interrupted.push(...this.registry.interruptAll('server stopping'));
    if (interrupted.length) this.log.info({ streams: interrupted.map((s) => s.id) }, 'live streams interrupted: the next start continues them');
    // Their ffmpeg flushes into still-open playlists; then open segments complete (and are recorded).
    await Promise.all(interrupted.map((s) => this.transcoders.get(s.id)?.suspend()));
    await saveContinuations(this.origin, this.store, interrupted.map((s) => s.id)).catch((err) => this.log.error({ err }, 'saving interrupted streams failed'));
    this.whep?.close();
    await this.rtmpFeeds?.close().catch((err) => this.log.error({ err }, 'RTMP WebRTC feeds close failed'));
    await this.whip?.close().catch((err) => this.log.error({ err }, 'WHIP close failed'));
    this.webrtcPool?.close();
    await Promise.all([...this.transcoders.values()].map((t) => t.close()));
    if (this.#analyticsTimer) clearInterval(this.#analyticsTimer);
    await this.registry.stopLeaseRenewal();
    await this.#persistLiveAnalytics();
    await this.recordings?.stop().catch((err) => this.log.error({ err }, 'recorder stop failed'));
    this.ticker.close();
    this.metrics.close();
    this.origin.close();
    await this.http.close().catch((err) => this.log.error({ err }, 'http close failed'));
    // Writes queued by the streams' ends and the ticker's last flush go out before the store closes.
    await this.registry.flush();
    await this.analytics.flush();
    await this.store.close().catch((err) => this.log.error({ err }, 'store close failed'));
    rmSync(this.#socketDir, { recursive: true, force: true });
    this.log.info('showcase stopped');
  }
}

/** Media seconds the top rendition produced over the last 5 s per wall second (1 = real time). */
function transcoderSpeed(hls: HlsStream, now: number): number {
  const tl = [...hls.timelines.values()][0];
  if (!tl || tl.ended) return 0;
  let media = 0;
  for (let i = tl.segments.length - 1; i >= 0; i--) {
    const parts = tl.segments[i]!.parts;
    let older = false;
    for (let j = parts.length - 1; j >= 0; j--) {
      if (now - parts[j]!.availableAt > 5000) { older = true; break; }
      media += parts[j]!.duration;
    }
    if (older) break;
  }
  return Math.round((media / 5) * 1000) / 1000;
}

/** An explicit unpublish (FCUnpublish / deleteStream / closeStream) ends the stream at once. */
function isGracefulUnpublish(reason: string): boolean {
  return /unpublish|deletestream|closestream/i.test(reason);
}
