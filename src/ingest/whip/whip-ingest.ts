import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { ShowcaseError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { secretPrefix } from '../../core/logger.js';
import { TypedEmitter } from '../../core/typed-emitter.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import type { StreamRecord } from '../../store/types.js';
import { hashSecret, secretsEqual } from '../../core/secrets.js';
import { buildWhipAnswer, translateWhipOffer, WHIP_MEDIA_CODECS } from '../../webrtc/sdp.js';
import { RtpBridge } from '../../webrtc/rtp-bridge.js';
import { WhipSession, type WhipSessionTimeouts } from './whip-session.js';
import type { WorkerPool } from '../../webrtc/worker-pool.js';
import { currentListenInfos, type ListenInfosSource } from '../../webrtc/listen-plan.js';

/** What WHIP ingest needs from the rest of the server. */
export interface WhipIngestOptions {
  registry: StreamRegistry;
  pool: WorkerPool;
  logger: Logger;
  /** Where WebRtcTransports listen: fixed, or asked per transport (src/webrtc/listen-plan.ts: the host's addresses change). */
  listenInfos: ListenInfosSource;
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
  keyExists?: (streamKey: string) => boolean | Promise<boolean>;
  isOwnerDisabled?: (rec: StreamRecord) => boolean | Promise<boolean>;
}

export type WhipIngestEvents = {
  /** A publisher's session is up and its stream is live. */
  session: [session: WhipSession];
  sessionclosed: [session: WhipSession, reason: string];
};

/** A publisher place held while a signaling client negotiates (see WhipIngest.reserve). */
export interface PublisherReservation {
  id: string;
  streamId: string;
  router: types.Router;
  /** A WebRtcTransport on the router with the server's listen settings. */
  createTransport(): Promise<types.WebRtcTransport>;
  /** Gives the place back (idempotent); the caller still closes the router if it keeps no session. */
  release(): void;
}

/** The result of a successful WHIP POST. */
export interface WhipPublishResult {
  sessionId: string;
  answer: string;
  streamId: string;
}

/**
 * WHIP ingest: a publisher's offer becomes a router on the least-loaded worker, a WebRtcTransport,
 * producers and an RTP bridge for ffmpeg, then the registry decides (exactly as for RTMP) and the
 * stream goes live with a publisher that declares RTP media (the producers and the bridge's SDP). The WebSocket signaling reserves a place here and attaches
 * its producers the same way. Every session is owned here and closed on DELETE, stream end,
 * failure or shutdown.
 */
export class WhipIngest extends TypedEmitter<WhipIngestEvents> {
  readonly #o: WhipIngestOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, WhipSession>();
  readonly #pending = new Set<Promise<unknown>>();
  /** Places held by signaling publishers that have a router but no session yet. */
  #reserved = 0;
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
    if (this.#o.keyExists && !(await this.#o.keyExists(req.streamKey))) {
      this.#log.warn({ keyPrefix: secretPrefix(req.streamKey), remoteAddress: req.remoteAddress, code: 'SHOWCASE_ERR_RTMP_BAD_KEY' }, 'WHIP publish refused: unknown stream key');
      throw new ShowcaseError('SHOWCASE_ERR_RTMP_BAD_KEY', 'unknown stream key');
    }
    if (this.#sessions.size + this.#pending.size + this.#reserved >= this.#o.maxSessions) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'too many WebRTC publishers on this server');
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
    try {
      const transport = await this.#createTransport(router);
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
      const session = await this.#attach({ id, streamKey: req.streamKey, remoteAddress: req.remoteAddress, router, transport, producers, label: 'WHIP publisher' });
      const answer = buildWhipAnswer(offer, transport);
      this.#log.info({ sessionId: id, streamId: session.stream!.id, remoteAddress: req.remoteAddress, kinds: producers.map((p) => p.kind), codecs: offer.sections.map((s) => s.rtpParameters?.codecs[0]?.mimeType).filter(Boolean) }, 'WHIP publish accepted');
      return { sessionId: id, answer, streamId: session.stream!.id };
    } catch (err) {
      if (!router.closed) router.close();
      throw err;
    }
  }

  /**
   * Reserves a publisher place for a client that negotiates its own transport and producers (the
   * WebSocket signaling): the key is checked with the registry's rules first, then a router is made
   * on the least-loaded worker. The place counts against maxSessions until attach() or release().
   */
  async reserve(req: { streamKey: string; remoteAddress: string }): Promise<PublisherReservation> {
    if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
    const check = await this.#o.registry.checkPublish(req.streamKey, { remoteAddress: req.remoteAddress, protocol: 'webrtc' }, this.#o.isOwnerDisabled);
    if (!check.ok) throw new ShowcaseError(check.code, check.reason);
    if (this.#sessions.size + this.#pending.size + this.#reserved >= this.#o.maxSessions) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'too many WebRTC publishers on this server');
    this.#reserved++;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.#reserved--;
    };
    try {
      const id = randomBytes(16).toString('base64url');
      const router = await this.#o.pool.createRouter(`whip:${id}`, WHIP_MEDIA_CODECS);
      return { id, streamId: check.streamId, router, release, createTransport: () => this.#createTransport(router) };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Turns a reservation's producers into a live publisher: the same RTP bridge, registry decision
   * and session as a WHIP POST, so the stream feeds the same ladder. On failure the router is closed.
   */
  async attach(r: PublisherReservation, p: { streamKey: string; remoteAddress: string; transport: types.WebRtcTransport; producers: types.Producer[] }): Promise<WhipSession> {
    try {
      if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
      return await this.#attach({ id: r.id, router: r.router, label: 'signaling publisher', ...p });
    } catch (err) {
      if (!r.router.closed) r.router.close();
      throw err;
    } finally {
      r.release();
    }
  }

  #createTransport(router: types.Router): Promise<types.WebRtcTransport> {
    return router.createWebRtcTransport({
      listenInfos: currentListenInfos(this.#o.listenInfos),
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      ...(this.#o.iceConsentTimeoutSeconds ? { iceConsentTimeout: this.#o.iceConsentTimeoutSeconds } : {}),
    });
  }

  /** Bridge, session and registry decision for producers already on a router (shared by WHIP and the signaling). */
  async #attach(p: { id: string; streamKey: string; remoteAddress: string; router: types.Router; transport: types.WebRtcTransport; producers: types.Producer[]; label: string }): Promise<WhipSession> {
    const bridge = await RtpBridge.create({ router: p.router, producers: p.producers, logger: this.#log, portRange: this.#o.bridgePortRange, label: `showcase whip ${p.id}` });
    const created = new WhipSession({
      id: p.id,
      keyHash: hashSecret(p.streamKey),
      remoteAddress: p.remoteAddress,
      router: p.router,
      transport: p.transport,
      producers: p.producers,
      bridge,
      label: p.label,
      logger: this.#log,
      timeouts: this.#o.timeouts,
      onClosed: (s, reason) => {
        if (this.#sessions.get(s.id) === s) this.#sessions.delete(s.id);
        this.safeEmit('sessionclosed', s, reason);
      },
    });
    try {
      if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
      const decision = await this.#o.registry.authorizePublish(p.streamKey, created.handle, this.#o.isOwnerDisabled, (stream) => {
        created.stream = stream;
      });
      if (!decision.ok) throw new ShowcaseError(decision.code, decision.reason);
      created.stream = decision.stream;
    } catch (err) {
      created.close(`publish failed: ${(err as Error).message}`, { detach: true, graceful: true });
      throw err;
    }
    this.#sessions.set(p.id, created);
    this.safeEmit('session', created);
    return created;
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
