import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { secretPrefix } from '../core/logger.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { StreamRecord } from '../store/types.js';
import { hashSecret, secretsEqual } from '../store/secrets.js';
import { buildWhipAnswer, translateWhipOffer, WHIP_MEDIA_CODECS } from './sdp.js';
import { RtpBridge } from './rtp-bridge.js';
import { WhipSession, type WhipSessionTimeouts } from './whip-session.js';
import type { WorkerPool } from './worker-pool.js';

/** What WHIP ingest needs from the rest of the server. */
export interface WhipIngestOptions {
  registry: StreamRegistry;
  pool: WorkerPool;
  logger: Logger;
  /** Where WebRtcTransports listen (announcedAddress = the public IP/host phones reach). */
  listenInfos: types.TransportListenInfo[];
  timeouts: WhipSessionTimeouts;
  /** mediasoup's ICE consent timeout (s): ICE turns 'disconnected' after this long without checks. */
  iceConsentTimeoutSeconds?: number;
  /** Most concurrent WHIP sessions (each holds a router and UDP ports). */
  maxSessions: number;
  /** Ports the RTP bridge hands to ffmpeg (outside mediasoup's rtcMinPort..rtcMaxPort). */
  bridgePortRange?: { min: number; max: number };
  /** Video codecs in order of preference. */
  videoPreference?: string[];
  /** A cheap look-up so unknown keys are refused before a router is made (optional). */
  keyExists?: (streamKey: string) => boolean;
  isOwnerDisabled?: (rec: StreamRecord) => boolean;
}

export type WhipIngestEvents = {
  /** A publisher's session is up and its stream is live. */
  session: [session: WhipSession];
  sessionclosed: [session: WhipSession, reason: string];
};

/** The result of a successful WHIP POST. */
export interface WhipPublishResult {
  sessionId: string;
  answer: string;
  streamId: string;
}

/**
 * WHIP ingest: a publisher's offer becomes a router on the least-loaded worker, a WebRtcTransport,
 * producers and an RTP bridge for ffmpeg, then the registry decides (exactly as for RTMP) and the
 * stream goes live with `rtpInput` set. Every session is owned here and closed on DELETE, stream
 * end, failure or shutdown.
 */
export class WhipIngest extends TypedEmitter<WhipIngestEvents> {
  readonly #o: WhipIngestOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, WhipSession>();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(o: WhipIngestOptions) {
    super();
    this.#o = o;
    this.#log = o.logger.child({ component: 'whip' });
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'whip listener failed');
    o.pool.on('routerlost', (owner, _routerId, reason) => {
      const s = this.#sessions.get(owner.replace(/^whip:/, ''));
      s?.close(reason, { graceful: false });
    });
  }

  /** Live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** A live session by id. */
  get(sessionId: string): WhipSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /**
   * Accepts a WHIP offer for a stream key: resolves with the answer, or throws a ShowcaseError
   * (400 bad offer, 403 unknown key, 409 already publishing, 503 full or stopping).
   */
  async publish(req: { streamKey: string; offer: string; remoteAddress: string }): Promise<WhipPublishResult> {
    if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
    const offer = translateWhipOffer(req.offer, { videoPreference: this.#o.videoPreference });
    if (this.#o.keyExists && !this.#o.keyExists(req.streamKey)) {
      this.#log.warn({ keyPrefix: secretPrefix(req.streamKey), remoteAddress: req.remoteAddress, code: 'SHOWCASE_ERR_RTMP_BAD_KEY' }, 'WHIP publish refused: unknown stream key');
      throw new ShowcaseError('SHOWCASE_ERR_RTMP_BAD_KEY', 'unknown stream key');
    }
    if (this.#sessions.size + this.#pending.size >= this.#o.maxSessions) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'too many WebRTC publishers on this server');
    const work = this.#open(req, offer);
    this.#pending.add(work);
    try {
      return await work;
    } finally {
      this.#pending.delete(work);
    }
  }

  async #open(req: { streamKey: string; remoteAddress: string }, offer: ReturnType<typeof translateWhipOffer>): Promise<WhipPublishResult> {
    const id = randomBytes(16).toString('base64url');
    const router = await this.#o.pool.createRouter(`whip:${id}`, WHIP_MEDIA_CODECS);
    let session: WhipSession | undefined;
    try {
      const transport = await router.createWebRtcTransport({
        listenInfos: this.#o.listenInfos,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        ...(this.#o.iceConsentTimeoutSeconds ? { iceConsentTimeout: this.#o.iceConsentTimeoutSeconds } : {}),
      });
      await transport.connect({ dtlsParameters: offer.dtlsParameters });
      const producers: types.Producer[] = [];
      for (const s of offer.sections) {
        if (!s.rtpParameters || (s.kind !== 'audio' && s.kind !== 'video')) continue;
        try {
          producers.push(await transport.produce({ kind: s.kind, rtpParameters: s.rtpParameters }));
        } catch (err) {
          throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `unacceptable SDP offer: the ${s.kind} parameters were refused: ${(err as Error).message}`, { mid: s.mid });
        }
      }
      const bridge = await RtpBridge.create({ router, producers, logger: this.#log, portRange: this.#o.bridgePortRange, label: `showcase whip ${id}` });
      const created = new WhipSession({
        id,
        keyHash: hashSecret(req.streamKey),
        remoteAddress: req.remoteAddress,
        router,
        transport,
        producers,
        bridge,
        logger: this.#log,
        timeouts: this.#o.timeouts,
        onClosed: (s, reason) => {
          if (this.#sessions.get(s.id) === s) this.#sessions.delete(s.id);
          this.safeEmit('sessionclosed', s, reason);
        },
      });
      session = created;
      if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
      const decision = this.#o.registry.authorizePublish(req.streamKey, created.handle, this.#o.isOwnerDisabled, (stream) => {
        created.stream = stream;
        stream.rtpInput = created.rtpInput;
      });
      if (!decision.ok) throw new ShowcaseError(decision.code, decision.reason);
      created.stream = decision.stream;
      this.#sessions.set(id, created);
      const answer = buildWhipAnswer(offer, transport);
      this.#log.info({ sessionId: id, streamId: decision.stream.id, remoteAddress: req.remoteAddress, kinds: producers.map((p) => p.kind), codecs: offer.sections.map((s) => s.rtpParameters?.codecs[0]?.mimeType).filter(Boolean) }, 'WHIP publish accepted');
      this.safeEmit('session', created);
      return { sessionId: id, answer, streamId: decision.stream.id };
    } catch (err) {
      if (session) session.close(`publish failed: ${(err as Error).message}`, { detach: true, graceful: true });
      else router.close();
      throw err;
    }
  }

  /** Ends a session for a WHIP DELETE; the key must be the one that opened it. False when unknown. */
  stop(sessionId: string, streamKey: string): boolean {
    const s = this.#sessions.get(sessionId);
    if (!s || !secretsEqual(hashSecret(streamKey), s.keyHash)) return false;
    s.close('unpublish (WHIP DELETE)', { graceful: true });
    return true;
  }

  /** Closes every session (their streams end) and refuses new ones. Idempotent. */
  async close(reason = 'server stopping'): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    for (const s of [...this.#sessions.values()]) s.close(reason, { graceful: true });
  }
}
