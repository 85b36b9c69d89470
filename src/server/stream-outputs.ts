import type { Config } from '../config/schema.js';
import type { LiveStream } from '../core/live-stream.js';
import type { Logger } from '../core/logger.js';
import type { Closable } from '../core/owner.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Store } from '../store/types.js';
import { Transcoder } from '../transcode/transcoder.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import { saveContinuations } from '../playback/hls/hls-continuation.js';
import { WhepSourceReader } from '../playback/whep/whep-source-reader.js';
import type { WhepPlayback } from '../playback/whep/whep-playback.js';
import { IngestMeter } from '../metrics/ingest-meter.js';
import type { WatchTicker } from '../metrics/watch-ticker.js';
import type { RecordingService } from '../recorder/recording-service.js';

export interface StreamOutputsOptions {
  registry: StreamRegistry;
  store: Store;
  origin: HlsOrigin;
  ticker: WatchTicker;
  config: Pick<Config, 'transcode' | 'hls'>;
  /** Private directory of the transcoders' unix sockets. */
  socketDir: string;
  /** WebRTC playback, when it is running (it starts after the streams node exists). */
  whep?: () => WhepPlayback | undefined;
  recordings?: RecordingService;
  logger: Logger;
}

/**
 * The streams node of the shutdown tree and the owner of their readers: every stream the registry
 * announces gets its outputs as readers (ingest meter, transcoder, WHEP source, recorder), none
 * told which protocol feeds it; the ticker follows its state; an ended stream is forgotten once its
 * transcoder flushed.
 *
 * On close (a deploy) the live streams are interrupted, not ended: their transcoders are suspended
 * (ffmpeg flushes into still-open playlists), the HLS continuation points are saved for the next
 * process, then every transcoder is closed.
 */
export class StreamOutputs implements Closable {
  /** Each in-memory stream's transcoder (tests and benchmarks read it). */
  readonly transcoders = new Map<string, Transcoder>();
  readonly #o: StreamOutputsOptions;
  readonly #interrupted = new Map<string, LiveStream>();
  #closing?: Promise<void>;

  constructor(o: StreamOutputsOptions) {
    this.#o = o;
    o.registry.on('stream', (s) => this.#attach(s));
    // Streams the sweep ended that no node held (a dead node's, nobody reconnected): their recordings are finalized here.
    o.registry.on('abandoned', (ids) => {
      for (const id of ids) void o.recordings?.streamEnded(id);
    });
  }

  /** Interrupts every live stream now (kept for the next process); the first step of a shutdown. */
  interrupt(reason: string): void {
    for (const s of this.#o.registry.interruptAll(reason)) this.#interrupted.set(s.id, s);
  }

  /** Interrupts what went live meanwhile, suspends the interrupted streams' readers, saves their continuation, closes every transcoder. */
  close(reason: string): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason: string): Promise<void> {
    // A publish that was being decided while the ingests closed.
    this.interrupt(reason);
    const ids = [...this.#interrupted.keys()];
    if (ids.length) this.#o.logger.info({ streams: ids }, 'live streams interrupted: the next start continues them');
    // Their ffmpeg flushes into still-open playlists; then open segments complete (and are recorded).
    await Promise.all(ids.map((id) => this.transcoders.get(id)?.suspend()));
    await saveContinuations(this.#o.origin, this.#o.store, ids).catch((err) => this.#o.logger.error({ err }, 'saving interrupted streams failed'));
    await Promise.all([...this.transcoders.values()].map((t) => t.close()));
  }

  #attach(stream: LiveStream): void {
    const o = this.#o;
    stream.addReader(new IngestMeter({ logger: o.logger }));
    const t = new Transcoder({ stream, transcode: o.config.transcode, hls: o.config.hls, origin: o.origin, socketDir: o.socketDir, logger: o.logger });
    this.transcoders.set(stream.id, t);
    stream.addReader(t);
    const whep = o.whep?.();
    if (whep) stream.addReader(new WhepSourceReader(whep));
    if (o.recordings) stream.addReader(o.recordings.reader());
    if (stream.state === 'live') o.ticker.markLive(stream.id);
    stream.on('state', (state) => {
      if (state === 'live') o.ticker.markLive(stream.id);
      if (state === 'ended') {
        o.ticker.markEnded(stream.id);
        // An interrupted stream nobody continued has no recorder here: its recording is finalized now.
        void o.recordings?.streamEnded(stream.id);
        // Keep the transcoder object a moment for its final flush, then forget the stream.
        t.once('state', () => {
          this.transcoders.delete(stream.id);
          o.registry.forget(stream.id);
        });
      }
    });
  }
}
