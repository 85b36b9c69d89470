import { processCpuAndMemory } from '../core/proc-stat.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics/metrics-registry.js';
import type { WorkerLoad } from './worker-pool.js';

/** What the WebRTC collectors read at scrape time. */
export interface WebRtcMetricsSource {
  /** Load of every worker slot (WorkerPool.load()). */
  workers(): WorkerLoad[];
  /** Open WHIP publisher and WHEP viewer sessions. */
  sessions(): { whip: number; whep: number };
}

/** A worker's /proc usage; undefined when it exited between load() and the read. */
function procUsage(pid: number): { cpuSeconds: number; rssBytes: number } | undefined {
  try {
    return processCpuAndMemory(pid);
  } catch {
    return undefined;
  }
}

/**
 * Registers the mediasoup worker pool's metrics: workers running, per-worker CPU and memory (read
 * from /proc at scrape time) and what each hosts, and the open WebRTC sessions.
 */
export function registerWebRtcCollectors(registry: Registry, src: WebRtcMetricsSource): void {
  const registers = [registry];
  new Gauge({ name: `${METRIC_PREFIX}webrtc_workers`, help: 'mediasoup workers running (a dead one is replaced after a delay).', registers,
    collect() { this.set(src.workers().filter((w) => w.pid !== null).length); } });
  /** Each running worker's /proc usage, labelled by its slot. */
  const usage = (): Array<{ worker: string; cpuSeconds: number; rssBytes: number }> =>
    src.workers().flatMap((w) => {
      const u = w.pid !== null ? procUsage(w.pid) : undefined;
      return u ? [{ worker: String(w.slot), ...u }] : [];
    });
  new Counter({ name: `${METRIC_PREFIX}webrtc_worker_cpu_seconds_total`, help: 'User and system CPU time of each mediasoup worker process.', labelNames: ['worker'] as const, registers,
    collect() {
      this.reset();
      for (const u of usage()) this.inc({ worker: u.worker }, u.cpuSeconds);
    } });
  new Gauge({ name: `${METRIC_PREFIX}webrtc_worker_resident_memory_bytes`, help: 'Resident memory of each mediasoup worker process.', labelNames: ['worker'] as const, registers,
    collect() {
      this.reset();
      for (const u of usage()) this.set({ worker: u.worker }, u.rssBytes);
    } });
  new Gauge({ name: `${METRIC_PREFIX}webrtc_worker_objects`, help: 'Routers, transports, producers and consumers each mediasoup worker hosts.', labelNames: ['worker', 'kind'] as const, registers,
    collect() {
      this.reset();
      for (const w of src.workers()) {
        for (const kind of ['routers', 'transports', 'producers', 'consumers'] as const) this.set({ worker: String(w.slot), kind }, w[kind]);
      }
    } });
  new Gauge({ name: `${METRIC_PREFIX}webrtc_sessions`, help: 'Open WebRTC sessions: WHIP publishers and WHEP viewers.', labelNames: ['kind'] as const, registers,
    collect() {
      const s = src.sessions();
      this.set({ kind: 'whip' }, s.whip);
      this.set({ kind: 'whep' }, s.whep);
    } });
}
