import { Type, type Static } from '@sinclair/typebox';

/**
 * The `cluster` section of the configuration (src/config/schema.ts holds it as
 * `cluster: ClusterConfigSchema`). With no redisUrl nothing of the cluster runs: the single node
 * is exactly what it was.
 */
export const ClusterConfigSchema = Type.Object({
  /** redis://host:port[/db] (or rediss://): node membership and load. Empty: no cluster. Needs node.url. */
  redisUrl: Type.String({ default: '', pattern: '^(|rediss?://.+)$' }),
  /** Prefix of every Redis key this cluster uses (several clusters may share one Redis). */
  keyPrefix: Type.String({ default: 'showcase', pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  /** How often this node writes its heartbeat (and reads the others'). */
  heartbeatMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }),
  /** A node whose heartbeat is older than this has left the set (the TTL of its Redis key). */
  nodeTtlMs: Type.Integer({ minimum: 300, maximum: 600_000, default: 6000 }),
  /** Nodes read from Redis at most (a bound on what one heartbeat reads and keeps). */
  maxNodes: Type.Integer({ minimum: 1, maximum: 10_000, default: 256 }),
  /** A placement handed out counts on its node for this long (the time from asking to going live). */
  placementHoldMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 30_000 }),
  /** HLS requests proxied to other nodes at once; over it a 503 (SHOWCASE_ERR_CLUSTER_PROXY_BUSY). */
  proxyMaxConcurrent: Type.Integer({ minimum: 1, maximum: 100_000, default: 2000 }),
  /**
   * A proxied request must have its answer's headers within this long (a blocking playlist reload
   * is held up to three target durations by the holding node: keep this above it).
   */
  proxyTimeoutMs: Type.Integer({ minimum: 500, maximum: 120_000, default: 15_000 }),
  /** A proxied body that stalls this long is cut. */
  proxyIdleTimeoutMs: Type.Integer({ minimum: 500, maximum: 120_000, default: 10_000 }),
  /** How long the node holding a stream (from its lease) is remembered for proxying; not-held answers half as long. */
  holderCacheMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  /** Streams whose holder is remembered at once (keyed by request paths: bounded, oldest evicted). */
  holderCacheSize: Type.Integer({ minimum: 16, maximum: 1_000_000, default: 10_000 }),
  /**
   * Shared by every node: authenticates node-to-node requests (the WebRTC pipe, src/cluster/pipe-*.ts).
   * Empty: no pipes, a WHEP viewer of a stream another node holds is refused (409) as on one node.
   */
  secret: Type.String({ default: '', pattern: '^(|[\\x21-\\x7e]{16,256})$' }),
  /** Address the pipe's UDP transports listen on (other nodes send it SRTP); empty: the first WebRTC listen address. */
  pipeListenIp: Type.String({ default: '' }),
  /** How often a viewer's node asks the holding node about each pipe (its keep-alive and pause state). */
  pipeKeepaliveMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }),
  /** A peer silent this long is gone: the viewer's node closes the pipe and its viewers, the holder drops it. */
  pipeTimeoutMs: Type.Integer({ minimum: 300, maximum: 600_000, default: 5000 }),
  /** A pipe is torn down this long after its last viewer on this node left. */
  pipeIdleStopMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 2000 }),
  /** Pipes a node holds for others, and pipes it takes from others, each at most. */
  maxPipes: Type.Integer({ minimum: 1, maximum: 100_000, default: 512 }),
  /**
   * A node's share of a stream's viewers (written to Redis every watch tick, 1 s) counts this long
   * after it was written (judged when read; at least a tick and a half): a dead node's share is gone
   * from every node's sums within it and a tick. Also the TTL of the stream's analytics ownership.
   */
  audienceTtlMs: Type.Integer({ minimum: 1500, maximum: 600_000, default: 3000 }),
  /** Streams whose viewer shares one node writes, reads and remembers per tick at most. */
  audienceMaxStreams: Type.Integer({ minimum: 1, maximum: 100_000, default: 4096 }),
  /** A node-to-node pipe request must be answered within this long. */
  pipeRequestTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
}, { additionalProperties: false, default: {} });

/** The cluster configuration with every default applied. */
export type ClusterConfig = Static<typeof ClusterConfigSchema>;
