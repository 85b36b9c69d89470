/// <reference lib="dom" />
import Hls, { ErrorDetails, ErrorTypes, Events, type ErrorData } from 'hls.js';
import { sessionIdOf } from './heartbeat.js';
import { bufferedEndAt, catchUpRate, liveJoinPosition } from './live-join.js';

/** One rendition as the quality menu shows it. */
export interface Rendition {
  index: number;
  height: number;
  width: number;
  bitrate: number;
  name: string;
}

/** Live playback figures for the debug panel and the test hook. */
export interface PlayerStats {
  latency: number | null;
  /** Seconds from the ingest wall clock of the frame on screen (EXT-X-PROGRAM-DATE-TIME) to now. */
  wallLatency: number | null;
  targetLatency: number | null;
  buffer: number;
  level: number;
  autoLevel: boolean;
  bitrate: number | null;
  height: number | null;
  bandwidthEstimate: number | null;
  playbackRate: number;
  droppedFrames: number;
  /** How far the live start jumped to reach the target latency, seconds (0: no jump). */
  joinedS: number;
}

/** What the page learns from the player. */
export interface PlayerCallbacks {
  /** Renditions became known (or changed). */
  onLevels(levels: Rendition[]): void;
  /** The rendition being played changed (index into levels). */
  onLevelSwitched(level: number): void;
  /** An error was seen (recovered or not), for the test hook and the debug panel. */
  onError(summary: string): void;
  /** The player gave up: the message says so in words a shopper understands. */
  onFatal(message: string): void;
  /** Playback reached the end of an ENDLIST playlist. */
  onEnded(): void;
  /** The browser refused unmuted or muted autoplay: the page offers a tap to play. */
  onAutoplayBlocked(): void;
}

/** Bounded recovery: how often each kind of fatal error may be recovered before giving up. */
const LIMITS = { network: 6, media: 3, rebuild: 2, manifest: 60 };
// A live stream whose playlist stays unavailable this long is reported (with a retry button).
const MANIFEST_GIVE_UP_MS = 20000;
// Counters reset once playback has run this long without a fatal error.
const HEALTHY_AFTER_MS = 20000;
// Live: playback progress events (about 4 a second) after the first frame during which the page may
// still jump once to hls.js's live sync position (live-join.ts).
const JOIN_CHECKS = 12;

/** hls.js logger for ?debug=1: warnings and errors only, prefixed, on the console. */
function hlsConsoleLogger(): { trace(): void; debug(): void; log(): void; info(): void; warn(...a: unknown[]): void; error(...a: unknown[]): void } {
  const noop = (): void => {};
  return { trace: noop, debug: noop, log: noop, info: noop, warn: (...a) => console.warn('[hls.js]', ...a), error: (...a) => console.error('[hls.js]', ...a) };
}

/**
 * How the page plays a stream: hls.js where classic MSE exists; the browser's own HLS player where
 * it can play HLS and has no MSE (iPhone Safari: iOS 17.1+ has only ManagedMediaSource, and its own
 * player does LL-HLS); hls.js on ManagedMediaSource alone otherwise; 'none' when nothing can.
 */
export function playbackMode(video: HTMLVideoElement): 'hls.js' | 'native' | 'none' {
  const hasMse = typeof window.MediaSource !== 'undefined';
  if (hasMse && Hls.isSupported()) return 'hls.js';
  if (video.canPlayType('application/vnd.apple.mpegurl')) return 'native';
  if (Hls.isSupported()) return 'hls.js';
  return 'none';
}

/**
 * Plays one HLS URL into a video element in low-latency mode and recovers from network and media
 * errors with bounded retries (hls.js startLoad / recoverMediaError / a rebuilt instance), before
 * telling the page it cannot.
 */
export class WatchPlayer {
  readonly mode: 'hls.js' | 'native' | 'none';
  readonly #video: HTMLVideoElement;
  readonly #src: string;
  readonly #live: boolean;
  readonly #cb: PlayerCallbacks;
  readonly #shouldRetryManifest: () => boolean;
  #hls?: Hls;
  #counts = { network: 0, media: 0, rebuild: 0, manifest: 0 };
  #lastMediaRecovery = 0;
  #manifestFailingSince = 0;
  #nativeWired = false;
  #healthySince = 0;
  #timer?: number;
  /** Progress events left in which a live start may still jump to the sync position (JOIN_CHECKS per hls.js instance). */
  #joinChecks = 0;
  /** How far the last live start jumped, seconds (0: it did not). */
  #joinedS = 0;
  #destroyed = false;
  readonly #detach: Array<() => void> = [];
  readonly #debug: boolean;

  constructor(video: HTMLVideoElement, opts: { src: string; live: boolean; callbacks: PlayerCallbacks; shouldRetryManifest?: () => boolean; debug?: boolean }) {
    this.#debug = opts.debug ?? false;
    this.#video = video;
    this.#src = opts.src;
    this.#live = opts.live;
    this.#cb = opts.callbacks;
    this.#shouldRetryManifest = opts.shouldRetryManifest ?? (() => true);
    this.mode = playbackMode(video);
    this.#listen('ended', () => this.#cb.onEnded());
    this.#listen('timeupdate', () => {
      this.#noteProgress();
      this.#joinLive();
      this.#followLive();
    });
  }

  /** The hls.js instance, when that is the mode (debugging and tests). */
  get hls(): Hls | undefined {
    return this.#hls;
  }

  /** Starts loading and playing (muted autoplay). */
  start(): void {
    if (this.mode === 'hls.js') this.#createHls();
    else if (this.mode === 'native') this.#startNative();
    else this.#cb.onFatal('This browser cannot play live video. Try a recent Chrome, Firefox or Safari.');
  }

  /** Stops playback and releases the media element. */
  destroy(): void {
    this.#destroyed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#teardownHls();
    for (const off of this.#detach.splice(0)) off();
    if (this.mode === 'native') {
      this.#video.removeAttribute('src');
      this.#video.load();
    }
  }

  /** The viewer session id the origin put on the media playlist URLs (hls.js mode only). */
  sessionId(): string | undefined {
    return sessionIdOf(this.#hls?.levels[0]?.uri);
  }

  /** The renditions hls.js knows (native mode: none, Safari picks). */
  levels(): Rendition[] {
    return (this.#hls?.levels ?? []).map((l, index) => ({
      index,
      height: l.height,
      width: l.width,
      bitrate: l.bitrate,
      name: l.height ? `${l.height}p` : `${Math.round(l.bitrate / 1000)} kbps`,
    }));
  }

  /** Forces a rendition now (index), or -1 for automatic selection. */
  setLevel(index: number): void {
    if (!this.#hls) return;
    // currentLevel switches immediately (flushes what is buffered ahead), so the choice shows at once.
    this.#hls.currentLevel = index;
  }

  /** The program date time (ms) of the picture on screen, null before it is known (the replay chat follows it). */
  playingDateMs(): number | null {
    const d = this.#hls?.playingDate;
    if (d) return d.getTime();
    const v = this.#video as HTMLVideoElement & { getStartDate?: () => Date };
    const start = typeof v.getStartDate === 'function' ? v.getStartDate().getTime() : NaN;
    return Number.isFinite(start) ? start + v.currentTime * 1000 : null;
  }

  /** Figures for the debug panel and the test hook. */
  stats(): PlayerStats {
    const v = this.#video;
    const h = this.#hls;
    let buffer = 0;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) >= v.currentTime) buffer = v.buffered.end(i) - v.currentTime;
    }
    const level = h ? h.currentLevel : -1;
    const lv = h && level >= 0 ? h.levels[level] : undefined;
    const quality = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : undefined;
    return {
      latency: h && this.#live && h.latency > 0 ? h.latency : null,
      wallLatency: h && this.#live && h.playingDate ? (Date.now() - h.playingDate.getTime()) / 1000 : null,
      targetLatency: h && this.#live ? h.targetLatency : null,
      buffer,
      level,
      autoLevel: h ? h.autoLevelEnabled : true,
      bitrate: lv?.bitrate ?? null,
      height: lv?.height ?? (v.videoHeight || null),
      bandwidthEstimate: h && Number.isFinite(h.bandwidthEstimate) ? h.bandwidthEstimate : null,
      playbackRate: v.playbackRate,
      droppedFrames: quality?.droppedVideoFrames ?? 0,
      joinedS: this.#joinedS,
    };
  }

  #listen<K extends keyof HTMLMediaElementEventMap>(type: K, fn: (e: HTMLMediaElementEventMap[K]) => void): void {
    this.#video.addEventListener(type, fn);
    this.#detach.push(() => this.#video.removeEventListener(type, fn));
  }

  #play(): void {
    const v = this.#video;
    v.play()?.catch((err: DOMException) => {
      if (err?.name !== 'NotAllowedError' || this.#destroyed) return;
      // Unmuted autoplay is refused without a gesture: muted autoplay usually is not.
      if (!v.muted) {
        v.muted = true;
        v.play()?.catch(() => this.#cb.onAutoplayBlocked());
      } else this.#cb.onAutoplayBlocked();
    });
  }

  /** Live start: one jump from where hls.js's start-up left the first frame to its live sync position, when already buffered. */
  #joinLive(): void {
    const h = this.#hls;
    const v = this.#video;
    if (!h || this.#joinChecks <= 0 || v.paused || v.seeking) return;
    this.#joinChecks--;
    const to = liveJoinPosition({ latency: h.latency, targetLatency: h.targetLatency ?? NaN, syncPosition: h.liveSyncPosition ?? NaN, currentTime: v.currentTime, bufferedEnd: bufferedEndAt(v.buffered, v.currentTime) });
    if (to === null) return;
    this.#joinChecks = 0;
    this.#joinedS = to - v.currentTime;
    v.currentTime = to;
  }

  /** Live: the playback rate that brings the playhead back to the target latency (1 when there or too little is buffered). */
  #followLive(): void {
    const h = this.#hls;
    const v = this.#video;
    if (!h || !this.#live || v.paused || v.seeking) return;
    const details = h.levels[h.currentLevel]?.details;
    if (!details?.live) {
      if (v.playbackRate !== 1 && v.playbackRate !== 0) v.playbackRate = 1;
      return;
    }
    const rate = catchUpRate({ latency: h.latency, targetLatency: h.targetLatency ?? NaN, ahead: bufferedEndAt(v.buffered, v.currentTime) - v.currentTime, targetDuration: details.targetduration });
    if (v.playbackRate !== rate && v.playbackRate !== 0) v.playbackRate = rate;
  }

  #noteProgress(): void {
    const now = performance.now();
    if (this.#video.paused) return;
    if (!this.#healthySince) this.#healthySince = now;
    else if (now - this.#healthySince > HEALTHY_AFTER_MS) {
      this.#counts = { network: 0, media: 0, rebuild: 0, manifest: 0 };
      this.#healthySince = now;
    }
  }

  #later(ms: number, fn: () => void): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = window.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#destroyed) fn();
    }, ms);
  }

  #createHls(): void {
    const hls = new Hls({
      lowLatencyMode: this.#live,
      // Start at the live edge the playlist asks for (PART-HOLD-BACK). Catching up when behind is the
      // page's own (#followLive, live-join.ts): hls.js's stops with 1 s buffered, above a sub-second target.
      maxLiveSyncPlaybackRate: 1,
      backBufferLength: this.#live ? 10 : 30,
      // Live: do not keep buffering far ahead of what the origin can have.
      maxBufferLength: this.#live ? 8 : 30,
      startPosition: this.#live ? -1 : 0,
      enableWorker: true,
      // ?debug=1: hls.js's warnings and errors on the console (which playlist rule it trips on).
      debug: this.#debug ? hlsConsoleLogger() : false,
      // The page's own retry loop (below) handles a 404 while the transcoder starts.
      manifestLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10000,
          maxLoadTimeMs: 20000,
          timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 },
        },
      },
      // A stream that just went live has parts but no complete segment for ~2 s; hls.js calls that
      // an empty level. Ask again sooner and a little longer than its defaults (1 s, twice).
      playlistLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10000,
          maxLoadTimeMs: 20000,
          timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 6, retryDelayMs: 400, maxRetryDelayMs: 2000 },
        },
      },
    });
    this.#hls = hls;
    this.#joinChecks = this.#live ? JOIN_CHECKS : 0;
    this.#joinedS = 0;
    hls.on(Events.MANIFEST_PARSED, () => {
      this.#counts.manifest = 0;
      this.#manifestFailingSince = 0;
      this.#cb.onLevels(this.levels());
      this.#play();
    });
    hls.on(Events.LEVEL_SWITCHED, (_e, d) => this.#cb.onLevelSwitched(d.level));
    hls.on(Events.ERROR, (_e, d) => this.#onHlsError(hls, d));
    hls.attachMedia(this.#video);
    hls.loadSource(this.#src);
  }

  #teardownHls(): void {
    const h = this.#hls;
    this.#hls = undefined;
    if (h) h.destroy();
  }

  #rebuild(reason: string): void {
    if (this.#counts.rebuild++ >= LIMITS.rebuild) return this.#giveUp(reason);
    this.#teardownHls();
    this.#later(1000, () => this.#createHls());
  }

  #giveUp(reason: string): void {
    this.#teardownHls();
    this.#cb.onFatal(reason);
  }

  #onHlsError(hls: Hls, d: ErrorData): void {
    if (hls !== this.#hls) return;
    this.#cb.onError(`${d.type}/${d.details}${d.fatal ? '/fatal' : ''}${d.response?.code ? `/${d.response.code}` : ''}`);
    if (!d.fatal) return;
    this.#healthySince = 0;
    const backoff = (n: number): number => Math.min(8000, 500 * 2 ** n);
    if (d.details === ErrorDetails.MANIFEST_LOAD_ERROR || d.details === ErrorDetails.MANIFEST_LOAD_TIMEOUT) {
      // A stream that just went live has no playlist until its first parts exist: try again shortly.
      const now = performance.now();
      this.#manifestFailingSince ||= now;
      if (!this.#shouldRetryManifest() || this.#counts.manifest++ >= LIMITS.manifest || now - this.#manifestFailingSince > MANIFEST_GIVE_UP_MS) {
        this.#manifestFailingSince = 0;
        return this.#giveUp('The video for this stream is not available right now.');
      }
      this.#teardownHls();
      this.#later(Math.min(2000, 300 + 100 * this.#counts.manifest), () => this.#createHls());
      return;
    }
    switch (d.type) {
      case ErrorTypes.NETWORK_ERROR:
        if (this.#counts.network >= LIMITS.network) return this.#giveUp('We lost the connection to the stream.');
        this.#later(backoff(this.#counts.network++), () => hls.startLoad());
        return;
      case ErrorTypes.MEDIA_ERROR: {
        if (this.#counts.media++ >= LIMITS.media) return this.#rebuild('This video could not be decoded on this device.');
        const now = performance.now();
        // Twice in a row quickly: the audio codec guess may be wrong (hls.js's documented sequence).
        if (now - this.#lastMediaRecovery < 3000) hls.swapAudioCodec();
        this.#lastMediaRecovery = now;
        hls.recoverMediaError();
        return;
      }
      default:
        this.#rebuild('Playback failed.');
    }
  }

  #startNative(): void {
    const v = this.#video;
    if (!this.#nativeWired) {
      this.#nativeWired = true;
      this.#listen('loadedmetadata', () => this.#play());
      this.#listen('error', () => {
        this.#cb.onError(`native/${v.error?.code ?? 0}`);
        if (this.#counts.network >= LIMITS.network) return this.#cb.onFatal('We lost the connection to the stream.');
        this.#later(Math.min(8000, 500 * 2 ** this.#counts.network++), () => {
          v.src = this.#src;
          v.load();
        });
      });
    }
    v.src = this.#src;
  }
}
