import type { LiveStream } from '../core/live-stream.js';
import { ingestMeterOf } from './ingest-meter.js';
import type { StreamMetricsView } from './app-collectors.js';

/** What status reads of a stream's transcoder (Transcoder provides it). */
export interface TranscoderStatus {
  readonly state: string;
  readonly restarts: number;
  readonly stalls: number;
  readonly droppedPackets: number;
  readonly mode: 'passthrough' | 'ladder' | undefined;
  readonly renditions?: ReadonlyArray<{ name: string }>;
  readonly passthroughRefusal?: unknown;
}

/** The parts of one rendition's live timeline the speed estimate reads (RenditionTimeline provides them). */
export interface TimelineStatus {
  readonly ended: boolean;
  readonly segments: ReadonlyArray<{ parts: ReadonlyArray<{ duration: number; availableAt: number }> }>;
}

/** What status reads of a stream's HLS origin (HlsStream provides it). */
export interface HlsStatus {
  readonly timelines: ReadonlyMap<string, TimelineStatus>;
  readonly blockedRequests: number;
}

export interface StreamStatusSources {
  streams(): LiveStream[];
  stream(id: string): LiveStream | undefined;
  transcoder(id: string): TranscoderStatus | undefined;
  hls(id: string): HlsStatus | undefined;
  recordingState?(id: string): string | undefined;
  now?: () => number;
}

/**
 * Per-stream figures read at the moment they are asked for (MediaMTX style: live state, not
 * counters kept on the side): the /metrics per-stream gauges and the `live` block a stream's owner
 * sees in GET /v1/streams/:id.
 */
export class StreamStatus {
  readonly #src: StreamStatusSources;
  readonly #now: () => number;

  constructor(src: StreamStatusSources) {
    this.#src = src;
    this.#now = src.now ?? Date.now;
  }

  /** One view per in-memory stream, for the per-stream gauges. */
  metricsViews(): StreamMetricsView[] {
    const now = this.#now();
    return this.#src.streams().map((s) => {
      const t = this.#src.transcoder(s.id);
      const hls = this.#src.hls(s.id);
      const rates = ingestMeterOf(s)?.rates(now);
      return {
        id: s.id,
        ingestBitsPerSecond: rates?.bitsPerSecond ?? 0,
        ingestFramesPerSecond: rates?.framesPerSecond ?? 0,
        keyframeIntervalSeconds: rates?.keyframeIntervalSeconds ?? 0,
        transcoderState: t?.state ?? 'idle',
        transcoderRestarts: t?.restarts ?? 0,
        transcoderStalls: t?.stalls ?? 0,
        transcoderSpeed: hls ? transcoderSpeed(hls, now) : 0,
        passthrough: t?.mode === 'passthrough' ? 1 : 0,
        droppedPackets: t?.droppedPackets ?? 0,
        blockingRequests: hls?.blockedRequests ?? 0,
        recordingState: this.#src.recordingState?.(s.id),
      };
    });
  }

  /** The owner's live facts about a stream in memory (transcoder, publisher, ingest rates, drops); undefined when none. */
  liveDetails(id: string): Record<string, unknown> | undefined {
    const t = this.#src.transcoder(id);
    const s = this.#src.stream(id);
    if (!t && !s) return undefined;
    return {
      transcoder: t?.state ?? 'idle',
      transcoderRestarts: t?.restarts ?? 0,
      transcoderStalls: t?.stalls ?? 0,
      renditions: t?.renditions?.map((r) => r.name) ?? [],
      transcodeMode: t?.mode ?? null, passthroughRefusal: t?.passthroughRefusal ?? null,
      publisher: s?.publisher ? { protocol: s.publisher.protocol, form: s.publisher.media.form, tracks: s.publisher.media.tracks } : null,
      reconnecting: s?.reconnectDeadline ? new Date(s.reconnectDeadline).toISOString() : null,
      ingest: ingestMeterOf(s)?.rates(this.#now()) ?? null,
      readerDrops: s?.readerDrops() ?? {},
    };
  }
}

/** Media seconds the top rendition produced over the last 5 s per wall second (1 = real time). */
export function transcoderSpeed(hls: HlsStatus, now: number): number {
  const tl = [...hls.timelines.values()][0];
  if (!tl || tl.ended) return 0;
  let media = 0;
  for (let i = tl.segments.length - 1; i >= 0; i--) {
    const parts = tl.segments[i]!.parts;
    let older = false;
    for (let j = parts.length - 1; j >= 0; j--) {
      if (now - parts[j]!.availableAt > 5000) { older = true; break; }
      media += parts[j]!.duration;
    }
    if (older) break;
  }
  return Math.round((media / 5) * 1000) / 1000;
}
