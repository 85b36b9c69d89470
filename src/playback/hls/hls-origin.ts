import { HlsStream, type HlsStreamOptions } from './hls-stream.js';
import { BlockingBudget } from './blocking-waiter.js';
import type { PlaylistTiming } from './playlist-writer.js';
import { TypedEmitter } from '../../core/typed-emitter.js';
import type { HlsContinuation } from './hls-continuation.js';
import type { DateRangeSource } from './date-range.js';

export type HlsOriginEvents = {
  /** A stream's origin was created (its first transcoder run): subscribe to its timelines here. */
  stream: [stream: HlsStream];
  /** A stream's origin was dropped from memory. */
  dropped: [streamId: string];
};

/**
 * Every stream's in-memory LL-HLS origin. Ended streams stay (playlists with ENDLIST) for a
 * retention period, then are dropped; the memory held is bounded by streams x window.
 */
export class HlsOrigin extends TypedEmitter<HlsOriginEvents> {
  readonly budget: BlockingBudget;
  readonly #streams = new Map<string, HlsStream>();
  readonly #dropTimers = new Map<string, NodeJS.Timeout>();
  readonly #timing: PlaylistTiming;
  readonly #windowSegments: number;
  readonly #retainExtraSegments: number;
  readonly #endedRetainMs: number;
  /** Streams a previous process left interrupted: where their origin continues once created. */
  readonly #continuations = new Map<string, HlsContinuation>();
  /** Each stream's date ranges (commerce's highlight cue lists), rendered into its media playlists. */
  dateRanges?: DateRangeSource;

  constructor(opts: { timing: PlaylistTiming; windowSegments: number; retainExtraSegments: number; maxBlockingRequests: number; endedRetainSeconds: number }) {
    super();
    this.budget = new BlockingBudget(opts.maxBlockingRequests);
    this.#timing = opts.timing;
    this.#windowSegments = opts.windowSegments;
    this.#retainExtraSegments = opts.retainExtraSegments;
    this.#endedRetainMs = opts.endedRetainSeconds * 1000;
  }

  /**
   * The stream's origin, creating it with these renditions on first use. timing: the stream's own
   * part grid (parts a whole number of its frames) instead of the configured targets.
   */
  getOrCreate(streamId: string, renditions: HlsStreamOptions['renditions'], timing?: PlaylistTiming): HlsStream {
    let s = this.#streams.get(streamId);
    // An ended origin kept for its retention while the stream goes live here again (in a cluster:
    // it moved to another node and came back): the new run gets a fresh origin.
    if (s?.ended) {
      this.drop(streamId);
      s = undefined;
    }
    if (!s) {
      const continueFrom = this.#continuations.get(streamId);
      this.#continuations.delete(streamId);
      s = new HlsStream({ streamId, renditions, timing: timing ?? this.#timing, windowSegments: this.#windowSegments, retainExtraSegments: this.#retainExtraSegments, budget: this.budget, continueFrom, dateRanges: () => this.dateRanges?.(streamId) ?? [] });
      this.#streams.set(streamId, s);
      this.safeEmit('stream', s);
    }
    return s;
  }

  /**
   * A stream interrupted by the previous process: its origin, when the transcoder creates it,
   * continues from there (one entry per restored stream; dropped when the stream ends).
   */
  continueFrom(streamId: string, c: HlsContinuation): void {
    const s = this.#streams.get(streamId);
    if (!s || s.ended) this.#continuations.set(streamId, c);
  }

  /**
   * The server is stopping while a stream is live: its segments complete without ENDLIST; returns
   * where the next process continues (what was set by continueFrom when no media came since).
   */
  interrupt(streamId: string): HlsContinuation | undefined {
    return this.#streams.get(streamId)?.interrupt() ?? this.#continuations.get(streamId);
  }

  /** The stream's origin if it exists. */
  get(streamId: string): HlsStream | undefined {
    return this.#streams.get(streamId);
  }

  /**
   * The stream's origin, waiting up to timeoutMs for it to be created (a publisher has connected
   * but the transcoder's first output is not there yet); undefined on timeout.
   */
  waitFor(streamId: string, timeoutMs: number): Promise<HlsStream | undefined> {
    const existing = this.#streams.get(streamId);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const onStream = (s: HlsStream) => {
        if (s.streamId !== streamId) return;
        clearTimeout(timer);
        this.off('stream', onStream);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.off('stream', onStream);
        resolve(undefined);
      }, timeoutMs);
      timer.unref();
      this.on('stream', onStream);
    });
  }

  /** All streams held. */
  all(): HlsStream[] {
    return [...this.#streams.values()];
  }

  /** Ends a stream's playlists and schedules dropping it from memory. */
  end(streamId: string): void {
    this.#continuations.delete(streamId);
    const s = this.#streams.get(streamId);
    if (!s) return;
    s.end();
    if (this.#dropTimers.has(streamId)) return;
    const t = setTimeout(() => this.drop(streamId), this.#endedRetainMs);
    t.unref();
    this.#dropTimers.set(streamId, t);
  }

  /** Forgets a stream now, releasing any held requests. */
  drop(streamId: string): void {
    const t = this.#dropTimers.get(streamId);
    if (t) clearTimeout(t);
    this.#dropTimers.delete(streamId);
    const s = this.#streams.get(streamId);
    if (!s) return;
    s.close();
    this.#streams.delete(streamId);
    this.safeEmit('dropped', streamId);
  }

  /** Drops everything (server shutdown). */
  close(): void {
    this.#continuations.clear();
    for (const id of [...this.#streams.keys()]) this.drop(id);
  }
}
