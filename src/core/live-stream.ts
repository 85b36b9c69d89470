/**
 * # The media seam: LiveStream, publishers and readers
 *
 * One LiveStream per stream (MediaMTX calls it a path, OvenMediaEngine a media router). Every
 * ingest and every output meets here, and only here:
 *
 * **Publisher (one at a time).** An ingest (RTMP, WHIP, the studio's signaling) attaches a
 * PublisherHandle that declares its media (`PublisherHandle.media`):
 * - `form: 'packets'`: FLV-shaped packets (codec configuration + access units, MediaPacket) that
 *   the ingest hands to `pushPacket()`; tracks are learned from the sequence headers as they come.
 * - `form: 'rtp'`: RTP that never passes through Node: producers on a mediasoup router (what
 *   WebRTC outputs consume) plus a plain-RTP copy described by an SDP (what ffmpeg reads), with a
 *   keyframe request and byte counters. The tracks (kind, codec) are known at attach time.
 * The ingest decides who may publish through the StreamRegistry; it never knows the outputs.
 *
 * **Readers (any number).** Every output attaches with `addReader()` and declares the forms it
 * consumes (`StreamReader.consumes`). The stream offers a publisher only to readers that consume
 * its form: `onPublisherStart(stream, media)` then, for packets, `onPacket()` per packet;
 * `onPublisherStop()` when it leaves (graceful=false: a reconnect may follow within the grace);
 * `onStreamEnd()` once, to every reader (it stands for the stop of a publisher still attached).
 * Readers branch on the declared form at most, never on the protocol the media came in on
 * (`publisher.protocol` is for people: logs and the API).
 * A reader that cannot take both forms leaves the other to a converter that is itself a reader
 * (the RTMP-to-WebRTC feed reads packets and offers RTP producers to WHEP).
 *
 * **Bounded, never blocking.** onPacket is synchronous and must not block or grow without bound:
 * each reader keeps a bounded queue of its own (an ffmpeg stdin budget, a GOP cache) and, when it
 * is full, drops and returns false; the stream counts each reader's drops (`readerDrops()`), so a
 * slow reader is visible and never stalls the publisher or the other readers. A reader that throws
 * is reported and the others still run.
 *
 * **Renditions.** A transcoder is a reader of the stream and a publisher of renditions: it calls
 * `announceRenditions()` when its ladder exists, and readers with `onRenditions` (the recorder)
 * learn it then, from the stream rather than from the HLS origin's internals.
 *
 * Where a new part goes: a new ingest builds a PublisherHandle with its media and goes through
 * `StreamRegistry.authorizePublish`; a new output implements StreamReader and is attached when the
 * registry announces a stream.
 */
import type { types } from 'mediasoup';
import { TypedEmitter } from './typed-emitter.js';
import { inspectFlvAudio, inspectFlvVideo, type MediaInfo, type MediaKind, type MediaPacket } from './media.js';
import type { StreamState } from '../store/types.js';

/** How a publisher's media reaches readers: FLV-shaped packets through pushPacket, or RTP in mediasoup. */
export type MediaForm = 'packets' | 'rtp';

/** One track a publisher sends. codec: lower-case name (h264, vp8, aac, opus...). */
export interface TrackInfo {
  kind: MediaKind;
  codec: string;
}

/**
 * RTP media (a WebRTC publisher): producers on a mediasoup router, forwarded to local UDP ports as
 * plain RTP for ffmpeg. Readers never receive these packets; they read them where they are.
 */
export interface RtpMedia {
  /** The router the producers live on (WebRTC playback fans out from it); absent for RTP from outside mediasoup. */
  router?: types.Router;
  /** The publisher's producers (empty for RTP from outside mediasoup). */
  producers: readonly types.Producer[];
  /** SDP for ffmpeg (`-f sdp`): codecs, payload types and the local ports the plain RTP arrives on. */
  sdp: string;
  /** Source height if known (for the ladder). */
  height?: number;
  /** Asks the publisher for a keyframe (a reader started or restarted). */
  requestKeyFrame(): void;
  /** Plain-RTP bytes sent towards ffmpeg so far (a reader's stall watchdog: is input arriving?). */
  sentBytes?(): Promise<number>;
}

/** What a publisher declares about its media when it attaches. */
export type PublisherMedia =
  | { form: 'packets'; tracks: TrackInfo[] }
  | { form: 'rtp'; tracks: TrackInfo[]; rtp: RtpMedia };

/** What a LiveStream knows about whoever publishes into it, whatever the protocol. */
export interface PublisherHandle {
  readonly id: string;
  /** For people (logs, the API): no output reads it. */
  readonly protocol: 'rtmp' | 'webrtc';
  readonly remoteAddress: string;
  /** The media this publisher sends and the form it takes. */
  readonly media: PublisherMedia;
  /** False once the publisher's transport has gone quiet or closed (a dead OBS socket). */
  isAlive(): boolean;
  /** Disconnects the publisher (a takeover by its own reconnect, or the stream being deleted). */
  close(reason: string): void;
}

/**
 * An output attached to a stream (transcoder, recorder, WebRTC playback, ingest metrics). See the
 * contract at the top of this file.
 */
export interface StreamReader {
  readonly name: string;
  /** The media forms this reader reads; publishers of another form are not offered to it. */
  readonly consumes: readonly MediaForm[];
  /** A publisher of a form this reader consumes attached (or was there when the reader attached). */
  onPublisherStart(stream: LiveStream, media: PublisherMedia): void;
  /** One packet (form 'packets' only). Must not block; false means the reader dropped it (its queue is full). */
  onPacket?(packet: MediaPacket): boolean | void;
  /** The publisher left; graceful=false means a reconnect within the grace period may follow. */
  onPublisherStop(reason: string, graceful: boolean): void;
  /** The stream is over (grace expired, publisher stopped cleanly, or it was deleted). Every reader hears it. */
  onStreamEnd(reason: string): void;
  /** The stream's renditions exist now (a transcoder announced them). */
  onRenditions?(stream: LiveStream): void;
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

interface ReaderSlot {
  reader: StreamReader;
  /** It was offered the current publisher (and so hears its stop). */
  started: boolean;
  dropped: number;
}

/** Most readers one stream takes: outputs are attached by the server, never keyed by client input. */
const MAX_READERS = 32;

/** FLV codec ids to names (what RTMP publishers send). */
const FLV_VIDEO_CODECS: Record<number, string> = { 7: 'h264', 12: 'hevc' };
const FLV_AUDIO_CODECS: Record<number, string> = { 10: 'aac', 2: 'mp3' };

/**
 * The central abstraction: one stream, one publisher at a time, any number of readers (the
 * contract is at the top of this file).
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
  startedAt: number | null = null;
  endedAt: number | null = null;
  /** Set while the publisher is gone but may come back within the grace period. */
  reconnectDeadline: number | null = null;
  /** Set once a transcoder announced the stream's renditions. */
  renditionsAnnounced = false;
  /** Practice mode (the record's flag, fixed at creation): outputs run, public viewers are refused. */
  practice = false;
  readonly #readers = new Map<string, ReaderSlot>();
  #graceTimer?: NodeJS.Timeout;

  constructor(id: string, state: StreamState) {
    super();
    this.id = id;
    this.state = state;
  }

  /** The current publisher's media, if one is attached. */
  get media(): PublisherMedia | undefined {
    return this.publisher?.media;
  }

  /** Readers currently attached. */
  readers(): StreamReader[] {
    return [...this.#readers.values()].map((s) => s.reader);
  }

  /** The reader attached under a name. */
  reader(name: string): StreamReader | undefined {
    return this.#readers.get(name)?.reader;
  }

  /** Packets each reader dropped since it attached (its queue was full). */
  readerDrops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.#readers) out[name] = s.dropped;
    return out;
  }

  /** Attaches an output; it is offered the current publisher at once if it consumes its form. */
  addReader(reader: StreamReader): void {
    const old = this.#readers.get(reader.name);
    if (!old && this.#readers.size >= MAX_READERS) throw new Error(`stream ${this.id} has ${MAX_READERS} readers already`);
    const slot: ReaderSlot = { reader, started: false, dropped: 0 };
    this.#readers.set(reader.name, slot);
    this.#start(slot);
    if (this.renditionsAnnounced && reader.onRenditions) this.#call(reader, (r) => r.onRenditions!(this));
  }

  /** Detaches an output (it hears nothing more). */
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
    if (p.media.form === 'rtp' && p.media.rtp.height && this.mediaInfo.height === undefined) this.mediaInfo = { ...this.mediaInfo, height: p.media.rtp.height };
    if (this.state !== 'live') {
      this.state = 'live';
      this.startedAt ??= Date.now();
      this.safeEmit('state', 'live', 'publisher-attached');
    }
    this.safeEmit('publisher', p);
    for (const slot of this.#readers.values()) this.#start(slot);
  }

  /** Hands a packet of the current (packet-form) publisher to every packet reader; keeps codec configuration. */
  pushPacket(p: MediaPacket): void {
    const media = this.publisher?.media;
    if (!media || media.form !== 'packets') return;
    if (!this.clock) this.clock = { wallAtFirstMs: Date.now(), firstTimestamp: p.timestamp };
    if (p.sequenceHeader) {
      if (p.kind === 'video') this.videoConfig = p;
      else this.audioConfig = p;
      declareTrack(media.tracks, p);
    }
    for (const slot of this.#readers.values()) {
      if (!slot.started || !slot.reader.onPacket) continue;
      try {
        if (slot.reader.onPacket(p) === false) slot.dropped++;
      } catch (error) {
        this.onListenerError(`reader:${slot.reader.name}`, error);
      }
    }
  }

  /** Records what the publisher says about its media (onMetaData). */
  setMediaInfo(info: MediaInfo): void {
    this.mediaInfo = { ...this.mediaInfo, ...info };
  }

  /** A transcoder's ladder exists: readers of renditions (the recorder) are told once. */
  announceRenditions(): void {
    if (this.renditionsAnnounced) return;
    this.renditionsAnnounced = true;
    for (const s of this.#readers.values()) if (s.reader.onRenditions) this.#call(s.reader, (r) => r.onRenditions!(this));
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
    this.#stopAll(reason, !willWait);
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
      this.#stopAll(reason, false);
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
    // onStreamEnd stands for the stop too: a reader releases what it read with in either.
    for (const s of [...this.#readers.values()]) {
      s.started = false;
      this.#call(s.reader, (x) => x.onStreamEnd(reason));
    }
    this.safeEmit('state', 'ended', reason);
  }

  /** Converts a publisher timestamp (ms) to wall-clock ms. */
  wallClockOf(timestamp: number): number {
    const c = this.clock;
    return c ? c.wallAtFirstMs + (timestamp - c.firstTimestamp) : Date.now();
  }

  #start(slot: ReaderSlot): void {
    const media = this.publisher?.media;
    if (!media || !slot.reader.consumes.includes(media.form)) return;
    slot.started = true;
    this.#call(slot.reader, (r) => r.onPublisherStart(this, media));
  }

  #stopAll(reason: string, graceful: boolean): void {
    for (const slot of [...this.#readers.values()]) {
      if (!slot.started) continue;
      slot.started = false;
      this.#call(slot.reader, (x) => x.onPublisherStop(reason, graceful));
    }
  }

  #call(r: StreamReader, fn: (r: StreamReader) => void): void {
    try {
      fn(r);
    } catch (error) {
      this.onListenerError(`reader:${r.name}`, error);
    }
  }
}

/** Adds (or updates) the track a sequence header announces. */
function declareTrack(tracks: TrackInfo[], p: MediaPacket): void {
  const codec = p.kind === 'video'
    ? FLV_VIDEO_CODECS[inspectFlvVideo(p.payload).codecId] ?? 'unknown'
    : FLV_AUDIO_CODECS[inspectFlvAudio(p.payload).soundFormat] ?? 'unknown';
  const existing = tracks.find((t) => t.kind === p.kind);
  if (existing) existing.codec = codec;
  else tracks.push({ kind: p.kind, codec });
}
