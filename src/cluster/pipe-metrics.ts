import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics/metrics-registry.js';
import type { ClusterPipes } from './cluster-pipes.js';

/**
 * The WebRTC pipe's metrics, read at scrape time: pipes this node holds for other nodes and takes
 * from them, pipes built here in all, and those that ended because their holder was gone.
 */
export function registerPipeCollectors(registry: Registry, pipes: ClusterPipes): void {
  const registers = [registry];
  new Gauge({ name: `${METRIC_PREFIX}cluster_pipes`, help: 'WebRTC pipes between nodes: held here for other nodes, taken here from the nodes holding the streams.', labelNames: ['side'] as const, registers,
    collect() {
      this.set({ side: 'holding' }, pipes.holder.size);
      this.set({ side: 'taking' }, pipes.sources.size);
    } });
  new Counter({ name: `${METRIC_PREFIX}cluster_pipes_opened_total`, help: 'WebRTC pipes taken from other nodes since start.', registers,
    collect() { this.reset(); this.inc(pipes.sources.opened); } });
  new Counter({ name: `${METRIC_PREFIX}cluster_pipe_holder_gone_total`, help: 'WebRTC pipes closed (with their viewers) because the node holding the stream was gone.', registers,
    collect() { this.reset(); this.inc(pipes.sources.holderGone); } });
}
