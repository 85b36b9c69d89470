import { ShowcaseError } from '../core/errors.js';
import type { LiveStream } from '../core/live-stream.js';
import type { Logger } from '../core/logger.js';
import type { PlaybackSource } from '../webrtc/stream-fanout.js';
import { RtmpRtpSource, type RtmpPlaybackSettings, type RtpEncodeSupervision } from './rtmp-rtp-source.js';
import type { WorkerPool } from '../webrtc/worker-pool.js';

export interface RtmpPlaybackFeedsOptions {
  /** Looks a live stream up (the registry). */
  stream(streamId: string): LiveStream | undefined;
  pool: WorkerPool;
  settings: RtmpPlaybackSettings;
  supervision: RtpEncodeSupervision;
  /** WebRTC viewers of a stream now, joins in flight included (WhepPlayback.viewers). */
  viewers(streamId: string): number;
  logger: Logger;
}

interface Entry {
  pending?: Promise<RtmpRtpSource>;
  feed?: RtmpRtpSource;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Starts an RTMP stream's WebRTC feed (RtmpRtpSource) lazily, on its first WHEP viewer, and stops it
 * `idleStopMs` after the last one left, or with the stream. At most one feed per stream and
 * `maxStreams` in all: each is an x264 encode. WhepPlayback asks through sourceFor().
 */
export class RtmpPlaybackFeeds {
  readonly #o: RtmpPlaybackFeedsOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(o: RtmpPlaybackFeedsOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'rtmp-rtp' });
  }

  /** Feeds running or starting. */
  get size(): number {
    return this.#entries.size;
  }

  /** A stream's running feed (tests and metrics read its encode's pid). */
  feed(streamId: string): RtmpRtpSource | undefined {
    return this.#entries.get(streamId)?.feed;
  }

  /**
   * The PlaybackSource of an RTMP stream, starting its feed if needed; undefined when the stream is
   * not live with H.264 packets (an RTP publisher's producers are the source themselves). Throws
   * SHOWCASE_ERR_WHEP_FULL when maxStreams feeds run.
   */
  async sourceFor(streamId: string): Promise<PlaybackSource | undefined> {
    if (this.#closed) return undefined;
    const entry = this.#entries.get(streamId);
    if (entry) {
      const feed = entry.feed ?? await entry.pending?.catch(() => undefined);
      return feed && !feed.closed ? feed.source : undefined;
    }
    const stream = this.#o.stream(streamId);
    // Packets only (RTP publishers are WHEP sources themselves), H.264 only: the encode could read
    // others, but packet publishers (RTMP) send H.264.
    const media = stream?.media;
    if (!stream || stream.state !== 'live' || media?.form !== 'packets' || !media.tracks.some((t) => t.kind === 'video' && t.codec === 'h264') || !stream.videoConfig) return undefined;
    if (this.#entries.size >= this.#o.settings.maxStreams) {
      throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'the server encodes as many RTMP streams for WebRTC as it may', { scope: 'rtmp-feeds', limit: this.#o.settings.maxStreams });
    }
    const e: Entry = {};
    this.#entries.set(streamId, e);
    e.pending = RtmpRtpSource.create({ stream, pool: this.#o.pool, settings: this.#o.settings, supervision: this.#o.supervision, logger: this.#o.logger });
    let feed: RtmpRtpSource;
    try {
      feed = await e.pending;
    } catch (err) {
      if (this.#entries.get(streamId) === e) this.#entries.delete(streamId);
      this.#log.error({ err, streamId }, 'RTMP-to-WebRTC feed could not start');
      throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream cannot be prepared for WebRTC now');
    }
    e.pending = undefined;
    // The stream may have ended while mediasoup built the feed (it then never saw onStreamEnd).
    if (this.#closed || feed.closed || (stream.state as string) === 'ended') {
      await feed.close(this.#closed ? 'server stopping' : 'stream ended');
      if (this.#entries.get(streamId) === e) this.#entries.delete(streamId);
      return undefined;
    }
    e.feed = feed;
    feed.once('closed', () => {
      if (e.idleTimer) clearTimeout(e.idleTimer);
      if (this.#entries.get(streamId) === e) this.#entries.delete(streamId);
    });
    // A viewer whose join fails never leaves: check once the grace passed anyway.
    this.#scheduleIdleCheck(streamId);
    return feed.source;
  }

  /** A WebRTC viewer of the stream left: if none remain after the grace, the feed stops. */
  viewerLeft(streamId: string): void {
    if (this.#entries.get(streamId)?.feed) this.#scheduleIdleCheck(streamId);
  }

  #scheduleIdleCheck(streamId: string): void {
    const e = this.#entries.get(streamId);
    if (!e?.feed) return;
    if (e.idleTimer) clearTimeout(e.idleTimer);
    e.idleTimer = setTimeout(() => {
      e.idleTimer = undefined;
      // A viewer joined meanwhile: its leaving schedules the next check.
      if (this.#o.viewers(streamId) > 0 || !e.feed) return;
      void e.feed.close(`no WebRTC viewer for ${this.#o.settings.idleStopMs} ms`);
    }, this.#o.settings.idleStopMs);
    e.idleTimer.unref();
  }

  /** Closes every feed and waits for their encodes to exit (shutdown). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map(async (e) => {
      if (e.idleTimer) clearTimeout(e.idleTimer);
      const feed = e.feed ?? await e.pending?.catch(() => undefined);
      await feed?.close('server stopping');
    }));
  }
}
