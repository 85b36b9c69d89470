import { TypedEmitter } from './typed-emitter.js';
import type { MediaInfo, MediaPacket } from './media.js';
import type { StreamState } from '../store/types.js';

/** What a LiveStream knows about whoever publishes into it, whatever the protocol. */
export interface PublisherHandle {
  readonly id: string;
  readonly protocol: 'rtmp' | 'webrtc';
  readonly remoteAddress: string;
  /** False once the publisher's transport has gone quiet or closed (a dead OBS socket). */
  isAlive(): boolean;
  /** Disconnects the publisher (a takeover by its own reconnect, or the stream being deleted). */
  close(reason: string): void;
}

/**
 * An output attached to a stream (transcoder, recorder, WebRTC bridge). Outputs never learn which
 * protocol media came in on. onPacket must not block: a reader bounds its own queue and drops.
 */
export interface StreamReader {
  readonly name: string;
  onPublisherStart(stream: LiveStream): void;
  onPacket(packet: MediaPacket): void;
  /** The publisher left; graceful=false means a reconnect within the grace period may follow. */
  onPublisherStop(reason: string, graceful: boolean): void;
  /** The stream is over (grace expired, publisher stopped cleanly, or it was deleted). */
  onStreamEnd(reason: string): void;
}

/**
 * Media that arrives as RTP (a WebRTC publisher routed through mediasoup to a PlainTransport):
 * outputs read it with the SDP that describes it instead of receiving FLV packets.
 */
export interface RtpInput {
  /** SDP for ffmpeg (`-f sdp`): codecs, payload types and the local ports the RTP arrives on. */
  sdp: string;
  hasAudio: boolean;
  /** Source height if known (for the ladder). */
  height?: number;
  /** Asks the publisher for a keyframe (a reader started or restarted). */
  requestKeyFrame(): void;
  /** RTP bytes sent towards ffmpeg so far (the transcoder's stall watchdog: is input arriving?). */
  sentBytes?(): Promise<number>;
}

export type LiveStreamEvents = {
  state: [state: StreamState, reason: string];
  publisher: [publisher: PublisherHandle | undefined];
};

/** Wall-clock reference for the publisher's timestamps (EXT-X-PROGRAM-DATE-TIME comes from it). */
export interface IngestClock {
  wallAtFirstMs: number;
  firstTimestamp: number;
}

/**
 * The central abstraction: one stream, one publisher at a time, any number of readers.
 * Ingest adapters attach publishers and push packets; outputs attach as readers.
 */
export class LiveStream extends TypedEmitter<LiveStreamEvents> {
  readonly id: string;
  state: StreamState;
  publisher?: PublisherHandle;
  mediaInfo: MediaInfo = {};
  /** Latest codec configuration packets: a reader that (re)starts mid-stream begins with them. */
  videoConfig?: MediaPacket;
  audioConfig?: MediaPacket;
  clock?: IngestClock;
  /** Set by a WebRTC ingest before it attaches its publisher; undefined for FLV-shaped (RTMP) media. */
  rtpInput?: RtpInput;
  startedAt: number | null = null;
  endedAt: number | null = null;
  /** Set while the publisher is gone but may come back within the grace period. */
  reconnectDeadline: number | null = null;
  /** Ingest counters for metrics: bytes and video frames since start, keyframe spacing. */
  readonly ingest = { bytes: 0, videoFrames: 0, keyframes: 0, lastKeyframeTs: -1, keyframeIntervalMs: 0, window: new IngestWindow() };
  readonly #readers = new Map<string, StreamReader>();
  #graceTimer?: NodeJS.Timeout;

  constructor(id: string, state: StreamState) {
    super();
    this.id = id;
    this.state = state;
  }

  /** Readers currently attached. */
  readers(): StreamReader[] {
    return [...this.#readers.values()];
  }

  /** Attaches an output; it sees publishers from now on (and the current one at once). */
  addReader(reader: StreamReader): void {
    this.#readers.set(reader.name, reader);
    if (this.publisher) this.#call(reader, (r) => r.onPublisherStart(this));
  }

  /** Detaches an output. */
  removeReader(name: string): void {
    this.#readers.delete(name);
  }

  /** Attaches the publisher and makes the stream live (or continues it after a reconnect). */
  attachPublisher(p: PublisherHandle): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.reconnectDeadline = null;
    this.publisher = p;
    this.videoConfig = undefined;
    this.audioConfig = undefined;
    this.clock = undefined;
    if (this.state !== 'live') {
      this.state = 'live';
      this.startedAt ??= Date.now();
      this.safeEmit('state', 'live', 'publisher-attached');
    }
    this.safeEmit('publisher', p);
    for (const r of this.#readers.values()) this.#call(r, (x) => x.onPublisherStart(this));
  }

  /** Hands a packet to every reader; keeps codec configuration for late or restarting readers. */
  pushPacket(p: MediaPacket): void {
    const now = Date.now();
    if (!this.clock) this.clock = { wallAtFirstMs: now, firstTimestamp: p.timestamp };
    const ing = this.ingest;
    ing.bytes += p.payload.length;
    const isFrame = p.kind === 'video' && !p.sequenceHeader;
    if (isFrame) {
      ing.videoFrames++;
      if (p.keyframe) {
        if (ing.lastKeyframeTs >= 0) ing.keyframeIntervalMs = p.timestamp - ing.lastKeyframeTs;
        ing.lastKeyframeTs = p.timestamp;
        ing.keyframes++;
      }
    }
    ing.window.add(now, p.payload.length, isFrame ? 1 : 0);
    if (p.sequenceHeader) {
      if (p.kind === 'video') this.videoConfig = p;
      else this.audioConfig = p;
    }
    for (const r of this.#readers.values()) this.#call(r, (x) => x.onPacket(p));
  }

  /** Records what the publisher says about its media (onMetaData). */
  setMediaInfo(info: MediaInfo): void {
    this.mediaInfo = { ...this.mediaInfo, ...info };
  }

  /**
   * The publisher left. graceful (an explicit unpublish) ends the stream now; otherwise the stream
   * waits graceMs for the same key to publish again before it ends.
   */
  detachPublisher(p: PublisherHandle, reason: string, graceful: boolean, graceMs: number): void {
    if (this.publisher !== p) return;
    this.publisher = undefined;
    this.safeEmit('publisher', undefined);
    const willWait = !graceful && graceMs > 0;
    for (const r of this.#readers.values()) this.#call(r, (x) => x.onPublisherStop(reason, !willWait));
    if (!willWait) {
      this.end(reason);
      return;
    }
    this.reconnectDeadline = Date.now() + graceMs;
    this.#graceTimer = setTimeout(() => this.end(`${reason}; no reconnect within ${graceMs} ms`), graceMs);
    this.#graceTimer.unref();
  }

  /**
   * The server is stopping while the stream is live (a deploy): the publisher is disconnected and
   * readers stop as for a reconnect (graceful=false), but the stream does not end: its state becomes
   * 'interrupted' so the next process can continue it. No-op unless live.
   */
  interrupt(reason: string): void {
    if (this.state !== 'live') return;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.reconnectDeadline = null;
    const p = this.publisher;
    this.publisher = undefined;
    if (p) {
      this.safeEmit('publisher', undefined);
      for (const r of this.#readers.values()) this.#call(r, (x) => x.onPublisherStop(reason, false));
      p.close(`server stopping: ${reason}`);
    }
    this.state = 'interrupted';
    this.safeEmit('state', 'interrupted', reason);
  }

  /**
   * An interrupted stream restored by a new process: it waits graceMs for its publisher to come
   * back (attachPublisher continues it), then ends. graceMs 0 ends it now.
   */
  awaitReconnect(graceMs: number, reason: string): void {
    if (this.state !== 'interrupted') return;
    if (graceMs <= 0) {
      this.end(`${reason}; no reconnect grace configured`);
      return;
    }
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.reconnectDeadline = Date.now() + graceMs;
    this.#graceTimer = setTimeout(() => this.end(`${reason}; no reconnect within ${graceMs} ms`), graceMs);
    this.#graceTimer.unref();
  }

  /** Ends the stream for good: readers finish (playlists get ENDLIST), state becomes 'ended'. */
  end(reason: string): void {
    if (this.state === 'ended') return;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.reconnectDeadline = null;
    const p = this.publisher;
    this.publisher = undefined;
    if (p) p.close(`stream ended: ${reason}`);
    this.state = 'ended';
    this.endedAt = Date.now();
    for (const r of this.#readers.values()) this.#call(r, (x) => x.onStreamEnd(reason));
    this.safeEmit('state', 'ended', reason);
  }

  /** Converts a publisher timestamp (ms) to wall-clock ms. */
  wallClockOf(timestamp: number): number {
    const c = this.clock;
    return c ? c.wallAtFirstMs + (timestamp - c.firstTimestamp) : Date.now();
  }

  #call(r: StreamReader, fn: (r: StreamReader) => void): void {
    try {
      fn(r);
    } catch (error) {
      this.onListenerError(`reader:${r.name}`, error);
    }
  }
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
