import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TypedEmitter } from '../core/typed-emitter.js';
import type { Logger } from '../core/logger.js';
import type { RenditionTimeline } from '../playback/hls/rendition-timeline.js';
import type { Part, Segment } from '../playback/hls/types.js';
import { JOURNAL_FILE, JournalWriter, type JournalEntry } from './journal.js';
import { WriteQueue, writeAll } from './write-queue.js';

/** Why a recording stopped early: a code from the error registry and a sentence. */
export interface RecordingStop {
  code: string;
  reason: string;
}

export type StreamRecorderEvents = {
  /** Writing stopped before the stream ended; what was journaled before stays usable. */
  stopped: [stop: RecordingStop];
  /** Every kept rendition ended and its last segment is on disk and journaled (or writing had stopped). */
  ended: [stop: RecordingStop | undefined];
};

/** The free-space probe a recorder runs between segments; undefined when there is room. */
export type DiskCheck = () => Promise<RecordingStop | undefined>;

export interface StreamRecorderOptions {
  streamId: string;
  /** This stream's recording directory (created here). */
  dir: string;
  /** Kept renditions' timelines, highest first. */
  timelines: RenditionTimeline[];
  /** Bytes waiting for the disk before the recording stops. */
  maxQueuedBytes: number;
  /** Free-space check, run at most every diskCheckIntervalMs (on segment boundaries). */
  checkDisk?: DiskCheck;
  diskCheckIntervalMs?: number;
  logger: Logger;
  now?: () => number;
}

interface RenditionState {
  tl: RenditionTimeline;
  /** The segment file being appended to. */
  fh?: FileHandle;
  openMsn?: number;
  openBytes: number;
  /** Segments whose file could not be started at their first part (not journaled). */
  skipped: Set<number>;
  inits: Set<number>;
  ended: boolean;
  listeners: Array<() => void>;
}

/** Maps an fs error to the recording error code that describes it. */
export function recordingErrorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? 'SHOWCASE_ERR_RECORDING_DISK_FULL' : 'SHOWCASE_ERR_RECORDING_FAILED';
}

/**
 * Records one stream while it runs: each kept rendition's parts are appended to the current
 * segment's file as they are produced (one file per segment, an init file per run), and when a
 * segment completes its file is synced and a line is appended (and synced) to the journal. Nothing
 * is ever one growing MP4 whose index comes at the end, so a crash loses at most the open segment.
 */
export class StreamRecorder extends TypedEmitter<StreamRecorderEvents> {
  readonly streamId: string;
  readonly dir: string;
  readonly renditions: string[];
  /** Media seconds journaled for the top rendition. */
  mediaSeconds = 0;
  /** Segments journaled, all renditions. */
  segments = 0;
  /** Bytes this recorder wrote to disk (media, init files, journal). */
  bytesWritten = 0;
  /** Bytes of media kept (segments and init files). */
  mediaBytes = 0;
  stop?: RecordingStop;
  readonly #o: StreamRecorderOptions;
  readonly #log: Logger;
  readonly #q = new WriteQueue();
  readonly #r = new Map<string, RenditionState>();
  readonly #now: () => number;
  #journal?: JournalWriter;
  #lastDiskCheck = 0;
  #ended = false;
  #closed = false;
  #endedEmitted?: Promise<void>;

  constructor(o: StreamRecorderOptions) {
    super();
    this.#o = o;
    this.streamId = o.streamId;
    this.dir = o.dir;
    this.renditions = o.timelines.map((t) => t.name);
    this.#now = o.now ?? Date.now;
    this.#lastDiskCheck = this.#now();
    this.#log = o.logger.child({ streamId: o.streamId, component: 'recorder' });
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'recorder listener failed');
    this.#q.onError = (err) => this.#halt({ code: recordingErrorCode(err), reason: `cannot write the recording: ${(err as Error).message}` });
    this.#q.push(async () => {
      // Below the disk floor no recording starts: the live stream goes on without one.
      const low = await o.checkDisk?.();
      if (low) return this.#halt(low);
      for (const name of this.renditions) await mkdir(join(o.dir, name), { recursive: true });
      this.#journal = await JournalWriter.open(join(o.dir, JOURNAL_FILE));
      await this.#append({ t: 'start', v: 1, streamId: o.streamId, at: this.#now(), renditions: this.renditions });
    });
    for (const tl of o.timelines) this.#attach(tl);
  }

  /** Bytes waiting for the disk. */
  get queuedBytes(): number {
    return this.#q.queuedBytes;
  }

  /** Whether every kept rendition has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves when everything queued so far is on disk (or failed). */
  flushed(): Promise<void> {
    return this.#q.drain();
  }

  /** Once every rendition ended: resolves after the journal is closed and 'ended' was emitted (its listeners ran). */
  endedEmitted(): Promise<void> {
    return this.#endedEmitted ?? this.flushed();
  }

  /** Stops writing now (e.g. the disk floor was reached elsewhere); the journal keeps what came before. */
  halt(stop: RecordingStop): void {
    this.#halt(stop);
  }

  /**
   * Detaches from the timelines and closes files without marking the recording ended (server
   * shutdown while live): the next start finalizes it from the journal.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#detachAll();
    this.#q.push(async () => {
      for (const st of this.#r.values()) await this.#closeOpen(st, false);
      await this.#journal?.close();
    });
    await this.#q.drain();
  }

  #attach(tl: RenditionTimeline): void {
    const st: RenditionState = { tl, openBytes: 0, skipped: new Set(), inits: new Set(), ended: false, listeners: [] };
    this.#r.set(tl.name, st);
    // A timeline that already produced media (the recorder attached late): record what memory holds.
    for (const seg of tl.segments) {
      const init = tl.init(seg.runId);
      if (!st.inits.has(seg.runId) && init) this.#onInit(st, seg.runId, init, seg.discontinuity);
      for (const p of seg.parts) this.#onPart(st, p, seg);
      if (seg.complete) this.#onSegment(st, seg);
    }
    const onInit = (runId: number, init: Buffer, disc: boolean) => this.#onInit(st, runId, init, disc);
    const onPart = (part: Part, seg: Segment) => this.#onPart(st, part, seg);
    const onSegment = (seg: Segment) => this.#onSegment(st, seg);
    const onEnd = () => this.#onEnd(st);
    tl.on('init', onInit).on('part', onPart).on('segment', onSegment).on('end', onEnd);
    st.listeners.push(() => tl.off('init', onInit).off('part', onPart).off('segment', onSegment).off('end', onEnd));
    if (tl.ended) this.#onEnd(st);
  }

  #onInit(st: RenditionState, runId: number, init: Buffer, disc: boolean): void {
    if (this.stop || st.inits.has(runId)) return;
    st.inits.add(runId);
    this.#q.push(async () => {
      if (this.stop) return;
      const fh = await open(join(this.dir, st.tl.name, `init${runId}.mp4`), 'w', 0o644);
      try {
        await writeAll(fh, init);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      this.bytesWritten += init.length;
      this.mediaBytes += init.length;
      await this.#append({ t: 'init', r: st.tl.name, run: runId, disc, bytes: init.length });
    }, init.length);
  }

  #onPart(st: RenditionState, part: Part, seg: Segment): void {
    if (this.stop) return;
    if (this.#q.queuedBytes + part.data.length > this.#o.maxQueuedBytes) {
      this.#halt({ code: 'SHOWCASE_ERR_RECORDING_FAILED', reason: `the disk is too slow: more than ${this.#o.maxQueuedBytes} bytes waiting` });
      return;
    }
    const name = st.tl.name;
    this.#q.push(async () => {
      if (this.stop) return;
      if (part.index === 0) {
        await this.#closeOpen(st, false);
        st.fh = await open(join(this.dir, name, `s${seg.msn}.m4s`), 'w', 0o644);
        st.openMsn = seg.msn;
        st.openBytes = 0;
      }
      if (!st.fh || st.openMsn !== seg.msn) {
        // The segment began before we could record it: it stays out of the recording.
        st.skipped.add(seg.msn);
        return;
      }
      await writeAll(st.fh, part.data);
      st.openBytes += part.data.length;
      this.bytesWritten += part.data.length;
    }, part.data.length);
  }

  #onSegment(st: RenditionState, seg: Segment): void {
    if (this.stop) return;
    const entry: JournalEntry = { t: 'seg', r: st.tl.name, msn: seg.msn, run: seg.runId, dur: round6(seg.duration), disc: seg.discontinuity, pdt: seg.programDateTimeMs, bytes: seg.bytes };
    const top = st.tl.name === this.renditions[0];
    this.#q.push(async () => {
      if (this.stop) return;
      if (st.openMsn !== seg.msn || st.skipped.has(seg.msn) || st.openBytes !== seg.bytes) {
        await this.#closeOpen(st, false);
        st.skipped.delete(seg.msn);
        return;
      }
      await this.#closeOpen(st, true);
      this.mediaBytes += seg.bytes;
      await this.#append(entry);
      this.segments++;
      if (top) this.mediaSeconds += seg.duration;
    });
    const check = this.#o.checkDisk;
    if (check && this.#now() - this.#lastDiskCheck >= (this.#o.diskCheckIntervalMs ?? 5000)) {
      this.#lastDiskCheck = this.#now();
      this.#q.push(async () => {
        if (this.stop) return;
        const stop = await check();
        if (stop) this.#halt(stop);
      });
    }
  }

  #onEnd(st: RenditionState): void {
    if (st.ended) return;
    st.ended = true;
    if (![...this.#r.values()].every((s) => s.ended) || this.#ended) return;
    this.#ended = true;
    this.#detachAll();
    this.#q.push(async () => {
      for (const s of this.#r.values()) await this.#closeOpen(s, false);
      if (!this.stop) await this.#append({ t: 'end', at: this.#now() });
    });
    this.#endedEmitted = this.#q.drain().then(async () => {
      await this.#journal?.close().catch(() => {});
      this.#closed = true;
      this.safeEmit('ended', this.stop);
    });
  }

  /** Closes the open segment file; sync first when it is about to be journaled. */
  async #closeOpen(st: RenditionState, sync: boolean): Promise<void> {
    const fh = st.fh;
    st.fh = undefined;
    if (!fh) return;
    try {
      if (sync) await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async #append(entry: JournalEntry): Promise<void> {
    const j = this.#journal;
    if (!j) throw new Error('journal not open');
    const before = j.bytesWritten;
    await j.append(entry);
    this.bytesWritten += j.bytesWritten - before;
  }

  #halt(stop: RecordingStop): void {
    if (this.stop) return;
    this.stop = stop;
    this.#log.error({ code: stop.code, reason: stop.reason }, 'recording stopped; the live stream goes on');
    // Best effort: note it in the journal (it may fail on a full disk), release the open files.
    this.#q.push(async () => {
      for (const s of this.#r.values()) await this.#closeOpen(s, false).catch(() => {});
      await this.#journal?.append({ t: 'stop', code: stop.code, reason: stop.reason, at: this.#now() }).catch(() => {});
    });
    this.safeEmit('stopped', stop);
  }

  #detachAll(): void {
    for (const st of this.#r.values()) {
      for (const off of st.listeners) off();
      st.listeners = [];
    }
  }
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
