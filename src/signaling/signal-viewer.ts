import type { types } from 'mediasoup';
import { ShowcaseError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SignalRequest } from './signal-messages.js';
import { connectOnce, refused, transportParams } from './signal-publisher.js';
import { TransportWatchdog, type TransportTimeouts } from '../webrtc/transport-watchdog.js';
import type { ViewerPlacement } from '../playback/whep/whep-playback.js';

/** What one socket's viewer role needs. */
export interface SignalViewerOptions {
  placement: ViewerPlacement;
  timeouts: TransportTimeouts;
  logger: Logger;
  /** The role ended without the client asking (stream stopped, ICE lost): tell it why. */
  onEnded(code: ErrorCode, reason: string): void;
}

/**
 * A viewer on the signaling socket: a place on one of the stream's edge routers (WhepPlayback's
 * caps), one receive transport watched like a WHEP session's (connect deadline, DTLS failure, ICE
 * consent loss), and at most one paused consumer per kind that the client resumes once its side
 * is ready. Closing the role closes the transport (and consumers) and gives the place back.
 */
export class SignalViewer {
  readonly role = 'viewer';
  readonly #o: SignalViewerOptions;
  readonly #log: Logger;
  #transport?: types.WebRtcTransport;
  #watchdog?: TransportWatchdog;
  #connected = false;
  readonly #consumers = new Map<string, types.Consumer>();
  #closed = false;

  constructor(o: SignalViewerOptions) {
    this.#o = o;
    this.#log = o.logger.child({ signalViewer: true, streamId: o.placement.streamId });
    o.placement.router.observer.once('close', () => queueMicrotask(() => this.#end('SHOWCASE_ERR_STREAM_ENDED', 'the stream stopped or its publisher left')));
  }

  get streamId(): string {
    return this.#o.placement.streamId;
  }

  /** The stream's tracks this viewer can consume. */
  get kinds(): string[] {
    return this.#o.placement.producers.map((p) => p.kind);
  }

  /** Answers one request of this role (join and leave are the peer's). */
  async handle(req: SignalRequest): Promise<Record<string, unknown>> {
    const p = this.#o.placement;
    switch (req.type) {
      case 'getRouterRtpCapabilities':
        return { rtpCapabilities: p.router.rtpCapabilities };
      case 'createTransport': {
        if (this.#transport) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'this viewer already has its receive transport');
        const t = await p.createTransport();
        if (this.#closed) {
          t.close();
          throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the viewer closed');
        }
        this.#transport = t;
        this.#watchdog = new TransportWatchdog(t, this.#o.timeouts, {
          label: 'signaling viewer', logger: this.#log,
          onDead: (reason) => this.#end('SHOWCASE_ERR_SIGNAL_TIMEOUT', reason),
          onConnected: () => this.#o.placement.connected(),
        });
        return transportParams(t);
      }
      case 'connectTransport': {
        await connectOnce(this.#transportById(req.transportId), req.dtlsParameters, this.#connected);
        this.#connected = true;
        return {};
      }
      case 'consume':
        return this.#consume(req.transportId, req.kind, req.rtpCapabilities as types.RtpCapabilities);
      case 'resume': {
        const c = this.#consumers.get(req.consumerId);
        if (!c || c.closed) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'no such consumer on this socket');
        await c.resume();
        if (c.kind === 'video') {
          await c.requestKeyFrame().catch((err: unknown) => this.#log.debug({ err }, 'keyframe request failed'));
          p.requestSourceKeyFrame?.();
        }
        return {};
      }
      case 'produce':
        throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'produce is for publishers; this socket joined as a viewer');
      default:
        throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `${req.type} is not valid now`);
    }
  }

  async #consume(transportId: string, kind: 'audio' | 'video', rtpCapabilities: types.RtpCapabilities): Promise<Record<string, unknown>> {
    const t = this.#transportById(transportId);
    const producer = this.#o.placement.producers.find((x) => x.kind === kind);
    if (!producer) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `this stream has no ${kind} track`);
    if ([...this.#consumers.values()].some((c) => c.kind === kind)) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `the ${kind} track is already consumed on this socket`);
    let ok: boolean;
    try {
      ok = this.#o.placement.router.canConsume({ producerId: producer.id, rtpCapabilities });
    } catch (err) {
      throw refused('rtpCapabilities', err);
    }
    if (!ok) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `these rtpCapabilities cannot receive the stream's ${kind} codec`);
    let consumer: types.Consumer;
    try {
      // Paused: media starts when the client has its consumer ready and sends resume.
      consumer = await t.consume({ producerId: producer.id, rtpCapabilities, paused: true });
    } catch (err) {
      throw refused('consume', err);
    }
    if (this.#closed) {
      consumer.close();
      throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the viewer closed');
    }
    this.#consumers.set(consumer.id, consumer);
    consumer.on('producerclose', () => this.#end('SHOWCASE_ERR_STREAM_ENDED', 'the stream\'s source went away'));
    return { id: consumer.id, producerId: producer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
  }

  #transportById(id: string): types.WebRtcTransport {
    if (!this.#transport || this.#transport.id !== id) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'no such transport on this socket (createTransport first)');
    return this.#transport;
  }

  #end(code: ErrorCode, reason: string): void {
    if (this.#closed) return;
    this.close(reason);
    this.#o.onEnded(code, reason);
  }

  /** Closes the role once: transport (and consumers) closed, the viewer's place given back. */
  close(reason: string, _o?: { graceful: boolean }): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchdog?.stop();
    if (this.#transport && !this.#transport.closed) this.#transport.close();
    this.#consumers.clear();
    this.#o.placement.release();
    this.#log.info({ reason }, 'signaling viewer closed');
  }
}
