import type { types } from 'mediasoup';
import type { Logger } from '../core/logger.js';

/** When a peer (a publishing phone or a watching browser) counts as gone. */
export interface TransportTimeouts {
  /** ICE + DTLS must complete within this after the answer. */
  connectTimeoutMs: number;
  /** After ICE reports disconnected (no consent checks), the peer is gone unless it comes back within this. */
  disconnectTimeoutMs: number;
}

/** What the watchdog tells its owner. */
export interface TransportWatchdogHooks {
  /** The peer is gone (never connected, DTLS failed, consent lost, ICE closed): close what it holds. */
  onDead(reason: string): void;
  /** DTLS connected: media can flow (called once per connection). */
  onConnected?(): void;
  logger: Logger;
  /** Who the peer is, in log lines ("WHIP publisher", "WHEP viewer"). */
  label: string;
}

/**
 * Watches one WebRtcTransport so a peer that vanishes without saying goodbye is noticed: a connect
 * deadline, DTLS failure, and ICE consent loss (mediasoup turns ICE 'disconnected' after its
 * iceConsentTimeout) followed by a grace for the peer to come back. One owned timer, unref'd.
 */
export class TransportWatchdog {
  readonly createdAt = Date.now();
  readonly #t: types.WebRtcTransport;
  readonly #timeouts: TransportTimeouts;
  readonly #h: TransportWatchdogHooks;
  #timer?: NodeJS.Timeout;
  #connectedOnce = false;
  #stopped = false;

  constructor(transport: types.WebRtcTransport, timeouts: TransportTimeouts, hooks: TransportWatchdogHooks) {
    this.#t = transport;
    this.#timeouts = timeouts;
    this.#h = hooks;
    this.#arm(timeouts.connectTimeoutMs, 'ICE/DTLS did not connect in time');
    transport.on('icestatechange', (state) => this.#onIce(state));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.#dead(`DTLS ${state}`);
      else if (state === 'connected') {
        this.#h.logger.info({ iceState: transport.iceState }, `${this.#h.label} connected`);
        this.#h.onConnected?.();
      }
    });
  }

  /** Whether ICE connected at least once. */
  get connectedOnce(): boolean {
    return this.#connectedOnce;
  }

  /** True while media can flow: DTLS not failed, ICE connected (or still within the connect window). */
  isAlive(): boolean {
    const t = this.#t;
    if (this.#stopped || t.closed || t.dtlsState === 'failed' || t.dtlsState === 'closed') return false;
    if (t.iceState === 'connected' || t.iceState === 'completed') return true;
    if (!this.#connectedOnce) return Date.now() - this.createdAt < this.#timeouts.connectTimeoutMs;
    return false;
  }

  /** Stops watching (the owner is closing). Idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #dead(reason: string): void {
    if (this.#stopped) return;
    this.stop();
    this.#h.onDead(reason);
  }

  #onIce(state: types.IceState): void {
    if (state === 'connected' || state === 'completed') {
      this.#connectedOnce = true;
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (state === 'disconnected') {
      this.#h.logger.warn({ timeoutMs: this.#timeouts.disconnectTimeoutMs }, `${this.#h.label} ICE disconnected`);
      this.#arm(this.#timeouts.disconnectTimeoutMs, `the ${this.#h.label} went silent (ICE disconnected)`);
    } else if (state === 'closed') {
      this.#dead('ICE closed');
    }
  }

  #arm(ms: number, reason: string): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const s = this.#t.iceState;
      if (s !== 'connected' && s !== 'completed') this.#dead(reason);
    }, ms);
    this.#timer.unref();
  }
}
