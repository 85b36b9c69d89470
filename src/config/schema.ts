import { Type, type Static } from '@sinclair/typebox';
import { RecordingConfigSchema } from '../recorder/recording-config.js';
import { RoomConfigSchema } from '../room/room-config.js';
import { JourneyConfigSchema } from '../journey/journey-config.js';
import { PushConfigSchema, WebhooksConfigSchema } from '../journey/notify/notify-config.js';
import { CommerceConfigSchema } from '../commerce/commerce-config.js';
import { ClusterConfigSchema } from '../cluster/cluster-config.js';

/** One rendition of the transcoding ladder. */
export const RenditionSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9_-]{1,16}$', description: 'Used in URLs: /hls/:id/:name/...' }),
  height: Type.Integer({ minimum: 90, maximum: 4320 }),
  videoBitrateKbps: Type.Integer({ minimum: 50, maximum: 50000 }),
  maxFrameRate: Type.Number({ minimum: 1, maximum: 120, default: 30 }),
}, { additionalProperties: false });

/**
 * The whole configuration: type, defaults and validation in one place.
 * Load order: these defaults -> config file -> SHOWCASE_* environment -> validate -> freeze.
 */
export const ConfigSchema = Type.Object({
  logLevel: Type.Union([Type.Literal('trace'), Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('fatal'), Type.Literal('silent')], { default: 'info' }),
  dataDir: Type.String({ default: './data', minLength: 1 }),
  /** Operator token. Empty: one is generated on first start and kept in <dataDir>/admin-token. */
  adminToken: Type.String({ default: '' }),
  /** Base URL put in API answers (e.g. https://live.example.com); empty: derived from the request's Host. */
  publicBaseUrl: Type.String({ default: '' }),
  /** Host name put in rtmpUrl answers; empty: derived from the request's Host. */
  rtmpPublicHost: Type.String({ default: '' }),
  http: Type.Object({
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 64 * 1024 }),
    corsOrigin: Type.String({ default: '*' }),
  }, { additionalProperties: false, default: {} }),
  rtmp: Type.Object({
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 1935 }),
    app: Type.String({ default: 'live', pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    maxConnections: Type.Integer({ minimum: 1, default: 1000 }),
    maxConnectionsPerIp: Type.Integer({ minimum: 1, default: 50 }),
    handshakeTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
    idleTimeoutMs: Type.Integer({ minimum: 500, default: 15000 }),
    maxChunkSize: Type.Integer({ minimum: 128, maximum: 16777215, default: 65536 }),
    maxMessageSize: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 8 * 1024 * 1024 }),
    maxBufferedBytes: Type.Integer({ minimum: 65536, default: 16 * 1024 * 1024 }),
    maxChunkStreams: Type.Integer({ minimum: 4, maximum: 65599, default: 64 }),
    /** A publisher silent for this long no longer holds its key: a new publish takes over (OBS reconnects). */
    deadPublisherMs: Type.Integer({ minimum: 100, default: 4000 }),
    /**
     * A publishing socket stops reading for up to this long after a read, so one wakeup reads several
     * bursts (less CPU per stream, src/ingest/rtmp/read-coalescer.ts); the most latency it adds, so it is
     * bounded to one frame at 30 fps (33 ms). 0: off.
     */
    readCoalesceMs: Type.Integer({ minimum: 0, maximum: 33, default: 33 }),
  }, { additionalProperties: false, default: {} }),
  webrtc: Type.Object({
    /** WHIP ingest through mediasoup (needs the worker built by native/mediasoup/build.sh). */
    enabled: Type.Boolean({ default: true }),
    /** mediasoup workers; 0 = one per core. */
    workers: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
    /** Where ICE sockets listen. 0.0.0.0 or :: = one socket on each of the host's own addresses (src/webrtc/listen-plan.ts). */
    listenIp: Type.String({ default: '0.0.0.0', pattern: '^[0-9A-Fa-f.:]{2,45}$' }),
    /**
     * The address(es) ICE candidates announce: public IPs or host names phones reach (NAT, a load
     * balancer). One, several (a list, or comma-separated in one string), or empty: the host's own
     * non-internal IPv4 and IPv6 addresses (listenIp 0.0.0.0/::) or listenIp itself.
     */
    announcedAddress: Type.Union([
      Type.String({ default: '', maxLength: 2048, pattern: '^[A-Za-z0-9.:_, -]*$' }),
      Type.Array(Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$' }), { maxItems: 16 }),
    ], { default: '' }),
    rtcMinPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40000 }),
    rtcMaxPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 49999 }),
    enableTcp: Type.Boolean({ default: true }),
    /** Local ports handed to ffmpeg for bridged RTP (outside rtcMinPort..rtcMaxPort). */
    bridgeMinPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 30000 }),
    bridgeMaxPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 30999 }),
    maxSessions: Type.Integer({ minimum: 1, default: 200 }),
    connectTimeoutMs: Type.Integer({ minimum: 1000, default: 15000 }),
    iceConsentTimeoutSeconds: Type.Integer({ minimum: 3, maximum: 120, default: 10 }),
    disconnectTimeoutMs: Type.Integer({ minimum: 0, default: 5000 }),
    /** WebSocket signaling (/v1/signal): a text frame above this gets a coded error; 4x it closes the socket (ws maxPayload). */
    signalingMaxMessageBytes: Type.Integer({ minimum: 4096, maximum: 1_048_576, default: 65536 }),
    /** Open signaling sockets on the server, and from one address. */
    signalingMaxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 4000 }),
    signalingMaxConnectionsPerIp: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
    /** Requests per second one socket may send (bursts of twice that). */
    signalingMessagesPerSecond: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
    /** ws ping interval; a socket that answered no ping since the previous one is dropped. */
    signalingHeartbeatMs: Type.Integer({ minimum: 1000, default: 15000 }),
    /** A socket must join within this long; a joined publisher must then be live within connectTimeoutMs. */
    signalingJoinTimeoutMs: Type.Integer({ minimum: 1000, default: 10000 }),
    /** WHEP viewers on the whole server (each holds a WebRtcTransport and two consumers). */
    maxViewers: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 2000 }),
    /** WHEP viewers of one stream. */
    maxViewersPerStream: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000 }),
    /** WHEP viewers from one client address, all streams together. */
    maxViewersPerIp: Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }),
    /** One stream's consumers one worker holds; further viewers are served from another worker (pipeToRouter). */
    maxConsumersPerWorker: Type.Integer({ minimum: 1, maximum: 100_000, default: 400 }),
    logLevel: Type.Union([Type.Literal('debug'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('none')], { default: 'warn' }),
    /**
     * WHEP playback of RTMP-published streams: on a stream's first WHEP viewer a second ffmpeg
     * (beside the HLS ladder's) encodes it to H.264 constrained baseline + Opus RTP into mediasoup.
     * It costs one x264 encode per watched stream; it stops idleStopMs after the last viewer leaves.
     */
    rtmpPlayback: Type.Object({
      enabled: Type.Boolean({ default: true }),
      videoBitrateKbps: Type.Integer({ minimum: 100, maximum: 20000, default: 1500 }),
      audioBitrateKbps: Type.Integer({ minimum: 16, maximum: 256, default: 64 }),
      /** Scaled down to this height (never up); 720p keeps one x264 encode cheap. */
      maxHeight: Type.Integer({ minimum: 90, maximum: 1080, default: 720 }),
      maxFrameRate: Type.Integer({ minimum: 1, maximum: 60, default: 30 }),
      /** Keyframe interval: viewers' keyframe requests cannot reach ffmpeg, so a new viewer waits up to this long. */
      keyframeSeconds: Type.Number({ minimum: 0.25, maximum: 5, default: 1 }),
      x264Preset: Type.Union(['ultrafast', 'superfast', 'veryfast', 'faster'].map((p) => Type.Literal(p)), { default: 'veryfast' }),
      /** The encode stops this long after the stream's last WebRTC viewer left. */
      idleStopMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }),
      /** Streams encoded for WebRTC at once (each is an x264 encode). */
      maxStreams: Type.Integer({ minimum: 1, maximum: 1000, default: 16 }),
      /** Bytes queued on the encode's stdin before it drops video until the next keyframe. */
      maxQueuedBytes: Type.Integer({ minimum: 65536, default: 4 * 1024 * 1024 }),
    }, { additionalProperties: false, default: {} }),
  }, { additionalProperties: false, default: {} }),
  streams: Type.Object({
    /** A publisher that reconnects within this window continues the same stream (a discontinuity). */
    reconnectGraceMs: Type.Integer({ minimum: 0, default: 10000 }),
  }, { additionalProperties: false, default: {} }),
  store: Type.Object({
    /**
     * Empty: the embedded SQLite file <dataDir>/showcase.db. postgres://user:pass@host:port/db (or
     * postgresql://): a PostgreSQL database, which several nodes may share.
     */
    url: Type.String({ default: '', pattern: '^(|postgres(ql)?://.+)$' }),
    /** Connections in the PostgreSQL pool. */
    maxConnections: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  }, { additionalProperties: false, default: {} }),
  node: Type.Object({
    /** This node's name in stream leases; empty: generated once and kept in <dataDir>/node-id. */
    id: Type.String({ default: '', pattern: '^(|[A-Za-z0-9_.-]{1,64})$' }),
    /** A live stream's lease lasts this long; it is renewed every third of it while the stream is live. */
    leaseMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000 }),
    /** The base URL other nodes (and placement answers) reach this node on, e.g. http://10.0.0.2:8080; needed with cluster.redisUrl. */
    url: Type.String({ default: '', pattern: '^(|https?://[^/?#]+)$' }),
  }, { additionalProperties: false, default: {} }),
  transcode: Type.Object({
    ffmpegPath: Type.String({ default: 'ffmpeg' }),
    ladder: Type.Array(RenditionSchema, {
      minItems: 1, maxItems: 8,
      default: [
        { name: '720p', height: 720, videoBitrateKbps: 2800, maxFrameRate: 30 },
        { name: '480p', height: 480, videoBitrateKbps: 1400, maxFrameRate: 30 },
        { name: '360p', height: 360, videoBitrateKbps: 800, maxFrameRate: 30 },
      ],
    }),
    audioBitrateKbps: Type.Integer({ minimum: 32, maximum: 512, default: 128 }),
    /**
     * Source passthrough: an H.264 RTMP source no taller than the top rung is copied as the top
     * rendition (not re-encoded) and the lower rungs take its keyframes. Keyframes more than two
     * segment targets apart or irregular fall back to the full ladder (a coded warning).
     */
    passthrough: Type.Boolean({ default: true }),
    x264Preset: Type.Union(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'].map((p) => Type.Literal(p)), { default: 'veryfast' }),
    /** Restarts allowed inside restartWindowMs before the stream reports an error state. */
    maxRestarts: Type.Integer({ minimum: 0, default: 5 }),
    restartWindowMs: Type.Integer({ minimum: 1000, default: 60000 }),
    restartBackoffMs: Type.Integer({ minimum: 10, default: 300 }),
    restartBackoffMaxMs: Type.Integer({ minimum: 10, default: 5000 }),
    /**
     * A run whose input keeps arriving but which writes no media for this long is hung: it is killed
     * and restarted like a crash (counted against maxRestarts). The first output of an RTP run
     * (WebRTC publishers) may take a few seconds of probing: before it, twice this is allowed.
     */
    stallTimeoutMs: Type.Integer({ minimum: 1000, default: 10000 }),
    /** Grace after SIGTERM before SIGKILL when stopping ffmpeg. */
    killGraceMs: Type.Integer({ minimum: 10, default: 2000 }),
    /** Bytes queued on ffmpeg's stdin before the transcoder drops video until the next keyframe. */
    maxQueuedBytes: Type.Integer({ minimum: 65536, default: 8 * 1024 * 1024 }),
  }, { additionalProperties: false, default: {} }),
  /** Recording of every live stream (src/recorder/recording-config.ts holds the section). */
  recording: RecordingConfigSchema,
  /** The room: shoppers, chat and reactions (src/room/room-config.ts holds the section). */
  room: RoomConfigSchema,
  /** The creator's journey: scheduling, practice mode, discovery (src/journey/journey-config.ts). */
  journey: JourneyConfigSchema,
  /** Webhooks for the operator's systems, Standard Webhooks signed (src/journey/notify/notify-config.ts). */
  webhooks: WebhooksConfigSchema,
  /** Web Push to followers' browsers (src/journey/notify/notify-config.ts). */
  push: PushConfigSchema,
  /** The cluster: Redis membership, placement, HLS proxied to the holding node (src/cluster/cluster-config.ts). */
  cluster: ClusterConfigSchema,
  metrics: Type.Object({
    /** An HLS viewer counts while it fetched within this many ms (a few target durations). */
    sessionTimeoutMs: Type.Integer({ minimum: 1000, default: 6000 }),
    /** Viewer sessions held at once; past it the least recently seen is evicted (and counted). */
    sessionCapacity: Type.Integer({ minimum: 100, maximum: 5_000_000, default: 200_000 }),
    /** Streams with per-stream series at once. */
    maxStreams: Type.Integer({ minimum: 1, maximum: 100_000, default: 4096 }),
    /** An ended stream's series stay this long, then its totals go to the analytics store. */
    endedSeriesGraceMs: Type.Integer({ minimum: 0, default: 300_000 }),
    /** Heartbeats accepted per client address per minute. */
    heartbeatsPerMinute: Type.Integer({ minimum: 1, default: 120 }),
    /**
     * Sampling period of the event-loop delay behind showcase_nodejs_eventloop_lag_*: prom-client's
     * 10 ms costs about 5 ms of CPU a second for a figure a 100 ms period reports as well.
     */
    eventLoopPrecisionMs: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  }, { additionalProperties: false, default: {} }),
  hls: Type.Object({
    /** Segment target duration in seconds: the keyframe interval of every rendition. */
    segmentSeconds: Type.Number({ minimum: 1, maximum: 10, default: 2 }),
    /** Part target duration in seconds (LL-HLS PART-TARGET). */
    partSeconds: Type.Number({ minimum: 0.1, maximum: 1, default: 0.2 }),
    /**
     * PART-HOLD-BACK in part targets: where low-latency players (hls.js lowLatencyMode) start behind
     * the live edge. rfc8216bis requires at least 2; fewer parts of margin stall more on a slow network.
     */
    partHoldBackParts: Type.Integer({ minimum: 2, maximum: 6, default: 3 }),
    /** Segments listed in a live media playlist. */
    windowSegments: Type.Integer({ minimum: 3, maximum: 100, default: 12 }),
    /** Segments kept in memory behind the playlist window (still downloadable a while). */
    retainExtraSegments: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
    /** Open blocking playlist requests at once (over: 503). */
    maxBlockingRequests: Type.Integer({ minimum: 1, default: 10000 }),
    /** Seconds an ended stream's playlists and media stay in memory. */
    endedRetainSeconds: Type.Integer({ minimum: 0, default: 300 }),
  }, { additionalProperties: false, default: {} }),
  /** Shoppable streams: products, highlights, click-through (src/commerce/commerce-config.ts holds the section). */
  commerce: CommerceConfigSchema,
}, { additionalProperties: false });

export type Config = Static<typeof ConfigSchema>;
export type RenditionConfig = Static<typeof RenditionSchema>;
