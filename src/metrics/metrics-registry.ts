import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ViewerSessionTable } from './session-table.js';
import { StreamLabelSet } from './stream-label-set.js';
import type { StreamWatchTotals } from './stream-watch-stats.js';
import type { TickInfo, WatchTicker } from './watch-ticker.js';

/** Prefix of every metric the server exports. */
export const METRIC_PREFIX = 'showcase_';

/**
 * prom-client's default gauges whose names end in _total: Prometheus reserves that suffix for
 * counters (promtool check metrics flags them), and each is the sum of its labelled sibling
 * (showcase_nodejs_active_handles{type}), so sum() over that sibling gives the same figure.
 */
const NON_COUNTER_TOTALS = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];

/** Options of createMetricsRegistry. */
export interface MetricsRegistryOptions {
  ticker: WatchTicker;
  /** Session table for the session gauges (default: the ticker's). */
  table?: ViewerSessionTable;
  /** Register prom-client's process and Node.js metrics (default true). Their GC observer cannot be removed: create one such registry per process. */
  defaultMetrics?: boolean;
  /**
   * Sampling period of the event-loop delay histogram behind the nodejs_eventloop_lag_* series
   * (prom-client's default is 10 ms: a timer 100 times a second, about 5 ms of CPU per second on
   * an idle server). Default 100.
   */
  eventLoopPrecisionMs?: number;
  /** Grace of StreamLabelSet for streams the ticker never tracked (default: the ticker's graceMs). */
  labelGraceMs?: number;
  /**
   * This node's id when clustered: every series then carries node="<id>" (prom-client default
   * labels), so one Prometheus scraping every node can sum them and a dashboard can split by node.
   * Unset (single node): the exposition is unchanged.
   */
  nodeLabel?: string;
}

/** The server's metrics: the registry to serve on /metrics and the hooks for other parts. */
export interface ShowcaseMetrics {
  /** Register further metrics here (registers: [metrics.registry]). */
  readonly registry: Registry;
  /** Use for any metric with a `stream` label so its series go when the stream does. */
  readonly streamLabels: StreamLabelSet;
  /** The text exposition for a scrape. */
  metrics(): Promise<string>;
  /** Content-Type of metrics(). */
  readonly contentType: string;
  /** Unsubscribes from the ticker (the registry keeps working for what it still holds). Idempotent. */
  close(): void;
}

/**
 * Builds the /metrics registry. Per-stream figures are read from the WatchTicker at scrape
 * time (collect callbacks reset and refill their series), so a stream's series exist exactly
 * while the ticker tracks it: no stale series, no per-event counting in a dozen places.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): ShowcaseMetrics {
  const { ticker } = options;
  const table = options.table ?? ticker.table;
  const registry = new Registry();
  const registers = [registry];
  // Set before any metric registers so default and app metrics alike carry the label.
  if (options.nodeLabel) registry.setDefaultLabels({ node: options.nodeLabel });

  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: options.eventLoopPrecisionMs ?? 100 });
    for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(METRIC_PREFIX + name);
  }

  new Gauge({
    name: `${METRIC_PREFIX}stream_viewers`,
    help: 'Concurrent viewers of a stream at the last watch tick, by protocol.',
    labelNames: ['stream', 'protocol'] as const,
    registers,
    collect() {
      this.reset();
      ticker.forEachStream((s) => {
        // Buckets: 0 hls/live, 1 webrtc/live, 2 hls/replay, 3 webrtc/replay (BUCKET_KEYS).
        this.set({ stream: s.streamId, protocol: 'hls' }, s.viewers[0]! + s.viewers[2]!);
        this.set({ stream: s.streamId, protocol: 'webrtc' }, s.viewers[1]! + s.viewers[3]!);
      });
    },
  });

  new Counter({
    name: `${METRIC_PREFIX}watch_seconds_total`,
    help: 'Seconds watched on a stream: each active viewer adds one per watch tick.',
    labelNames: ['stream', 'protocol', 'mode'] as const,
    registers,
    collect() {
      this.reset();
      ticker.forEachStream((s) => {
        const w = s.watchSeconds;
        this.inc({ stream: s.streamId, protocol: 'hls', mode: 'live' }, w[0]!);
        this.inc({ stream: s.streamId, protocol: 'webrtc', mode: 'live' }, w[1]!);
        this.inc({ stream: s.streamId, protocol: 'hls', mode: 'replay' }, w[2]!);
        this.inc({ stream: s.streamId, protocol: 'webrtc', mode: 'replay' }, w[3]!);
      });
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}stream_unique_viewers`,
    help: 'Distinct viewers of a stream since it was first tracked (HyperLogLog estimate, ±0.81% at 1 sigma).',
    labelNames: ['stream'] as const,
    registers,
    collect() {
      this.reset();
      ticker.forEachStream((s) => this.set({ stream: s.streamId }, Math.round(s.unique.estimate())));
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}stream_peak_viewers`,
    help: 'Most concurrent viewers of a stream at any watch tick since it was first tracked.',
    labelNames: ['stream'] as const,
    registers,
    collect() {
      this.reset();
      ticker.forEachStream((s) => this.set({ stream: s.streamId }, s.peakViewers));
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}watch_tracked_streams`,
    help: 'Streams carrying per-stream series (live, or ended within the grace period).',
    registers,
    collect() {
      let n = 0;
      ticker.forEachStream(() => n++);
      this.set(n);
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}viewer_sessions`,
    help: 'Viewer sessions held (active, or timed out and not yet reclaimed).',
    registers,
    collect() {
      this.set(table.size);
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}viewer_session_capacity`,
    help: 'Most viewer sessions held at once; past it the least recently seen is evicted.',
    registers,
    collect() {
      this.set(table.capacity);
    },
  });

  statsCounter('viewer_sessions_issued_total', 'Viewer session ids issued.', () => table.stats().issued);
  statsCounter('viewer_sessions_evicted_total', 'Viewer sessions evicted because the table was full.', () => table.stats().evicted);
  statsCounter('viewer_sessions_refused_total', 'Session requests refused because too many streams had sessions.', () => table.stats().refused);

  new Counter({
    name: `${METRIC_PREFIX}viewer_sessions_rejected_total`,
    help: 'Session ids turned down, by reason (malformed, unknown, forged, expired).',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(table.stats().rejected)) this.inc({ reason }, n);
    },
  });

  const tickDuration = new Histogram({
    name: `${METRIC_PREFIX}watch_tick_duration_seconds`,
    help: 'Time one watch tick takes (walk of the session table and per-stream accumulation).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers,
  });

  const streamLabels = new StreamLabelSet({
    isTracked: (streamId) => ticker.isTracked(streamId),
    graceMs: options.labelGraceMs ?? ticker.graceMs,
  });

  const onTick = (info: TickInfo): void => {
    tickDuration.observe(info.durationMs / 1000);
    streamLabels.sweep(info.nowMs);
  };
  const onDropped = (totals: StreamWatchTotals): void => {
    streamLabels.dropStream(totals.streamId);
  };
  ticker.on('tick', onTick);
  ticker.on('streamdropped', onDropped);

  let closed = false;
  return {
    registry,
    streamLabels,
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
    close() {
      if (closed) return;
      closed = true;
      ticker.off('tick', onTick);
      ticker.off('streamdropped', onDropped);
    },
  };

  /** A label-less counter mirroring a monotonic figure of the session table at scrape time. */
  function statsCounter(name: string, help: string, read: () => number): void {
    new Counter({
      name: METRIC_PREFIX + name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
}
