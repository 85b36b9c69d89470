import { mkdirSync, statfsSync } from 'node:fs';
import { open, appendFile, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { HlsStream } from '../hls/hls-stream.js';
import type { RenditionTimeline } from '../hls/rendition-timeline.js';
import type { Logger } from '../core/logger.js';

/** One line of a rendition's journal: a segment that is completely on disk. */
export interface JournalEntry {
  msn: number;
  file: string;
  duration: number;
  runId: number;
  init: string;
  discontinuity: boolean;
  programDateTimeMs: number;
  bytes: number;
}

export interface RecordingWriterOptions {
  streamId: string;
  dir: string;
  hls: HlsStream;
  logger: Logger;
  /** Stop recording (the live stream goes on) when free space under dir falls below this. */
  minFreeBytes: number;
  /** Called once if recording stops early (disk floor, write error). */
  onStopped: (reason: string, code: string) => void;
}

/**
 * Writes every rendition of a live stream to disk as it is produced: each part appended to its
 * segment file, an init file per transcoder run, and an append-only journal line (fsync'd) per
 * complete segment. A crash loses at most the segment being written; nothing depends on a trailer.
 */
export class RecordingWriter {
  stopped = false;
  bytesWritten = 0;
  readonly #o: RecordingWriterOptions;
  readonly #queues = new Map<string, Promise<void>>();
  readonly #open = new Map<string, { msn: number; fh: FileHandle }>();
  readonly #unsubscribe: Array<() => void> = [];

  constructor(o: RecordingWriterOptions) {
    this.#o = o;
    mkdirSync(o.dir, { recursive: true });
    for (const tl of o.hls.timelines.values()) this.#subscribe(tl);
  }

  /** Waits until everything queued is on disk. */
  async flush(): Promise<void> {
    await Promise.all(this.#queues.values());
  }

  /** Stops listening and closes open files (the stream ended or the server stops). */
  async close(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe.length = 0;
    await this.flush();
    for (const [, f] of this.#open) await f.fh.close().catch(() => {});
    this.#open.clear();
  }

  #subscribe(tl: RenditionTimeline): void {
    const rdir = join(this.#o.dir, tl.name);
    mkdirSync(rdir, { recursive: true });
    const journal = join(rdir, 'journal.jsonl');
    let currentInit = '';
    let currentRun = 0;
    let pendingDiscontinuity = false;
    const onInit = (runId: number, init: Buffer, discontinuity: boolean) => {
      currentInit = `init${runId}.mp4`;
      currentRun = runId;
      pendingDiscontinuity = pendingDiscontinuity || discontinuity;
      const name = currentInit;
      this.#enqueue(tl.name, () => writeFile(join(rdir, name), init).then(() => void (this.bytesWritten += init.length)));
    };
    const onPart = (part: { msn: number; index: number; data: Buffer }) => {
      if (this.stopped) return;
      const data = part.data;
      const msn = part.msn;
      this.#enqueue(tl.name, async () => {
        let f = this.#open.get(tl.name);
        if (!f || f.msn !== msn) {
          if (f) await f.fh.close();
          f = { msn, fh: await open(join(rdir, `s${msn}.m4s`), 'a') };
          this.#open.set(tl.name, f);
        }
        await f.fh.write(data);
        this.bytesWritten += data.length;
      });
    };
    const onSegment = (seg: { msn: number; duration: number; runId: number; programDateTimeMs: number; bytes: number; discontinuity: boolean }) => {
      if (this.stopped) return;
      const entry: JournalEntry = {
        msn: seg.msn, file: `s${seg.msn}.m4s`, duration: seg.duration, runId: seg.runId || currentRun, init: `init${seg.runId || currentRun}.mp4`,
        discontinuity: seg.discontinuity || pendingDiscontinuity, programDateTimeMs: seg.programDateTimeMs, bytes: seg.bytes,
      };
      pendingDiscontinuity = false;
      this.#enqueue(tl.name, async () => {
        const f = this.#open.get(tl.name);
        if (f && f.msn === seg.msn) {
          await f.fh.sync();
          await f.fh.close();
          this.#open.delete(tl.name);
        }
        const line = `${JSON.stringify(entry)}\n`;
        await appendFile(journal, line);
        const jh = await open(journal, 'r+');
        await jh.sync().finally(() => jh.close());
        this.bytesWritten += line.length;
        this.#checkDisk();
      });
    };
    tl.on('init', onInit);
    tl.on('part', onPart);
    tl.on('segment', onSegment);
    this.#unsubscribe.push(() => {
      tl.off('init', onInit);
      tl.off('part', onPart);
      tl.off('segment', onSegment);
    });
    void currentInit;
  }

  /** Runs disk work for a rendition in order; an I/O error stops the recording, never the stream. */
  #enqueue(rendition: string, job: () => Promise<void>): void {
    const prev = this.#queues.get(rendition) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (this.stopped) return;
      try {
        await job();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        this.#stop(`write failed: ${e.code ?? e.message}`, e.code === 'ENOSPC' ? 'SHOWCASE_ERR_RECORDING_DISK_FULL' : 'SHOWCASE_ERR_RECORDING_FAILED');
      }
    });
    this.#queues.set(rendition, next);
  }

  #checkDisk(): void {
    try {
      const st = statfsSync(this.#o.dir);
      const free = Number(st.bavail) * Number(st.bsize);
      if (free < this.#o.minFreeBytes) this.#stop(`free disk space ${free} bytes is below the floor of ${this.#o.minFreeBytes}`, 'SHOWCASE_ERR_RECORDING_DISK_FULL');
    } catch {
      /* statfs unsupported: rely on write errors */
    }
  }

  #stop(reason: string, code: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.#o.logger.error({ streamId: this.#o.streamId, code, reason }, 'recording stopped; the live stream goes on');
    this.#o.onStopped(reason, code);
  }
}
