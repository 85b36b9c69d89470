import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics/metrics-registry.js';

/** What the recording collectors read at scrape time. */
export interface RecordingMetricsSource {
  errorCounts(): Record<string, number>;
  activity(): { recording: number; finalizing: number; queuedBytes: number };
}

/**
 * Registers the recorder's metrics, read from live state at scrape time: errors by code (disk
 * floor, write and finalize failures), recordings being written and finalized, bytes waiting for
 * the disk. (Per-stream recording state is showcase_recording_state, from the stream records.)
 */
export function registerRecordingCollectors(registry: Registry, src: RecordingMetricsSource): void {
  const registers = [registry];
  new Counter({
    name: `${METRIC_PREFIX}recording_errors_total`, help: 'Recordings stopped or failed, by error code.', labelNames: ['code'] as const, registers,
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(src.errorCounts())) this.inc({ code }, n);
    },
  });
  new Gauge({ name: `${METRIC_PREFIX}recordings_active`, help: 'Streams being recorded now.', registers, collect() { this.set(src.activity().recording); } });
  new Gauge({ name: `${METRIC_PREFIX}recordings_finalizing`, help: 'Recordings queued for or in finalize.', registers, collect() { this.set(src.activity().finalizing); } });
  new Gauge({ name: `${METRIC_PREFIX}recording_queued_bytes`, help: 'Recorded media waiting to be written to disk.', registers, collect() { this.set(src.activity().queuedBytes); } });
}
