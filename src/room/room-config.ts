import { Type, type Static } from '@sinclair/typebox';

/**
 * The `room` section of the configuration (src/config/schema.ts holds it as `room: RoomConfigSchema`):
 * shoppers, chat and reaction limits, and the caps on room sockets.
 */
export const RoomConfigSchema = Type.Object({
  /** Shoppers one client address may create per minute (POST /v1/shoppers). */
  shopperCreatesPerMinute: Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }),
  /** Longest chat text after trimming, in characters. */
  maxTextChars: Type.Integer({ minimum: 1, maximum: 2000, default: 300 }),
  /** Chat messages an author may send per second, sustained, and the burst above it. */
  messagesPerSecond: Type.Number({ minimum: 0.1, maximum: 100, default: 1 }),
  messageBurst: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  /** The same text from one author within this window is refused. */
  duplicateWindowMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 30_000 }),
  /** Reactions one socket may send per second; the excess is dropped and counted. */
  reactionsPerSecond: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  /** How often reactions are aggregated and sent: one frame per tick. */
  tickMs: Type.Integer({ minimum: 50, maximum: 5000, default: 250 }),
  /**
   * A room's events go out at most this often (ms): those within the window share one write per
   * socket. Written from the event loop (no addon, or nativeFanout false), the gap also stretches to
   * the CPU time the last flush took, so that fanning out to a large room takes at most about half
   * of the loop. An event after a quiet gap goes at once.
   */
  batchMs: Type.Integer({ minimum: 0, maximum: 1000, default: 100 }),
  /**
   * Room flushes are written by native threads (dist/native/room-fanout.node, built by npm run build)
   * when the addon is built, off the event loop and on several cores; false, or no addon: from the
   * event loop, in slices.
   */
  nativeFanout: Type.Boolean({ default: true }),
  /** Threads one native flush writes with (a room under 256 sockets a thread takes fewer); 0: one per core, at most 4. */
  fanoutThreads: Type.Integer({ minimum: 0, maximum: 16, default: 0 }),
  /** Messages sent as history on join. */
  historyMessages: Type.Integer({ minimum: 0, maximum: 500, default: 50 }),
  /** A frame over this closes the socket with 1009 (read by ws as maxPayload). */
  maxFrameBytes: Type.Integer({ minimum: 512, maximum: 65_536, default: 4096 }),
  /** A socket with more than this unsent closes (it cannot keep up). */
  maxBufferedBytes: Type.Integer({ minimum: 4096, maximum: 16_777_216, default: 262_144 }),
  /** Room sockets per stream, per client address, and on the server. */
  maxSocketsPerStream: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000 }),
  maxSocketsPerIp: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
  maxSockets: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 50_000 }),
  /** A socket that sends an auth frame must do so within this many ms of opening (anonymous readers need none). */
  authTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
  /** Frames of any kind one socket may send per second before it gets SHOWCASE_ERR_RATE_LIMITED. */
  framesPerSecond: Type.Integer({ minimum: 1, maximum: 1000, default: 30 }),
  /** A ws ping goes out this often; a socket that answered none since the last one is dropped. */
  heartbeatMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000 }),
  /** How often per-minute message and reaction counts are added to the store (the analytics' room block lags by up to this). */
  countsFlushMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
}, { additionalProperties: false, default: {} });

export type RoomConfig = Static<typeof RoomConfigSchema>;
