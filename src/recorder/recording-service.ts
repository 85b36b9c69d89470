import { mkdirSync, existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { LiveStream, StreamReader } from '../core/live-stream.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import type { HlsStream } from '../playback/hls/hls-stream.js';
import type { RenditionTimeline } from '../playback/hls/rendition-timeline.js';
import type { RecordingRecord, RecordingState as StoreRecordingState, Store } from '../store/types.js';
import { KeyedQueue } from '../core/keyed-queue.js';
import { freeBytes } from './disk-space.js';
import type { DateRange } from '../playback/hls/date-range.js';
import { finalizeRecording, MP4_FILE, NothingRecordedError } from './finalize.js';
import type { RecordingConfig } from './recording-config.js';
import type { RemuxProcess } from './remux-process.js';
import { RetentionSweeper } from './retention-sweep.js';
import { LinkSigner, loadLinkSecret } from './signed-links.js';
import { recordingErrorCode, StreamRecorder, type DiskCheck, type RecordingStop } from './stream-recorder.js';
import { RecordingVodSource } from './vod-source.js';
import { recordedContinuation } from './recorded-continuation.js';
import type { HlsContinuation } from '../playback/hls/hls-continuation.js';

/** A recording's lifecycle and its record, as the store keeps them (table `recordings`). */
export type RecordingState = StoreRecordingState;
export type RecordingInfo = RecordingRecord;

/** Recording infos kept in memory for metrics and quick reads (the store is the durable copy). */
const MAX_CACHED_INFOS = 1024;

export interface RecordingServiceOptions {
  dataDir: string;
  config: RecordingConfig;
  ffmpegPath: string;
  store: Store;
  origin: HlsOrigin;
  logger: Logger;
  now?: () => number;
  /** Free bytes on the filesystem of a path (tests fake a full disk). */
  freeBytes?: (path: string) => Promise<number>;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Records every live stream (a StreamRecorder per stream, a reader of each stream's renditions),
 * finalizes each in the background when it ends or after a crash (one at a time: remuxing is I/O
 * bound and must not starve live streams), signs download links, answers replay file lookups, and
 * runs the retention sweep. Owns every ffmpeg it starts: stop() kills what is still running.
 */
export class RecordingService {
  readonly root: string;
  readonly config: RecordingConfig;
  readonly signer: LinkSigner;
  readonly vod: RecordingVodSource;
  readonly #o: RecordingServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #recorders = new Map<string, StreamRecorder>();
  readonly #finalizing = new Map<string, Promise<void>>();
  readonly #remuxes = new Set<RemuxProcess>();
  readonly #errors = new Map<string, number>();
  readonly #sweeper: RetentionSweeper;
  readonly #endedAt = new Map<string, number>();
  /** Last written info per stream, newest last (bounded by MAX_CACHED_INFOS). */
  readonly #cache = new Map<string, RecordingInfo>();
  /** Each stream's recording writes, in order, never awaited by the media path. */
  readonly #writes = new KeyedQueue();
  #chain: Promise<void> = Promise.resolve();
  #started = false;
  #stopping = false;
  /** The stream's date ranges (commerce's highlights) for the VOD playlists, read at finalize. */
  dateRangesFor?: (streamId: string) => Promise<readonly DateRange[]>;
  /** Hears each recording that became ready (notifications' recording.ready webhook). */
  onReady?: (streamId: string, info: RecordingInfo) => void;

  constructor(o: RecordingServiceOptions) {
    this.#o = o;
    this.config = o.config;
    this.#log = o.logger;
    this.#now = o.now ?? Date.now;
    this.root = resolve(o.config.dir || join(o.dataDir, 'recordings'));
    this.signer = new LinkSigner(loadLinkSecret(o.dataDir, o.config.linkSecret, o.logger), o.config.linkTtlSeconds, this.#now);
    this.vod = new RecordingVodSource({ root: this.root, store: o.store });
    this.#sweeper = new RetentionSweeper({
      root: this.root,
      retentionDays: o.config.retentionDays,
      store: o.store,
      isActive: (id) => this.#recorders.has(id) || this.#finalizing.has(id),
      onExpired: (id) => this.#cache.delete(id),
      now: this.#now,
      logger: o.logger,
    });
  }

  /** Starts recording new streams, finalizes what a previous process left, starts the retention sweep. */
  async start(): Promise<void> {
    if (this.#started || !this.config.enabled) return;
    this.#started = true;
    try {
      mkdirSync(this.root, { recursive: true });
    } catch (err) {
      // Each recording will fail with its own clear state; the live service is not affected.
      this.#count('SHOWCASE_ERR_RECORDING_FAILED');
      this.#log.error({ err, dir: this.root, code: 'SHOWCASE_ERR_RECORDING_FAILED' }, 'recordings directory is not usable: streams will not be recorded');
    }
    await this.#recover();
    this.#sweeper.start(this.config.sweepIntervalMs);
  }

  /**
   * The recorder as a reader of one stream: it reads no media form itself but the renditions the
   * transcoder announces on the stream, and records them from then on (once per stream).
   */
  reader(): StreamReader {
    return {
      name: 'recorder',
      consumes: [],
      onPublisherStart: () => {},
      onPublisherStop: () => {},
      onStreamEnd: () => {},
      onRenditions: (stream: LiveStream) => {
        const hls = this.#o.origin.get(stream.id);
        if (hls && this.#started) this.#record(hls);
      },
    };
  }

  /** The recording info of a stream (with live progress while recording), undefined if it has none. */
  async info(streamId: string): Promise<RecordingInfo | undefined> {
    const stored = this.#cache.get(streamId) ?? (await this.#o.store.getRecording(streamId));
    const live = this.#recorders.get(streamId);
    if (stored && live && (stored.state === 'recording' || stored.state === 'stopped')) {
      return { ...stored, durationSeconds: Math.round(live.mediaSeconds * 1000) / 1000, segments: live.segments };
    }
    return stored;
  }

  /** The state of a recording this process wrote lately, without asking the store (for metrics at scrape time). */
  cachedState(streamId: string): RecordingState | undefined {
    return this.#cache.get(streamId)?.state;
  }

  /** The finished MP4 of a stream, if its recording is ready. */
  async mp4File(streamId: string): Promise<string | undefined> {
    if (!ID.test(streamId) || (await this.info(streamId))?.state !== 'ready') return undefined;
    const f = join(this.root, streamId, MP4_FILE);
    return existsSync(f) ? f : undefined;
  }

  /** A replay file for hls-routes' `vod` option (VOD playlists, init segments, segments). */
  vodFile(streamId: string, rendition: string | undefined, file: string): Promise<string | undefined> {
    return this.vod.file(streamId, rendition, file);
  }

  /** Errors counted by code since start (for metrics). */
  errorCounts(): Record<string, number> {
    return Object.fromEntries(this.#errors);
  }

  /** Recordings being written now and the bytes they have waiting for the disk. */
  activity(): { recording: number; finalizing: number; queuedBytes: number } {
    let queuedBytes = 0;
    for (const r of this.#recorders.values()) queuedBytes += r.queuedBytes;
    return { recording: this.#recorders.size, finalizing: this.#finalizing.size, queuedBytes };
  }

  /** The live recorder of a stream (tests, benchmarks). */
  recorder(streamId: string): StreamRecorder | undefined {
    return this.#recorders.get(streamId);
  }

  /** Runs the retention sweep now; resolves with the stream ids whose recordings were deleted. */
  sweep(): Promise<string[]> {
    return this.#sweeper.sweep();
  }

  /**
   * Finalizes a stream's recording from what is on disk, in the background queue; resolves when it
   * is ready, failed, or left 'processing' by a shutdown (the next start resumes it).
   */
  finalize(streamId: string): Promise<void> {
    const running = this.#finalizing.get(streamId);
    if (running) return running;
    const before = this.#chain;
    const job = (async () => {
      const prev = await this.info(streamId);
      this.#set(streamId, { ...base(prev), state: 'processing', ...(prev?.code ? { code: prev.code, reason: prev.reason } : {}) });
      await before;
      await this.#runFinalize(streamId, prev);
    })()
      .catch((err) => this.#log.error({ err, streamId, code: 'SHOWCASE_ERR_RECORDING_FAILED' }, 'recording finalize could not run'))
      .finally(() => this.#finalizing.delete(streamId));
    this.#chain = job;
    this.#finalizing.set(streamId, job);
    return job;
  }

  /**
   * This node is about to continue a stream another process recorded (its own previous process, or
   * a dead node, on a recordings directory they share): the recording's record is cached (so the
   * continued recording keeps its start), and the answer is where the HLS numbering continues past
   * every file already in the directory (undefined when it holds none).
   */
  async recordedContinuation(streamId: string): Promise<HlsContinuation | undefined> {
    if (!ID.test(streamId) || !this.config.enabled) return undefined;
    const rec = await this.#o.store.getRecording(streamId);
    if (rec && !this.#recorders.has(streamId)) this.#cache.set(streamId, rec);
    return recordedContinuation(join(this.root, streamId));
  }

  /**
   * A stream ended: when no recorder of this process holds it (a stream interrupted by the previous
   * process that nobody continued within the grace), finalize what the previous process recorded.
   * A stream this process records is finalized by its recorder's end instead. Only a recording
   * whose files this node sees, and not while another node has the stream live (it took over).
   */
  async streamEnded(streamId: string): Promise<void> {
    if (this.#stopping || !ID.test(streamId) || this.#recorders.has(streamId) || this.#finalizing.has(streamId)) return;
    if (!existsSync(join(this.root, streamId))) return;
    const stream = await this.#o.store.getStream(streamId);
    if (stream?.state === 'live') return;
    const st = (await this.info(streamId))?.state;
    if (st !== 'recording' && st !== 'stopped' && st !== 'processing') return;
    this.#log.info({ streamId, state: st }, 'finalizing the recording of an interrupted stream nobody continued');
    await this.finalize(streamId);
  }

  /**
   * Stops: no new recordings, live recorders flushed and closed (their streams resume finalizing at
   * the next start), a running finalize gets shutdownGraceMs, then its ffmpeg is killed.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#sweeper.stop();
    // An ended recorder's 'ended' listener queues its finalize: wait for it, so the store is still open then.
    await Promise.all([...this.#recorders.values()].map((r) => (r.ended ? r.endedEmitted() : r.close())));
    const settled = Promise.allSettled([...this.#finalizing.values()]);
    const grace = new Promise<void>((res) => setTimeout(res, this.config.shutdownGraceMs).unref());
    await Promise.race([settled, grace]);
    for (const p of this.#remuxes) p.kill();
    await settled;
    // The store must still be open for these: the app closes it after this resolves.
    await this.#writes.drain();
  }

  #record(hls: HlsStream): void {
    const id = hls.streamId;
    if (this.#stopping || this.#recorders.has(id)) return;
    const timelines = this.#kept(hls);
    const recorder = new StreamRecorder({
      streamId: id,
      dir: join(this.root, id),
      timelines,
      maxQueuedBytes: this.config.maxQueuedBytes,
      checkDisk: this.#diskCheck(),
      diskCheckIntervalMs: this.config.diskCheckIntervalMs,
      logger: this.#log,
      now: this.#now,
    });
    this.#recorders.set(id, recorder);
    // A stream continued after a restart appends to the same recording: it started back then.
    const prev = this.#cache.get(id);
    const startedAt = prev?.state === 'recording' ? prev.startedAt ?? this.#now() : this.#now();
    this.#set(id, { state: 'recording', startedAt, renditions: recorder.renditions, mp4Rendition: recorder.renditions[0] });
    recorder.on('stopped', (stop) => {
      this.#count(stop.code);
      this.#set(id, { ...base(this.#cache.get(id)), state: 'stopped', code: stop.code, reason: stop.reason });
    });
    recorder.on('ended', () => {
      this.#recorders.delete(id);
      this.#endedAt.set(id, this.#now());
      void this.finalize(id);
    });
    this.#log.info({ streamId: id, renditions: recorder.renditions, dir: recorder.dir }, 'recording started');
  }

  /** The renditions to keep: the configured ones this stream has (all when none is configured). */
  #kept(hls: HlsStream): RenditionTimeline[] {
    const all = [...hls.timelines.values()];
    const wanted = this.config.renditions;
    if (wanted.length === 0) return all;
    const kept = all.filter((t) => wanted.includes(t.name));
    if (kept.length) return kept;
    this.#log.warn({ streamId: hls.streamId, configured: wanted, available: all.map((t) => t.name) }, 'no configured recording rendition in this stream\'s ladder: keeping the top one');
    return all.slice(0, 1);
  }

  #diskCheck(): DiskCheck {
    const floor = this.config.minFreeBytes;
    const probe = this.#o.freeBytes ?? freeBytes;
    return async () => {
      if (floor <= 0) return undefined;
      let free: number;
      try {
        free = await probe(this.root);
      } catch {
        return undefined; // unknown: the writes themselves will tell
      }
      return free < floor ? { code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: `free disk space (${free} bytes) is below the recording floor (${floor} bytes)` } : undefined;
    };
  }

  async #runFinalize(id: string, prev: RecordingInfo | undefined): Promise<void> {
    if (this.#stopping) return; // stays 'processing': the next start resumes it
    if (!(await this.#o.store.getStream(id))) {
      // The stream was deleted while recording: nothing can reach this recording any more.
      await rm(join(this.root, id), { recursive: true, force: true });
      return;
    }
    const t0 = this.#now();
    try {
      const dateRanges = await this.dateRangesFor?.(id).catch((err: unknown) => {
        this.#log.warn({ err, streamId: id }, 'date ranges for the VOD playlists unavailable: the replay carries none');
        return [];
      });
      const r = await finalizeRecording(join(this.root, id), {
        dateRanges,
        ffmpegPath: this.#o.ffmpegPath,
        timeoutMs: this.config.finalizeTimeoutMs,
        logger: this.#log.child({ streamId: id }),
        onRemux: (p) => (p ? this.#remuxes.add(p) : this.#remuxes.clear()),
      });
      const endedAt = this.#endedAt.get(id);
      this.#endedAt.delete(id);
      const early: Partial<RecordingInfo> = r.stop ? { code: r.stop.code, reason: `recording stopped early: ${r.stop.reason}` } : {};
      this.#set(id, {
        ...base(prev), state: 'ready', renditions: r.renditions, mp4Rendition: r.mp4Rendition, durationSeconds: r.durationSeconds, sizeBytes: r.sizeBytes,
        segments: r.segments, discontinuities: r.discontinuities, readyAt: this.#now(), finalizeMs: this.#now() - (endedAt ?? t0), ...early,
      });
      this.#log.info({ streamId: id, ms: this.#now() - t0, durationSeconds: r.durationSeconds, sizeBytes: r.sizeBytes, discontinuities: r.discontinuities }, 'recording ready');
      const ready = this.#cache.get(id);
      if (ready) this.onReady?.(id, ready);
    } catch (err) {
      if (this.#stopping && !(err instanceof NothingRecordedError)) {
        this.#log.info({ streamId: id }, 'finalize interrupted by shutdown: it resumes at the next start');
        return;
      }
      const code = err instanceof NothingRecordedError ? (prev?.code ?? 'SHOWCASE_ERR_RECORDING_FAILED') : recordingErrorCode(err);
      const reason = err instanceof NothingRecordedError && prev?.reason ? prev.reason : (err as Error).message.slice(0, 300);
      // A recording that stopped early and kept nothing was counted when it stopped.
      if (!(err instanceof NothingRecordedError && prev?.code)) this.#count(code);
      this.#set(id, { ...base(prev), state: 'failed', code, reason });
      this.#log.error({ streamId: id, code, reason }, 'recording could not be finalized');
    }
  }

  /** After a crash: finalize recordings that ended streams left recording, stopped or processing. */
  async #recover(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return;
    }
    for (const id of names) {
      if (!ID.test(id) || this.#recorders.has(id)) continue;
      const rec = await this.#o.store.getStream(id);
      if (rec?.state === 'interrupted') {
        // A deploy stopped it: its recording continues if the publisher comes back (#record reads
        // this cached state synchronously, on the media path).
        const recording = await this.#o.store.getRecording(id);
        if (recording) this.#cache.set(id, recording);
        continue;
      }
      const st = rec?.state === 'ended' ? (await this.#o.store.getRecording(id))?.state : undefined;
      if (rec?.state !== 'ended' || !(st === 'recording' || st === 'stopped' || st === 'processing')) continue;
      this.#log.warn({ streamId: id, state: st }, 'finalizing a recording left by a previous process');
      void this.finalize(id);
    }
  }

  /**
   * Records a state change: in memory at once (what info() and the metrics read), in the store
   * through the stream's write queue (recorder events come from the media path: never awaited).
   */
  #set(id: string, info: Omit<RecordingInfo, 'updatedAt'>): void {
    const full: RecordingInfo = { ...info, updatedAt: this.#now() };
    this.#cache.delete(id);
    this.#cache.set(id, full);
    if (this.#cache.size > MAX_CACHED_INFOS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#writes.run(id, () => this.#o.store.putRecording(id, full)).then(
      (written) => {
        // The stream was deleted: there is no recording to describe.
        if (!written && this.#cache.get(id) === full) this.#cache.delete(id);
      },
      (err) => this.#log.error({ err, streamId: id, state: full.state, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'recording state could not be written to the store'),
    );
  }

  #count(code: string): void {
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }
}

/** The fields that carry over from one state to the next. */
function base(prev: RecordingInfo | undefined): Pick<RecordingInfo, 'startedAt' | 'renditions' | 'mp4Rendition'> {
  return { startedAt: prev?.startedAt, renditions: prev?.renditions, mp4Rendition: prev?.mp4Rendition };
}

export type { RecordingStop };
