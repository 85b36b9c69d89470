import type { types } from 'mediasoup';
import type { LiveStream, PublisherHandle, RtpInput } from '../core/live-stream.js';
import type { Logger } from '../core/logger.js';
import type { RtpBridge } from './rtp-bridge.js';

/** Timeouts that decide when a phone is gone. */
export interface WhipSessionTimeouts {
  /** ICE + DTLS must complete within this after the answer. */
  connectTimeoutMs: number;
  /** After ICE reports disconnected (no consent checks), the session closes if it does not come back within this. */
  disconnectTimeoutMs: number;
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
  readonly rtpInput: RtpInput;
  stream?: LiveStream;
  closeReason?: string;
  readonly #p: WhipSessionParts;
  readonly #log: Logger;
  #timer?: NodeJS.Timeout;
  #connectedOnce = false;

  constructor(p: WhipSessionParts) {
    this.#p = p;
    this.id = p.id;
    this.keyHash = p.keyHash;
    this.router = p.router;
    this.transport = p.transport;
    this.producers = p.producers;
    this.bridge = p.bridge;
    this.rtpInput = p.bridge.rtpInput();
    this.#log = p.logger.child({ whipSession: p.id });
    this.handle = {
      id: `whip-${p.id}`,
      protocol: 'webrtc',
      remoteAddress: p.remoteAddress,
      isAlive: () => this.isAlive(),
      // The registry (takeover) or the stream (end) already detached us: only release resources.
      close: (reason) => this.close(reason, { detach: false }),
    };
    this.#arm(p.timeouts.connectTimeoutMs, 'ICE/DTLS did not connect in time');
    p.transport.on('icestatechange', (state) => this.#onIce(state));
    p.transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.close(`DTLS ${state}`, { graceful: false });
      else if (state === 'connected') this.#log.info({ iceState: p.transport.iceState }, 'WHIP publisher connected');
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
    const t = this.transport;
    if (this.closed || t.closed || t.dtlsState === 'failed' || t.dtlsState === 'closed') return false;
    if (t.iceState === 'connected' || t.iceState === 'completed') return true;
    if (!this.#connectedOnce) return Date.now() - this.createdAt < this.#p.timeouts.connectTimeoutMs;
    return false;
  }

  /**
   * Closes the session once. detach (default) tells the stream first: graceful (a WHIP DELETE) ends
   * it, otherwise it waits the reconnect grace for the phone to come back.
   */
  close(reason: string, o: { detach?: boolean; graceful?: boolean } = {}): void {
    if (this.closed) return;
    this.closeReason = reason;
    if (this.#timer) clearTimeout(this.#timer);
    const stream = this.stream;
    if (stream && o.detach !== false && stream.publisher === this.handle) {
      const graceful = o.graceful ?? true;
      stream.detachPublisher(this.handle, reason, graceful, graceful ? 0 : this.#p.timeouts.reconnectGraceMs);
    }
    if (stream && stream.rtpInput === this.rtpInput && stream.publisher !== this.handle) stream.rtpInput = undefined;
    this.bridge.close();
    if (!this.router.closed) this.router.close();
    this.#log.info({ reason, streamId: stream?.id, aliveMs: Date.now() - this.createdAt }, 'WHIP session closed');
    this.#p.onClosed(this, reason);
  }

  #onIce(state: types.IceState): void {
    if (state === 'connected' || state === 'completed') {
      this.#connectedOnce = true;
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (state === 'disconnected') {
      this.#log.warn({ timeoutMs: this.#p.timeouts.disconnectTimeoutMs }, 'WHIP publisher ICE disconnected');
      this.#arm(this.#p.timeouts.disconnectTimeoutMs, 'the phone went silent (ICE disconnected)');
    } else if (state === 'closed') {
      this.close('ICE closed', { graceful: false });
    }
  }

  #arm(ms: number, reason: string): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const s = this.transport.iceState;
      if (s !== 'connected' && s !== 'completed') this.close(reason, { graceful: false });
    }, ms);
    this.#timer.unref();
  }
}
