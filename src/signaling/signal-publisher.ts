import type { types } from 'mediasoup';
import { ShowcaseError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SignalRequest } from './signal-messages.js';
import type { PublisherReservation, WhipIngest } from '../ingest/whip/whip-ingest.js';
import type { WhipSession } from '../ingest/whip/whip-session.js';

/** What one socket's publisher role needs. */
export interface SignalPublisherOptions {
  ingest: WhipIngest;
  reservation: PublisherReservation;
  streamKey: string;
  remoteAddress: string;
  /** Tracks to produce before the stream goes live. */
  kinds: Array<'audio' | 'video'>;
  /** Join to live must take at most this long (a client that stalls mid-negotiation holds a router). */
  negotiateTimeoutMs: number;
  logger: Logger;
  /** The role ended without the client asking (timeout, stream ended, worker lost): tell it why. */
  onEnded(code: ErrorCode, reason: string): void;
}

/** The transport fields a mediasoup-client Device needs to create its side. */
export function transportParams(t: types.WebRtcTransport): Record<string, unknown> {
  return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
}

/** Connects a role's one transport once (DTLS parameters from the client); a second connect is a state error. */
export async function connectOnce(t: types.WebRtcTransport, dtlsParameters: unknown, alreadyConnected: boolean): Promise<void> {
  if (alreadyConnected) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the transport is already connected');
  try {
    await t.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters });
  } catch (err) {
    throw refused('dtlsParameters', err);
  }
}

/** mediasoup's own validation (ortc) refusing client parameters: the client's fault, so a coded 400. */
export function refused(what: string, err: unknown): ShowcaseError {
  if (err instanceof ShowcaseError) return err;
  return new ShowcaseError('SHOWCASE_ERR_VALIDATION', `${what} refused: ${(err as Error).message}`);
}

/**
 * A publisher on the signaling socket: holds a WhipIngest reservation (a router), one send
 * transport and one producer per kind; once every expected kind is produced the producers go to
 * WhipIngest.attach (same RTP bridge, registry decision and ladder as WHIP) and a WhipSession owns
 * the router from then on. Closing the role closes whatever it holds.
 */
export class SignalPublisher {
  readonly role = 'publisher';
  readonly #o: SignalPublisherOptions;
  readonly #log: Logger;
  #transport?: types.WebRtcTransport;
  #connected = false;
  readonly #producers: types.Producer[] = [];
  #session?: WhipSession;
  #attaching = false;
  #timer?: NodeJS.Timeout;
  #closed = false;

  constructor(o: SignalPublisherOptions) {
    this.#o = o;
    this.#log = o.logger.child({ signalPublisher: o.reservation.id, streamId: o.reservation.streamId });
    this.#timer = setTimeout(() => this.#end('SHOWCASE_ERR_SIGNAL_TIMEOUT', `not live within ${o.negotiateTimeoutMs} ms of joining`), o.negotiateTimeoutMs);
    this.#timer.unref();
    // Deferred: a dying worker closes the router just before the pool says why.
    o.reservation.router.observer.once('close', () => queueMicrotask(() => {
      this.#end('SHOWCASE_ERR_STREAM_ENDED', this.#session?.closeReason ?? 'the media router closed');
    }));
  }

  get streamId(): string {
    return this.#o.reservation.streamId;
  }

  /** The tracks the stream goes live with. */
  get kinds(): string[] {
    return [...this.#o.kinds];
  }

  /** Whether the stream is live from this socket. */
  get live(): boolean {
    return this.#session !== undefined && !this.#session.closed;
  }

  /** Answers one request of this role (join, unpublish and leave are the peer's). */
  async handle(req: SignalRequest): Promise<Record<string, unknown>> {
    const router = this.#o.reservation.router;
    switch (req.type) {
      case 'getRouterRtpCapabilities':
        return { rtpCapabilities: router.rtpCapabilities };
      case 'createTransport': {
        if (this.#transport) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'this publisher already has its send transport');
        const t = await this.#o.reservation.createTransport();
        if (this.#closed) {
          t.close();
          throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the publisher closed');
        }
        this.#transport = t;
        return transportParams(t);
      }
      case 'connectTransport': {
        await connectOnce(this.#transportById(req.transportId), req.dtlsParameters, this.#connected);
        this.#connected = true;
        return {};
      }
      case 'produce':
        return this.#produce(req.transportId, req.kind, req.rtpParameters as types.RtpParameters);
      case 'consume':
      case 'resume':
        throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `${req.type} is for viewers; this socket joined as a publisher`);
      default:
        throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `${req.type} is not valid now`);
    }
  }

  async #produce(transportId: string, kind: 'audio' | 'video', rtpParameters: types.RtpParameters): Promise<Record<string, unknown>> {
    const t = this.#transportById(transportId);
    if (this.#session || this.#attaching) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the stream is already live: its tracks are fixed');
    if (!this.#o.kinds.includes(kind)) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `this publisher joined without ${kind}`, { kinds: this.#o.kinds });
    if (this.#producers.some((p) => p.kind === kind)) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `a ${kind} track is already produced`);
    let producer: types.Producer;
    try {
      producer = await t.produce({ kind, rtpParameters });
    } catch (err) {
      throw refused(`the ${kind} rtpParameters were`, err);
    }
    if (this.#closed) {
      producer.close();
      throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the publisher closed');
    }
    this.#producers.push(producer);
    if (!this.#o.kinds.every((k) => this.#producers.some((p) => p.kind === k))) return { id: producer.id, live: false };
    this.#attaching = true;
    try {
      this.#session = await this.#o.ingest.attach(this.#o.reservation, { streamKey: this.#o.streamKey, remoteAddress: this.#o.remoteAddress, transport: t, producers: this.#producers });
    } catch (err) {
      // attach closed the router; the reply carries the reason, so no notice as well.
      this.#closed = true;
      this.#clearTimer();
      throw err;
    } finally {
      this.#attaching = false;
    }
    this.#clearTimer();
    this.#log.info({ kinds: this.#producers.map((p) => p.kind), codecs: this.#producers.map((p) => p.rtpParameters.codecs[0]?.mimeType) }, 'signaling publisher live');
    return { id: producer.id, live: true, streamId: this.streamId };
  }

  #transportById(id: string): types.WebRtcTransport {
    if (!this.#transport || this.#transport.id !== id) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'no such transport on this socket (createTransport first)');
    return this.#transport;
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #end(code: ErrorCode, reason: string): void {
    if (this.#closed) return;
    this.close(reason, { graceful: false });
    this.#o.onEnded(code, reason);
  }

  /**
   * Closes the role once: a live session detaches from its stream (graceful = the creator pressed
   * Stop: the stream ends; otherwise it waits the reconnect grace), else the router is closed.
   */
  close(reason: string, o: { graceful: boolean }): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    if (this.#session) this.#session.close(reason, { graceful: o.graceful });
    else if (!this.#o.reservation.router.closed) this.#o.reservation.router.close();
    this.#o.reservation.release();
    this.#log.info({ reason, graceful: o.graceful }, 'signaling publisher closed');
  }
}
