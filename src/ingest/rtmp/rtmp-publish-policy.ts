import type { PublisherHandle } from '../../core/live-stream.js';
import type { OwnerDisabledCheck, StreamRegistry } from '../../core/stream-registry.js';
import type { RtmpPublishDecision, RtmpPublishRequest } from './rtmp-types.js';

export interface RtmpPublishPolicyOptions {
  /** Decides the key and attaches the publisher (only authorizePublish is used). */
  registry: Pick<StreamRegistry, 'authorizePublish'>;
  /** A stream whose owner is disabled opens nothing. */
  isOwnerDisabled: OwnerDisabledCheck;
  /** A publisher silent this long counts as dead: a new connection with its key takes over (rtmp.deadPublisherMs). */
  deadPublisherMs: number;
  /** How long a stream waits for a dropped publisher (streams.reconnectGraceMs). */
  reconnectGraceMs: number;
  now?: () => number;
}

/**
 * The RTMP publish decision (RtmpServer's onPublish): builds the packet-form PublisherHandle of a
 * connection, asks the registry (and so the store) before any media is accepted, and routes the
 * accepted publisher's metadata, packets and close into its LiveStream. After close() every
 * publish is refused: a server that is stopping takes no new shows.
 */
export class RtmpPublishPolicy {
  readonly #o: RtmpPublishPolicyOptions;
  readonly #now: () => number;
  #closed = false;

  constructor(o: RtmpPublishPolicyOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Refuses every later publish (shutdown). Idempotent. */
  close(): void {
    this.#closed = true;
  }

  /** Decides one publish request; the sink of an accepted one feeds the stream. */
  async decide(req: RtmpPublishRequest): Promise<RtmpPublishDecision> {
    if (this.#closed) return { ok: false, code: 'SHOWCASE_ERR_RTMP_LIMIT', reason: 'server stopping' };
    const conn = req.connection;
    const deadMs = this.#o.deadPublisherMs;
    const handle: PublisherHandle = {
      id: conn.id,
      protocol: 'rtmp',
      remoteAddress: req.remoteAddress,
      // Tracks are declared by the sequence headers as they come (RTMP names no codecs before media).
      media: { form: 'packets', tracks: [] },
      isAlive: () => !conn.isClosed() && this.#now() - conn.lastReceivedAt() < deadMs,
      close: (reason) => conn.close(reason),
    };
    const decision = await this.#o.registry.authorizePublish(req.streamKey, handle, this.#o.isOwnerDisabled);
    if (!decision.ok) return decision;
    const stream = decision.stream;
    const graceMs = this.#o.reconnectGraceMs;
    return {
      ok: true,
      sink: {
        onMetadata: (info) => stream.setMediaInfo(info),
        onPacket: (p) => {
          if (stream.publisher === handle) stream.pushPacket(p);
        },
        onClose: (reason) => stream.detachPublisher(handle, reason, isGracefulUnpublish(reason), graceMs),
      },
    };
  }
}

/** An explicit unpublish (FCUnpublish / deleteStream / closeStream) ends the stream at once. */
export function isGracefulUnpublish(reason: string): boolean {
  return /unpublish|deletestream|closestream/i.test(reason);
}
