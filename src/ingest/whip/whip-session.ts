import type { types } from 'mediasoup';
import type { LiveStream, PublisherHandle, PublisherMedia } from '../../core/live-stream.js';
import type { Logger } from '../../core/logger.js';
import type { RtpBridge } from '../../webrtc/rtp-bridge.js';
import { TransportWatchdog, type TransportTimeouts } from '../../webrtc/transport-watchdog.js';

/** Timeouts that decide when a phone is gone. */
export interface WhipSessionTimeouts extends TransportTimeouts {
  /** Reconnect grace the stream gets when the session dies (not on a clean WHIP DELETE). */
  reconnectGraceMs: number;
}

/** What a session is built from (everything already created; the session owns and closes it). */
export interface WhipSessionParts {
  id: string;
  /** Hash of the stream key that opened the session (DELETE must present the same key). */
  keyHash: string;
  remoteAddress: string;
  router: types.Router;
  transport: types.WebRtcTransport;
  producers: types.Producer[];
  bridge: RtpBridge;
  /** Who publishes, in log lines ("WHIP publisher", "signaling publisher"). */
  label?: string;
  logger: Logger;
  timeouts: WhipSessionTimeouts;
  onClosed: (session: WhipSession, reason: string) => void;
}

/**
 * One WHIP publisher: owns its router (and so its WebRtcTransport, producers and the RTP bridge's
 * transports). Closes on WHIP DELETE, stream end, takeover, ICE/DTLS failure, a phone that went
 * silent, or its worker dying; the stream is told through the registry's publisher handle.
 */
export class WhipSession {
  readonly id: string;
  readonly keyHash: string;
  readonly createdAt = Date.now();
  readonly router: types.Router;
  readonly transport: types.WebRtcTransport;
  readonly producers: types.Producer[];
  readonly bridge: RtpBridge;
  readonly handle: PublisherHandle;
  stream?: LiveStream;
  closeReason?: string;
  readonly #p: WhipSessionParts;
  readonly #log: Logger;
  readonly #watchdog: TransportWatchdog;

  constructor(p: WhipSessionParts) {
    this.#p = p;
    this.id = p.id;
    this.keyHash = p.keyHash;
    this.router = p.router;
    this.transport = p.transport;
    this.producers = p.producers;
    this.bridge = p.bridge;
    this.#log = p.logger.child({ whipSession: p.id });
    // What the stream's readers get: the producers themselves (WebRTC playback, the ingest meter) and
    // the bridge's plain RTP with its SDP (ffmpeg). Only bridged tracks are declared: the ones ffmpeg reads.
    const media: PublisherMedia = {
      form: 'rtp',
      tracks: p.bridge.tracks.map((t) => ({ kind: t.kind, codec: codecName(t.consumer.rtpParameters.codecs[0]?.mimeType) })),
      rtp: p.bridge.rtpMedia({ router: p.router, producers: p.producers }),
    };
    this.handle = {
      id: `whip-${p.id}`,
      protocol: 'webrtc',
      remoteAddress: p.remoteAddress,
      media,
      isAlive: () => this.isAlive(),
      // The registry (takeover) or the stream (end) already detached us: only release resources.
      close: (reason) => this.close(reason, { detach: false }),
    };
    this.#watchdog = new TransportWatchdog(p.transport, p.timeouts, {
      label: p.label ?? 'WHIP publisher',
      logger: this.#log,
      onDead: (reason) => this.close(reason, { graceful: false }),
    });
    // Deferred: a dying worker closes its routers just before the pool reports why ('routerlost').
    p.router.observer.on('close', () => queueMicrotask(() => this.close('router closed', { graceful: false })));
  }

  /** Closed sessions are never reused. */
  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** True while media can flow: transport open, DTLS not failed, ICE connected (or still within the connect window). */
  isAlive(): boolean {
    return !this.closed && this.#watchdog.isAlive();
  }

  /**
   * Closes the session once. detach (default) tells the stream first: graceful (a WHIP DELETE) ends
   * it, otherwise it waits the reconnect grace for the phone to come back.
   */
  close(reason: string, o: { detach?: boolean; graceful?: boolean } = {}): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.#watchdog.stop();
    const stream = this.stream;
    if (stream && o.detach !== false && stream.publisher === this.handle) {
      const graceful = o.graceful ?? true;
      stream.detachPublisher(this.handle, reason, graceful, graceful ? 0 : this.#p.timeouts.reconnectGraceMs);
    }
    this.bridge.close();
    if (!this.router.closed) this.router.close();
    this.#log.info({ reason, streamId: stream?.id, aliveMs: Date.now() - this.createdAt }, 'WHIP session closed');
    this.#p.onClosed(this, reason);
  }
}

/** 'video/H264' -> 'h264'. */
function codecName(mimeType: string | undefined): string {
  return (mimeType?.split('/')[1] ?? 'unknown').toLowerCase();
}
