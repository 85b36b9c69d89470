import { cpus, loadavg } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';
import { NodeMembership, type NodeInfo, type NodeLoad } from './node-membership.js';
import { Placement, type IngestPlacement } from './placement.js';
import { StreamHolders } from './stream-holders.js';
import { HlsProxy } from './hls-proxy.js';
import { RedisRoomFanout } from './redis-room-fanout.js';
import { ClusterAudience } from './cluster-audience.js';
import type { WatchTicker } from '../metrics/watch-ticker.js';

export interface ClusterNodeDeps {
  store: Pick<Store, 'getStream'>;
  nodeId: string;
  /** Live streams this node transcodes now, and their transcoder speeds (read at each heartbeat). */
  streams: () => { live: number; speeds: number[] };
  /** This node's ingest as listening now (known only once the listeners are up). */
  ingest: () => { rtmpPort: number; whip: boolean };
  /** This node's watch sessions: each tick publishes its share of every stream's viewers. */
  ticker: WatchTicker;
  /** This node's room sockets per stream (none until the room is up). */
  roomSockets: () => Iterable<readonly [string, number]>;
  /** Whether this node holds a stream live now. */
  holdsLive: (streamId: string) => boolean;
  logger: Logger;
}

/**
 * One node of a cluster (config cluster.redisUrl set): its membership in Redis with its load,
 * least-loaded placement of publishers, and the HLS proxy to whichever node holds a stream. Built
 * only by `clusterNode()`: with no redisUrl there is none and nothing of this runs.
 */
export class ClusterNode {
  readonly id: string;
  readonly membership: NodeMembership;
  readonly placement: Placement;
  readonly holders: StreamHolders;
  readonly proxy: HlsProxy;
  /** The room's fan-out across nodes (the room plugin owns its lifetime: it closes it). */
  readonly roomFanout: RedisRoomFanout;
  /** Viewer counts and watch sessions summed across nodes (shares in Redis, one writer of each stream's analytics). */
  readonly audience: ClusterAudience;

  constructor(config: Readonly<Config>, deps: ClusterNodeDeps) {
    const c = config.cluster;
    const log = deps.logger.child({ component: 'cluster' });
    this.id = deps.nodeId;
    const url = config.node.url.replace(/\/+$/, '');
    const rtmpHost = config.rtmpPublicHost || new URL(url).hostname.replace(/^\[|\]$/g, '');
    const cores = Math.max(1, cpus().length);
    const self = (): NodeInfo => {
      const s = deps.streams();
      const ingest = deps.ingest();
      const load: NodeLoad = {
        streams: s.live,
        cpu: Math.round((loadavg()[0]! / cores) * 1000) / 1000,
        transcoderSpeed: s.speeds.length ? Math.min(...s.speeds) : 0,
      };
      return { id: this.id, url, rtmpHost, rtmpPort: ingest.rtmpPort, rtmpApp: config.rtmp.app, whip: ingest.whip, load, at: Date.now() };
    };
    this.membership = new NodeMembership({ redisUrl: c.redisUrl, keyPrefix: c.keyPrefix, heartbeatMs: c.heartbeatMs, nodeTtlMs: c.nodeTtlMs, maxNodes: c.maxNodes, placementHoldMs: c.placementHoldMs, self, logger: log });
    this.placement = new Placement({
      nodes: () => this.membership.nodes(), holdMs: c.placementHoldMs,
      shared: (id) => this.membership.placedRecently(id), reserve: (candidates) => this.membership.reserve(candidates),
    });
    this.holders = new StreamHolders({ store: deps.store, selfId: this.id, ttlMs: c.holderCacheMs, capacity: c.holderCacheSize });
    this.proxy = new HlsProxy({ selfId: this.id, maxConcurrent: c.proxyMaxConcurrent, timeoutMs: c.proxyTimeoutMs, idleTimeoutMs: c.proxyIdleTimeoutMs, logger: log });
    this.roomFanout = new RedisRoomFanout({ redisUrl: c.redisUrl, keyPrefix: c.keyPrefix, nodeId: this.id, logger: log });
    this.audience = new ClusterAudience({
      redisUrl: c.redisUrl, keyPrefix: c.keyPrefix, nodeId: this.id, ttlMs: c.audienceTtlMs, maxStreams: c.audienceMaxStreams,
      ticker: deps.ticker, roomSockets: deps.roomSockets, holdsLive: deps.holdsLive, logger: log,
    });
  }

  /** Joins the set (first heartbeat written, or its failure logged and retried), connects the room bus and the viewer shares. */
  async start(): Promise<void> {
    await Promise.all([this.membership.start(), this.roomFanout.start(), this.audience.start()]);
  }

  /** The least-loaded node's ingest URLs for a publisher about to go live (one Redis round trip; its own view when Redis is down). */
  place(): Promise<IngestPlacement> {
    return this.placement.place();
  }

  /**
   * The base URL of the other node holding a live stream, when one does and is in the set (while
   * Redis is unreachable: as last seen, the unexpired lease being the proof of life).
   */
  async holderUrl(streamId: string): Promise<string | undefined> {
    const nodeId = await this.holders.holder(streamId);
    if (!nodeId) return undefined;
    return (this.membership.node(nodeId) ?? (this.membership.healthy ? undefined : this.membership.lastKnown(nodeId)))?.url;
  }

  /** Leaves the set (no more placements here), withdraws its viewer shares and closes the proxy's idle connections; idempotent. */
  async close(): Promise<void> {
    await Promise.all([this.membership.close(), this.audience.close()]);
    this.proxy.close();
  }
}

/** This node's cluster part when cluster.redisUrl is set; undefined (a single node) otherwise. */
export function clusterNode(config: Readonly<Config>, deps: ClusterNodeDeps): ClusterNode | undefined {
  return config.cluster.redisUrl ? new ClusterNode(config, deps) : undefined;
}
