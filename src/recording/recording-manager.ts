import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RecordingWriter } from './recording-writer.js';
import { finalizeRecording } from './finalize.js';
import type { HlsOrigin } from '../hls/hls-origin.js';
import type { HlsStream } from '../hls/hls-stream.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../core/logger.js';

/** The recording part of a stream record (StreamRecord.extra.recording). */
export interface RecordingInfo {
  state: 'recording' | 'processing' | 'ready' | 'failed' | 'stopped' | 'deleted';
  reason?: string;
  durationSeconds?: number;
  sizeBytes?: number;
  renditions?: string[];
  updatedAt: number;
}

export interface RecordingManagerOptions {
  dataDir: string;
  store: Store;
  origin: HlsOrigin;
  logger: Logger;
  ffmpegPath: string;
  minFreeBytes: number;
  retentionDays: number;
  linkTtlSeconds: number;
  /** Rendition names, top first (the MP4 comes from the first one recorded). */
  ladder: string[];
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Records every live stream (RecordingWriter per stream), finalizes it when the stream ends or after
 * a crash, signs download links, serves the VOD replay files and sweeps old recordings.
 */
export class RecordingManager {
  readonly root: string;
  failures = 0;
  readonly #o: RecordingManagerOptions;
  readonly #writers = new Map<string, RecordingWriter>();
  readonly #secret: Buffer;
  #queue: Promise<void> = Promise.resolve();
  readonly #finishing = new Set<Promise<void>>();
  #sweepTimer?: NodeJS.Timeout;
  #closed = false;

  constructor(o: RecordingManagerOptions) {
    this.#o = o;
    this.root = join(o.dataDir, 'recordings');
    this.#secret = RecordingManager.#loadSecret(o.dataDir);
    o.origin.on('stream', (hls) => this.#start(hls));
    this.#sweepTimer = setInterval(() => this.sweep(Date.now()), 3600_000);
    this.#sweepTimer.unref();
  }

  static #loadSecret(dataDir: string): Buffer {
    const file = join(dataDir, 'recording-secret');
    if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    const secret = randomBytes(32);
    writeFileSync(file, secret.toString('base64url') + '\n', { mode: 0o600 });
    return secret;
  }

  /** The directory of a stream's recording. */
  dir(streamId: string): string {
    return join(this.root, streamId);
  }

  #set(streamId: string, info: Omit<RecordingInfo, 'updatedAt'>): void {
    if (!this.#o.store.getStream(streamId)) return;
    this.#o.store.updateStream(streamId, { extra: { recording: { ...info, updatedAt: Date.now() } } });
  }

  /** A stream's recording state, if it has one. */
  info(streamId: string): RecordingInfo | undefined {
    return this.#o.store.getStream(streamId)?.extra.recording as RecordingInfo | undefined;
  }

  #start(hls: HlsStream): void {
    if (this.#closed || this.#writers.has(hls.streamId)) return;
    const id = hls.streamId;
    try {
      const writer = new RecordingWriter({
        streamId: id,
        dir: this.dir(id),
        hls,
        logger: this.#o.logger,
        minFreeBytes: this.#o.minFreeBytes,
        onStopped: (reason) => {
          this.failures++;
          this.#set(id, { state: 'stopped', reason });
        },
      });
      this.#writers.set(id, writer);
      this.#set(id, { state: 'recording' });
      const top = [...hls.timelines.values()][0]!;
      top.once('end', () => {
        const p = this.#finish(id).finally(() => this.#finishing.delete(p));
        this.#finishing.add(p);
      });
    } catch (err) {
      this.failures++;
      const reason = `cannot record: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.#o.logger.error({ streamId: id, code: 'SHOWCASE_ERR_RECORDING_FAILED', reason }, 'recording could not start; the live stream goes on');
      this.#set(id, { state: 'failed', reason });
    }
  }

  async #finish(id: string): Promise<void> {
    const w = this.#writers.get(id);
    this.#writers.delete(id);
    if (w) await w.close();
    if (w?.stopped) {
      // Stopped early (disk floor or write error): finalize what was kept, if anything.
      this.finalize(id);
      return;
    }
    this.finalize(id);
  }

  /** Queues a finalize (one at a time: remuxing is I/O bound and must not starve live streams). */
  finalize(id: string): Promise<void> {
    const stoppedReason = this.info(id)?.state === 'stopped' ? this.info(id)?.reason : undefined;
    this.#set(id, { state: 'processing', ...(stoppedReason ? { reason: stoppedReason } : {}) });
    const job = this.#queue.then(async () => {
      const t0 = Date.now();
      try {
        const r = await finalizeRecording(this.dir(id), this.#o.ladder, this.#o.ffmpegPath);
        this.#set(id, { state: 'ready', durationSeconds: r.durationSeconds, sizeBytes: r.sizeBytes, renditions: r.renditions, ...(stoppedReason ? { reason: `partial: ${stoppedReason}` } : {}) });
        this.#o.logger.info({ streamId: id, ms: Date.now() - t0, durationSeconds: r.durationSeconds, sizeBytes: r.sizeBytes }, 'recording ready');
      } catch (err) {
        this.failures++;
        this.#set(id, { state: 'failed', reason: (err as Error).message.slice(0, 300) });
        this.#o.logger.error({ streamId: id, code: 'SHOWCASE_ERR_RECORDING_FAILED', err }, 'recording finalize failed');
      }
    });
    this.#queue = job;
    return job;
  }

  /** After a crash: finalize recordings left 'recording' or 'processing' (and interrupted streams). */
  recover(interruptedIds: string[]): void {
    const ids = new Set(interruptedIds.filter((id) => existsSync(this.dir(id))));
    for (const id of this.#listRoot()) {
      {
        const st = this.info(id)?.state;
        if (st === 'recording' || st === 'processing') ids.add(id);
      }
    }
    for (const id of ids) {
      this.#o.logger.warn({ streamId: id }, 'finalizing a recording left by a previous process');
      void this.finalize(id);
    }
  }

  /** Recording directories present (none when the root is missing or unusable: recording then fails per stream, loudly). */
  #listRoot(): string[] {
    try {
      return existsSync(this.root) ? readdirSync(this.root) : [];
    } catch (err) {
      this.#o.logger.error({ code: 'SHOWCASE_ERR_RECORDING_FAILED', err }, 'recordings directory is unusable');
      return [];
    }
  }

  /** A signed, expiring download path for a stream's MP4. */
  signedPath(id: string, nowMs = Date.now()): { path: string; expiresAt: number } {
    const exp = Math.floor(nowMs / 1000) + this.#o.linkTtlSeconds;
    return { path: `/recordings/${id}/download?exp=${exp}&sig=${this.#sign(id, exp)}`, expiresAt: exp * 1000 };
  }

  #sign(id: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${id}.${exp}`).digest('base64url');
  }

  /** Whether a download signature is genuine and unexpired (constant-time comparison). */
  verify(id: string, exp: string, sig: string, nowMs = Date.now()): boolean {
    if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return false;
    if (Number(exp) * 1000 < nowMs) return false;
    const want = Buffer.from(this.#sign(id, Number(exp)));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** The finished MP4 of a stream, if ready. */
  mp4(id: string): string | undefined {
    if (!ID.test(id) || this.info(id)?.state !== 'ready') return undefined;
    const f = join(this.dir(id), 'recording.mp4');
    return existsSync(f) ? f : undefined;
  }

  /** A replay file (VOD playlists, init segments, segments) by strict name, if the recording is ready. */
  vodFile(id: string, rendition: string | undefined, file: string): string | undefined {
    if (!ID.test(id) || this.info(id)?.state !== 'ready') return undefined;
    if (rendition === undefined) return file === 'master.m3u8' ? join(this.dir(id), 'master.m3u8') : undefined;
    if (!/^[a-z0-9_-]{1,16}$/.test(rendition) || !/^(index\.m3u8|init\d{1,9}\.mp4|s\d{1,12}\.m4s)$/.test(file)) return undefined;
    const f = join(this.dir(id), rendition, file);
    return existsSync(f) ? f : undefined;
  }

  /** Deletes recordings of streams that ended more than retentionDays ago; returns their ids. */
  sweep(nowMs: number): string[] {
    const deleted: string[] = [];
    const cutoff = nowMs - this.#o.retentionDays * 86400_000;
    for (const id of this.#listRoot()) {
      const rec = this.#o.store.getStream(id);
      const endedAt = rec?.endedAt ?? null;
      if (this.#writers.has(id)) continue;
      if (rec && (endedAt === null || endedAt > cutoff)) continue;
      rmSync(this.dir(id), { recursive: true, force: true });
      if (rec) this.#set(id, { state: 'deleted', reason: `retention: older than ${this.#o.retentionDays} days` });
      deleted.push(id);
    }
    if (deleted.length) this.#o.logger.info({ deleted }, 'retention sweep deleted recordings');
    return deleted;
  }

  /** Stops timers, flushes writers and waits for a running finalize. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    await Promise.all([...this.#writers.values()].map((w) => w.close()));
    // Streams that ended during shutdown are finalized now (the store is still open).
    await Promise.all([...this.#finishing]);
    await this.#queue;
  }
}
