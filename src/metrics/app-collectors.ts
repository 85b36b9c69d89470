import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics-registry.js';
import type { StreamLabelSet } from './stream-label-set.js';

/** One stream as the collectors see it at scrape time. */
export interface StreamMetricsView {
  id: string;
  ingestBitsPerSecond: number;
  ingestFramesPerSecond: number;
  keyframeIntervalSeconds: number;
  transcoderState: string;
  transcoderRestarts: number;
  /** Runs the stall watchdog killed (each is also a restart). */
  transcoderStalls: number;
  /** Media seconds produced per wall second by the transcoder over the last seconds (1 = real time). */
  transcoderSpeed: number;
  /** 1 while the top rendition is the source's video copied (passthrough), 0 with every rung encoded. */
  passthrough: number;
  droppedPackets: number;
  blockingRequests: number;
  recordingState?: string;
}

/** The narrow view of the running server the collectors read (MediaMTX style: read state, don't count). */
export interface AppMetricsSource {
  streamsLive(): number;
  streams(): StreamMetricsView[];
  blockingRequests(): number;
  blockingRejected(): number;
  hlsBytesHeld(): number;
  rtmp(): { connections: number; publishing: number; bytesReceived: number; refusals: Record<string, number> };
  auth(): { failures: number; limited: number };
}

const TRANSCODER_STATES = ['idle', 'running', 'restarting', 'failed', 'stopped'] as const;

/** What the HTTP layer and the packager call to observe events that have no state to read. */
export interface AppMetrics {
  observeHttp(route: string, method: string, status: number, seconds: number): void;
  observePartLatency(streamId: string, seconds: number): void;
  /** Removes a stream's event series (called when the stream is dropped from memory). */
  dropStream(streamId: string): void;
}

/**
 * Registers the server's own metrics: per-stream ingest, transcoder and origin health read from
 * live state at scrape time, plus the few histograms that must be observed as events happen.
 */
export function registerAppCollectors(registry: Registry, streamLabels: StreamLabelSet, src: AppMetricsSource): AppMetrics {
  const registers = [registry];
  const perStream = (name: string, help: string, pick: (s: StreamMetricsView) => number) =>
    new Gauge({
      name: METRIC_PREFIX + name, help, labelNames: ['stream'] as const, registers,
      collect() {
        this.reset();
        for (const s of src.streams()) this.set({ stream: s.id }, pick(s));
      },
    });
  new Gauge({ name: `${METRIC_PREFIX}streams_live`, help: 'Streams with a publisher (or within their reconnect grace).', registers, collect() { this.set(src.streamsLive()); } });
  perStream('stream_ingest_bytes_per_second', 'Ingest rate over the last seconds (x8 for the bitrate).', (s) => s.ingestBitsPerSecond / 8);
  perStream('stream_ingest_frame_rate_frames_per_second', 'Ingest video frame rate over the last seconds.', (s) => s.ingestFramesPerSecond);
  perStream('stream_keyframe_interval_seconds', 'Spacing of the last two ingest keyframes.', (s) => s.keyframeIntervalSeconds);
  perStream('transcoder_passthrough', 'Whether the top rendition is the source itself, copied (1), or every rung is encoded (0; a refusal is logged with its code).', (s) => s.passthrough);
  perStream('transcoder_speed_ratio', 'Media seconds the transcoder produced per wall second (1 = real time).', (s) => s.transcoderSpeed);
  perStream('hls_blocking_requests', 'Playlist and part requests held open for this stream.', (s) => s.blockingRequests);
  new Counter({
    name: `${METRIC_PREFIX}transcoder_restarts_total`, help: 'ffmpeg restarts after a crash or a stall.', labelNames: ['stream'] as const, registers,
    collect() {
      this.reset();
      for (const s of src.streams()) this.inc({ stream: s.id }, s.transcoderRestarts);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}transcoder_stalls_total`, help: 'ffmpeg runs killed by the stall watchdog: no media written while input arrived.', labelNames: ['stream'] as const, registers,
    collect() {
      this.reset();
      for (const s of src.streams()) this.inc({ stream: s.id }, s.transcoderStalls);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}transcoder_dropped_packets_total`, help: 'Packets dropped because ffmpeg could not keep up.', labelNames: ['stream'] as const, registers,
    collect() {
      this.reset();
      for (const s of src.streams()) this.inc({ stream: s.id }, s.droppedPackets);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}transcoder_state`, help: 'The transcoder state of a stream (1 for the current state).', labelNames: ['stream', 'state'] as const, registers,
    collect() {
      this.reset();
      for (const s of src.streams()) for (const st of TRANSCODER_STATES) this.set({ stream: s.id, state: st }, s.transcoderState === st ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}recording_state`, help: 'The recording state of a stream (1 for the current state).', labelNames: ['stream', 'state'] as const, registers,
    collect() {
      this.reset();
      for (const s of src.streams()) if (s.recordingState) this.set({ stream: s.id, state: s.recordingState }, 1);
    },
  });
  new Gauge({ name: `${METRIC_PREFIX}hls_blocking_requests_in_flight`, help: 'Blocking playlist and hinted-part requests held, server-wide.', registers, collect() { this.set(src.blockingRequests()); } });
  new Counter({ name: `${METRIC_PREFIX}hls_blocking_requests_rejected_total`, help: 'Blocking requests refused because the server-wide cap was reached.', registers, collect() { this.reset(); this.inc(src.blockingRejected()); } });
  new Gauge({ name: `${METRIC_PREFIX}hls_memory_bytes`, help: 'Media bytes held in memory by the LL-HLS origin.', registers, collect() { this.set(src.hlsBytesHeld()); } });
  new Gauge({ name: `${METRIC_PREFIX}rtmp_connections`, help: 'Open RTMP connections.', registers, collect() { this.set(src.rtmp().connections); } });
  new Gauge({ name: `${METRIC_PREFIX}rtmp_publishers`, help: 'RTMP connections publishing.', registers, collect() { this.set(src.rtmp().publishing); } });
  new Counter({ name: `${METRIC_PREFIX}rtmp_received_bytes_total`, help: 'Bytes received on the RTMP port.', registers, collect() { this.reset(); this.inc(src.rtmp().bytesReceived); } });
  new Counter({
    name: `${METRIC_PREFIX}rtmp_refusals_total`, help: 'RTMP connections or publishes refused, by reason.', labelNames: ['reason'] as const, registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(src.rtmp().refusals)) this.inc({ reason }, n);
    },
  });
  new Counter({ name: `${METRIC_PREFIX}auth_failures_total`, help: 'Requests with an invalid token.', registers, collect() { this.reset(); this.inc(src.auth().failures); } });
  new Counter({ name: `${METRIC_PREFIX}auth_rate_limited_total`, help: 'Requests refused with 429 after too many failed authentications.', registers, collect() { this.reset(); this.inc(src.auth().limited); } });

  const http = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`, help: 'HTTP request durations by route.', labelNames: ['route', 'method', 'status_class'] as const, registers,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 6, 10],
  });
  const partLatency = new Histogram({
    name: `${METRIC_PREFIX}hls_part_publish_latency_seconds`, help: 'From the ingest wall-clock time of a part\'s last frame to the part being served.', labelNames: ['stream'] as const, registers,
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5],
  });
  return {
    observeHttp(route, method, status, seconds) {
      http.observe({ route, method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
    },
    observePartLatency(streamId, seconds) {
      // Through the label set: the series goes with the stream's other series after its grace.
      streamLabels.labels(partLatency, { stream: streamId }).observe(Math.max(0, seconds));
    },
    dropStream(streamId) {
      partLatency.remove({ stream: streamId });
    },
  };
}
