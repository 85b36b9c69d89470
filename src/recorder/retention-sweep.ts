import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DAY_MS = 24 * 3600 * 1000;

export interface RetentionSweepOptions {
  /** The recordings directory. */
  root: string;
  /** Recordings of streams that ended longer ago than this are deleted; 0 disables the sweep. */
  retentionDays: number;
  store: Pick<Store, 'getStream' | 'getRecording' | 'putRecording'>;
  /** A recording being written or finalized right now is never touched. */
  isActive: (streamId: string) => boolean;
  /** Told of each recording marked expired (the recording service drops what it caches of it). */
  onExpired?: (streamId: string) => void;
  now?: () => number;
  logger: Logger;
}

/**
 * Deletes what retention says should go: the recording of a stream that ended more than
 * retentionDays ago (its record then says `expired`), and the recording of a stream whose record
 * was deleted. Live, idle and recently ended streams, active recordings and entries that are not
 * recording directories are left alone. Returns the stream ids whose recordings were deleted.
 */
export async function sweepRecordings(o: RetentionSweepOptions): Promise<string[]> {
  if (o.retentionDays <= 0) return [];
  const now = (o.now ?? Date.now)();
  const cutoff = now - o.retentionDays * DAY_MS;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(o.root, { withFileTypes: true });
  } catch {
    return [];
  }
  const deleted: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !ID.test(e.name) || o.isActive(e.name)) continue;
    const rec = await o.store.getStream(e.name);
    const orphan = rec === undefined;
    if (!orphan && (rec.state !== 'ended' || rec.endedAt === null || rec.endedAt > cutoff)) continue;
    try {
      await rm(join(o.root, e.name), { recursive: true, force: true });
    } catch (err) {
      o.logger.error({ err, streamId: e.name, code: 'SHOWCASE_ERR_RECORDING_FAILED' }, 'retention sweep could not delete a recording');
      continue;
    }
    deleted.push(e.name);
    if (!orphan) {
      const prev = await o.store.getRecording(e.name);
      await o.store.putRecording(e.name, { ...(prev ?? {}), state: 'expired', expiredAt: now, updatedAt: now });
      o.onExpired?.(e.name);
    }
  }
  if (deleted.length) o.logger.info({ deleted, retentionDays: o.retentionDays }, 'retention sweep deleted recordings');
  return deleted;
}

/** Runs sweepRecordings now and then every intervalMs on an unref'd timer until stop(). */
export class RetentionSweeper {
  readonly #o: RetentionSweepOptions;
  #timer?: NodeJS.Timeout;
  #running?: Promise<string[]>;

  constructor(o: RetentionSweepOptions) {
    this.#o = o;
  }

  /** Starts the schedule (first sweep right away). */
  start(intervalMs: number): void {
    if (this.#timer) return;
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  /** One sweep; concurrent calls share the one in progress. */
  sweep(): Promise<string[]> {
    this.#running ??= sweepRecordings(this.#o)
      .catch((err) => {
        this.#o.logger.error({ err }, 'retention sweep failed');
        return [];
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Stops the schedule and waits for a sweep in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
