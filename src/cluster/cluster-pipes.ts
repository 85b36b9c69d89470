import type { types } from 'mediasoup';
import type { Config } from '../config/schema.js';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { WhepPlayback } from '../playback/whep/whep-playback.js';
import type { PlaybackSource } from '../webrtc/stream-fanout.js';
import type { WorkerPool } from '../webrtc/worker-pool.js';
import { currentListenInfos, type ListenInfosSource } from '../webrtc/listen-plan.js';
import type { ClusterNode } from './cluster-node.js';
import { PipeHolder } from './pipe-holder.js';
import { PipeClient } from './pipe-protocol.js';
import { PipedSources } from './pipe-sources.js';

export interface ClusterPipesDeps {
  config: Readonly<Config>;
  cluster: ClusterNode;
  pool: WorkerPool;
  whep: WhepPlayback;
  /** The WebRTC listen plan (the pipe listens on its first UDP address unless cluster.pipeListenIp says). */
  listenInfos: ListenInfosSource;
  /** Whether this node holds the stream live itself (only those are piped out: never a pipe of a pipe). */
  holds(streamId: string): boolean;
  logger: Logger;
}

/**
 * WebRTC viewers on any node (issue 17): both sides of the node-to-node pipe of one node. `holder`
 * pipes streams held here to the nodes that ask; `sources` takes streams held elsewhere for this
 * node's WHEP and signaling viewers (WhepPlayback's sourceFor asks it after the RTMP feeds).
 * Built only when clustered with a cluster.secret and WebRTC on.
 */
export class ClusterPipes {
  readonly holder: PipeHolder;
  readonly sources: PipedSources;
  readonly secret: string;

  constructor(d: ClusterPipesDeps) {
    const c = d.config.cluster;
    this.secret = c.secret;
    const client = new PipeClient({ selfId: d.cluster.id, secret: c.secret, timeoutMs: c.pipeRequestTimeoutMs });
    const listenInfo = pipeListenInfo(c.pipeListenIp, d.listenInfos, d.config.webrtc);
    const log = d.logger;
    this.holder = new PipeHolder({
      place: async (streamId, remoteAddress) => {
        if (!d.holds(streamId)) throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'this node does not hold the stream');
        return d.whep.placeViewer({ streamId, remoteAddress });
      },
      listenInfo,
      nodeUrl: (id) => d.cluster.membership.node(id)?.url,
      client,
      timeoutMs: c.pipeTimeoutMs,
      maxPipes: c.maxPipes,
      logger: log,
    });
    this.sources = new PipedSources({
      selfId: d.cluster.id,
      pool: d.pool,
      listenInfo,
      holderOf: async (streamId) => {
        const nodeId = await d.cluster.holders.holder(streamId);
        const url = nodeId ? d.cluster.membership.node(nodeId)?.url : undefined;
        return nodeId && url ? { nodeId, url } : undefined;
      },
      inSet: (id) => d.cluster.membership.node(id) !== undefined,
      client,
      viewers: (id) => d.whep.viewers(id),
      dropSource: (streamId: string, source: PlaybackSource, reason: string) => {
        if (d.whep.fanout(streamId)?.source === source) d.whep.removeSource(streamId, reason);
      },
      keepaliveMs: c.pipeKeepaliveMs,
      timeoutMs: c.pipeTimeoutMs,
      idleStopMs: c.pipeIdleStopMs,
      maxPipes: c.maxPipes,
      logger: log,
    });
    d.whep.on('sessionclosed', (s) => this.sources.viewerLeft(s.streamId));
    d.whep.on('placementreleased', (id) => this.sources.viewerLeft(id));
  }

  /** Tears down the pipes taken from others (their holders told), then those held for others (their nodes told). */
  async close(reason = 'server stopping'): Promise<void> {
    await this.sources.close();
    this.holder.close(reason);
  }
}

/** Where a pipe's UDP end listens: cluster.pipeListenIp, else the WebRTC plan's first UDP address (and its announced address and ports). */
function pipeListenInfo(ip: string, plan: ListenInfosSource, w: Readonly<Config['webrtc']>): () => types.TransportListenInfo {
  const range = w.rtcMinPort !== undefined && w.rtcMaxPort !== undefined ? { portRange: { min: w.rtcMinPort, max: w.rtcMaxPort } } : {};
  if (ip) return () => ({ protocol: 'udp', ip, ...range });
  return () => {
    const first = currentListenInfos(plan).find((l) => l.protocol === 'udp');
    if (!first) return { protocol: 'udp', ip: '127.0.0.1', ...range };
    return { protocol: 'udp', ip: first.ip, ...(first.announcedAddress ? { announcedAddress: first.announcedAddress } : {}), ...(first.portRange ? { portRange: first.portRange } : range) };
  };
}
