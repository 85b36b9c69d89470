import type { types } from 'mediasoup';
import type { Logger } from '../../core/logger.js';
import { TransportWatchdog, type TransportTimeouts } from '../../webrtc/transport-watchdog.js';

/** What a viewer session is built from (already created; the session owns and closes it). */
export interface WhepSessionParts {
  id: string;
  streamId: string;
  remoteAddress: string;
  transport: types.WebRtcTransport;
  consumers: types.Consumer[];
  logger: Logger;
  timeouts: TransportTimeouts;
  /** Gives the viewer's places on its edge router back. */
  release(): void;
  /** Asks the stream's publisher for a keyframe (the edge's PLI reaches it too; this is faster). */
  requestSourceKeyFrame?(): void;
  /** DTLS connected: media flows from now on (a viewer counts as watching from here). */
  onConnected?: (session: WhepSession) => void;
  onClosed: (session: WhepSession, reason: string) => void;
}

/**
 * One WHEP viewer: owns its WebRtcTransport (and so its consumers) on an edge router. Consumers
 * start paused and resume once DTLS connects, with a keyframe asked for at once. Closes on DELETE,
 * ICE/DTLS failure or consent loss (a vanished browser), the stream's source going away, its edge
 * router closing (worker death) and shutdown.
 */
export class WhepSession {
  readonly id: string;
  readonly streamId: string;
  readonly remoteAddress: string;
  readonly createdAt = Date.now();
  readonly transport: types.WebRtcTransport;
  readonly consumers: types.Consumer[];
  /** When DTLS connected and the consumers were resumed (ms since epoch). */
  connectedAt?: number;
  closeReason?: string;
  readonly #p: WhepSessionParts;
  readonly #log: Logger;
  readonly #watchdog: TransportWatchdog;

  constructor(p: WhepSessionParts) {
    this.#p = p;
    this.id = p.id;
    this.streamId = p.streamId;
    this.remoteAddress = p.remoteAddress;
    this.transport = p.transport;
    this.consumers = p.consumers;
    this.#log = p.logger.child({ whepSession: p.id, streamId: p.streamId });
    this.#watchdog = new TransportWatchdog(p.transport, p.timeouts, {
      label: 'WHEP viewer',
      logger: this.#log,
      onDead: (reason) => this.close(reason),
      onConnected: () => this.#onConnected(),
    });
    for (const c of p.consumers) {
      c.on('producerclose', () => this.close('the stream\'s source went away'));
    }
    // Deferred: a dying worker closes the edge router just before the pool says why.
    p.transport.observer.on('close', () => queueMicrotask(() => this.close('transport closed (edge router or worker gone)')));
  }

  /** Closed sessions are never reused. */
  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Closes the session once: its transport (and consumers) go, its edge places are given back. */
  close(reason: string): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.#watchdog.stop();
    if (!this.transport.closed) this.transport.close();
    this.#p.release();
    this.#log.info({ reason, aliveMs: Date.now() - this.createdAt, connected: this.connectedAt !== undefined }, 'WHEP session closed');
    this.#p.onClosed(this, reason);
  }

  #onConnected(): void {
    if (this.closed || this.connectedAt !== undefined) return;
    this.connectedAt = Date.now();
    for (const c of this.consumers) {
      if (c.closed) continue;
      c.resume()
        .then(() => (c.kind === 'video' ? c.requestKeyFrame() : undefined))
        .catch((err: unknown) => this.#log.debug({ err, kind: c.kind }, 'resuming a consumer failed'));
    }
    this.#p.requestSourceKeyFrame?.();
    this.#p.onConnected?.(this);
  }
}
