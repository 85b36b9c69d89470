import type { TypedEmitter } from '../../core/typed-emitter.js';
import type { ViewMode } from '../../metrics/viewer-types.js';
import type { WhepPlaybackEvents } from './whep-playback.js';

/** What the accounting needs of the viewer session table (ViewerSessionTable provides it). */
export interface WebRtcViewerSessions {
  open(streamId: string, mode: ViewMode): string;
  close(sessionId: unknown, streamId?: string): boolean;
}

/**
 * WebRTC viewers as watching sessions: a WHEP session counts from DTLS connect to close, a viewer
 * over the WebSocket signaling from its placement's connect to its leave (WebRTC viewers make no
 * fetches that would keep a timed session active). Bounded by WhepPlayback's own viewer caps: one
 * entry per connected viewer, removed when it goes.
 */
export class WhepSessionAccounting {
  /** WHEP session id or signaling placement id -> viewer session id. */
  readonly #open = new Map<string, string>();
  readonly #sessions: WebRtcViewerSessions;
  readonly #isLive: (streamId: string) => boolean;

  constructor(playback: Pick<TypedEmitter<WhepPlaybackEvents>, 'on'>, sessions: WebRtcViewerSessions, isLive: (streamId: string) => boolean) {
    this.#sessions = sessions;
    this.#isLive = isLive;
    playback.on('sessionconnected', (s) => this.#opened(s.id, s.streamId));
    playback.on('sessionclosed', (s) => this.#closed(s.id, s.streamId));
    playback.on('viewerconnected', (placementId, streamId) => this.#opened(placementId, streamId));
    playback.on('viewerleft', (placementId, streamId) => this.#closed(placementId, streamId));
  }

  /** Viewers counted now. */
  get size(): number {
    return this.#open.size;
  }

  #opened(key: string, streamId: string): void {
    const sid = this.#sessions.open(streamId, this.#isLive(streamId) ? 'live' : 'replay');
    if (sid) this.#open.set(key, sid);
  }

  #closed(key: string, streamId: string): void {
    const sid = this.#open.get(key);
    this.#open.delete(key);
    if (sid) this.#sessions.close(sid, streamId);
  }
}
