import type { types } from 'mediasoup';
import type { LiveStream, PublisherMedia, StreamReader } from '../core/live-stream.js';
import type { MediaPacket } from '../core/media.js';
import type { Logger } from '../core/logger.js';

/** What the ingest meter shows of a stream now (GET /v1/streams/:id, /metrics, the analytics timeline). */
export interface IngestRates {
  bitsPerSecond: number;
  framesPerSecond: number;
  /** Spacing of the last two keyframes, in seconds of media time (0 until two were seen). */
  keyframeIntervalSeconds: number;
}

/** The fields of a mediasoup 'rtp' trace event the meter reads (RtpTraceInfo.rtpPacket). */
interface RtpDump {
  timestamp: number;
  isKeyFrame: boolean;
  size: bigint | number;
}

/**
 * The ONE place ingest bitrate, frame rate and keyframe spacing come from, whatever the protocol:
 * a reader of every stream that consumes both forms. Packets are counted as they pass; RTP (which
 * never passes through Node) is counted from mediasoup's own 'rtp' trace of each producer: the
 * packet size, the RTP timestamp (a new one is a new frame) and the worker's keyframe detection
 * on the payload. The trace costs one small notification per RTP packet (a few hundred a second
 * for a phone), against a poll of producer stats that could not see frames or keyframes at all.
 */
export class IngestMeter implements StreamReader {
  readonly name = 'ingest-meter';
  readonly consumes = ['packets', 'rtp'] as const;
  /** Totals since the meter attached (tests and benchmarks read them). */
  bytes = 0;
  videoFrames = 0;
  keyframes = 0;
  keyframeIntervalMs = 0;
  readonly window = new IngestWindow();
  readonly #log?: Logger;
  #lastKeyframeTs = -1;
  /** Unsubscribes from the current RTP publisher's producers. */
  #untap?: () => void;

  constructor(o: { logger?: Logger } = {}) {
    this.#log = o.logger;
  }

  /** Bitrate, frame rate and keyframe spacing over the last seconds. */
  rates(nowMs = Date.now()): IngestRates {
    const r = this.window.rates(nowMs);
    return { bitsPerSecond: r.bitsPerSecond, framesPerSecond: r.framesPerSecond, keyframeIntervalSeconds: this.keyframeIntervalMs / 1000 };
  }

  onPublisherStart(_stream: LiveStream, media: PublisherMedia): void {
    this.#untap?.();
    this.#untap = undefined;
    this.#lastKeyframeTs = -1;
    if (media.form === 'rtp') this.#untap = this.#tap(media.rtp.producers);
  }

  onPacket(p: MediaPacket): boolean {
    this.bytes += p.payload.length;
    const isFrame = p.kind === 'video' && !p.sequenceHeader;
    if (isFrame) {
      this.videoFrames++;
      if (p.keyframe) this.#keyframe(p.timestamp);
    }
    this.window.add(Date.now(), p.payload.length, isFrame ? 1 : 0);
    return true;
  }

  onPublisherStop(): void {
    this.#untap?.();
    this.#untap = undefined;
  }

  onStreamEnd(): void {
    this.onPublisherStop();
  }

  #keyframe(mediaMs: number): void {
    if (this.#lastKeyframeTs >= 0 && mediaMs > this.#lastKeyframeTs) this.keyframeIntervalMs = mediaMs - this.#lastKeyframeTs;
    this.#lastKeyframeTs = mediaMs;
    this.keyframes++;
  }

  /** Counts each producer's RTP from its trace events; returns the unsubscribe. */
  #tap(producers: readonly types.Producer[]): () => void {
    const offs: Array<() => void> = [];
    for (const producer of producers) {
      if (producer.closed) continue;
      const video = producer.kind === 'video';
      const clockRate = producer.rtpParameters.codecs[0]?.clockRate ?? 90000;
      // RTP timestamps: a frame is every packet with a timestamp newer than the last (32-bit wrap).
      let lastTs: number | undefined;
      let lastKeyTs: number | undefined;
      // Keyframe spacing in media ms, kept monotonic across the 32-bit wrap.
      let mediaMs = 0;
      const onTrace = (trace: types.ProducerTraceEventData): void => {
        if (trace.type !== 'rtp' || trace.direction !== 'in') return;
        const info = trace.info as { rtpPacket?: RtpDump; isRtx?: boolean } | undefined;
        const d = info?.rtpPacket;
        if (!d) return;
        const size = Number(d.size);
        this.bytes += size;
        let frames = 0;
        // Retransmissions repeat old frames: bytes only.
        if (video && !info.isRtx) {
          const delta = lastTs === undefined ? 1 : (d.timestamp - lastTs) | 0;
          if (delta > 0) {
            if (lastTs !== undefined) mediaMs += (delta / clockRate) * 1000;
            lastTs = d.timestamp;
            frames = 1;
            this.videoFrames++;
          }
          // The worker flags the packet that carries SPS (H.264) or a keyframe's start (VP8): once per frame.
          if (d.isKeyFrame && d.timestamp === lastTs && lastKeyTs !== d.timestamp) {
            lastKeyTs = d.timestamp;
            this.#keyframe(mediaMs);
          }
        }
        this.window.add(Date.now(), size, frames);
      };
      producer.on('trace', onTrace);
      producer.enableTraceEvent(['rtp']).catch((err: unknown) => this.#log?.debug({ err }, 'ingest meter: trace not enabled'));
      offs.push(() => {
        producer.off('trace', onTrace);
        if (!producer.closed) producer.enableTraceEvent([]).catch(() => {});
      });
    }
    return () => { for (const off of offs) off(); };
  }
}

/** The ingest meter of a stream, if one is attached. */
export function ingestMeterOf(stream: LiveStream | undefined): IngestMeter | undefined {
  const r = stream?.reader('ingest-meter');
  return r instanceof IngestMeter ? r : undefined;
}

/**
 * Bytes and frames received over the last few seconds, in one-second buckets: ingest bitrate and
 * frame rate for /metrics without a timer or an unbounded list.
 */
export class IngestWindow {
  static readonly SECONDS = 5;
  readonly #bytes = new Float64Array(IngestWindow.SECONDS);
  readonly #frames = new Float64Array(IngestWindow.SECONDS);
  #second = 0;

  /** Counts bytes and frames received at time nowMs. */
  add(nowMs: number, bytes: number, frames: number): void {
    this.#advance(Math.floor(nowMs / 1000));
    const i = this.#second % IngestWindow.SECONDS;
    this.#bytes[i]! += bytes;
    this.#frames[i]! += frames;
  }

  /** Bits per second and frames per second over the complete seconds of the window. */
  rates(nowMs: number): { bitsPerSecond: number; framesPerSecond: number } {
    const now = Math.floor(nowMs / 1000);
    this.#advance(now);
    let b = 0;
    let f = 0;
    // The current second is incomplete: average the SECONDS-1 seconds before it.
    for (let k = 1; k < IngestWindow.SECONDS; k++) {
      const i = (now - k) % IngestWindow.SECONDS;
      b += this.#bytes[i]!;
      f += this.#frames[i]!;
    }
    const n = IngestWindow.SECONDS - 1;
    return { bitsPerSecond: (b * 8) / n, framesPerSecond: f / n };
  }

  #advance(second: number): void {
    if (second <= this.#second) return;
    const steps = Math.min(second - this.#second, IngestWindow.SECONDS);
    for (let k = 1; k <= steps; k++) {
      const i = (this.#second + k) % IngestWindow.SECONDS;
      this.#bytes[i] = 0;
      this.#frames[i] = 0;
    }
    this.#second = second;
  }
}
