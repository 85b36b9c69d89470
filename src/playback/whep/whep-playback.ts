import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { ShowcaseError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { TypedEmitter } from '../../core/typed-emitter.js';
import { buildWhepAnswer, offeredCodecFor, translateWhepOffer, viewerCapabilities, type WhepOffer, type WhepSection, type WhepTrack } from './sdp-whep.js';
import { StreamFanout, type EdgeLease, type EdgeProfile, type PlaybackSource } from '../../webrtc/stream-fanout.js';
import type { TransportTimeouts } from '../../webrtc/transport-watchdog.js';
import { WhepSession } from './whep-session.js';
import type { WorkerPool } from '../../webrtc/worker-pool.js';
import { currentListenInfos, type ListenInfosSource } from '../../webrtc/listen-plan.js';

/** How many viewers the server takes, and how they spread over workers. */
export interface WhepLimits {
  /** WHEP viewers on the whole server. */
  maxViewers: number;
  maxViewersPerStream: number;
  /** Viewers from one client address (all streams together). */
  maxViewersPerIp: number;
  /** One stream's consumers one worker holds before further viewers go to another worker. */
  maxConsumersPerWorker: number;
}

/** What WHEP playback needs from the rest of the server. */
export interface WhepPlaybackOptions {
  pool: WorkerPool;
  logger: Logger;
  /** Where viewer WebRtcTransports listen: fixed, or asked per transport (src/webrtc/listen-plan.ts: the host's addresses change). */
  listenInfos: ListenInfosSource;
  timeouts: TransportTimeouts;
  /** mediasoup's ICE consent timeout (s): ICE turns 'disconnected' after this long without checks. */
  iceConsentTimeoutSeconds?: number;
  limits: WhepLimits;
  /** Whether a stream id is known at all (404 when not; 409 when known but not playable now). */
  streamExists?: (streamId: string) => boolean | Promise<boolean>;
  /** Streams no viewer may join (practice mode): answered like an unknown stream, before any feed starts. */
  isHidden?: (streamId: string) => boolean;
  /**
   * Makes a source on demand for a stream that has none yet (an RTMP stream's feed starts on its
   * first viewer); undefined when the stream cannot be played over WebRTC now.
   */
  sourceFor?: (streamId: string) => Promise<PlaybackSource | undefined>;
}

export type WhepPlaybackEvents = {
  session: [session: WhepSession];
  /** A viewer's DTLS connected: its media flows. */
  sessionconnected: [session: WhepSession];
  sessionclosed: [session: WhepSession, reason: string];
  /** A signaling viewer's place was given back (an on-demand source may stop when it was the last). */
  placementreleased: [streamId: string];
  /** A signaling viewer's transport connected (it watches from now on) / it left after that. */
  viewerconnected: [placementId: string, streamId: string];
  viewerleft: [placementId: string, streamId: string];
};

/** The result of a successful WHEP POST. */
export interface WhepPlayResult {
  sessionId: string;
  answer: string;
  streamId: string;
}

/**
 * A signaling viewer's place on one of a stream's edge routers, counted against the same caps as a
 * WHEP session. The viewer loads its mediasoup-client Device with the edge's rtpCapabilities and
 * consumes the edge's copies of the stream's producers. release() gives the place back (idempotent).
 */
export interface ViewerPlacement {
  streamId: string;
  router: types.Router;
  /** The stream's producers as known on this edge router. */
  producers: Array<{ id: string; kind: types.MediaKind }>;
  /** A WebRtcTransport on the edge with the server's listen settings. */
  createTransport(): Promise<types.WebRtcTransport>;
  requestSourceKeyFrame?(): void;
  /** The viewer's transport connected: it counts as watching until release(). */
  connected(): void;
  release(): void;
}

/** One producer matched to the viewer's section that will receive it. */
interface Assignment {
  producer: types.Producer;
  section: WhepSection;
  capabilities: types.RtpCapabilities;
  routerCodec: types.RouterRtpCodecCapability;
}

/**
 * WHEP playback: a viewer's offer becomes a WebRtcTransport and consumers of the stream's producers
 * on one of the stream's edge routers (StreamFanout), within per-IP, per-stream and server caps.
 * Every session is owned here and closed on DELETE, failure, its stream's source going away, or
 * shutdown. Sources are set by whoever feeds a stream into mediasoup (WHIP, the RTMP feed).
 */
export class WhepPlayback extends TypedEmitter<WhepPlaybackEvents> {
  readonly #o: WhepPlaybackOptions;
  readonly #log: Logger;
  readonly #sources = new Map<string, StreamFanout>();
  readonly #sessions = new Map<string, WhepSession>();
  /** Sessions plus joins in flight, per stream and per address (entries removed at zero). */
  readonly #perStream = new Map<string, number>();
  readonly #perIp = new Map<string, number>();
  #total = 0;
  #closed = false;

  constructor(o: WhepPlaybackOptions) {
    super();
    this.#o = o;
    this.#log = o.logger.child({ component: 'whep' });
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'whep listener failed');
  }

  /** Live viewer sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** A live session by id. */
  get(sessionId: string): WhepSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** Viewers of a stream (joining ones included). */
  viewers(streamId: string): number {
    return this.#perStream.get(streamId) ?? 0;
  }

  /** The fan-out of a stream's source, if it has one (tests and metrics read its placement). */
  fanout(streamId: string): StreamFanout | undefined {
    return this.#sources.get(streamId);
  }

  /** Whether a stream can be watched over WebRTC now. */
  hasSource(streamId: string): boolean {
    return this.#sources.has(streamId);
  }

  /**
   * Makes a stream watchable from this source. A previous source's viewers are closed (they
   * re-POST); the source leaves by itself when its router closes.
   */
  setSource(source: PlaybackSource): void {
    if (this.#closed) return;
    this.removeSource(source.streamId, 'the stream\'s source changed');
    const fanout = new StreamFanout({ source, pool: this.#o.pool, maxConsumersPerWorker: this.#o.limits.maxConsumersPerWorker, logger: this.#log });
    this.#sources.set(source.streamId, fanout);
    source.router.observer.once('close', () => {
      if (this.#sources.get(source.streamId) === fanout) this.removeSource(source.streamId, 'the stream stopped');
    });
  }

  /** Closes a stream's viewers and edge routers (stream ended, publisher gone). */
  removeSource(streamId: string, reason: string): void {
    const fanout = this.#sources.get(streamId);
    if (!fanout) return;
    this.#sources.delete(streamId);
    for (const s of [...this.#sessions.values()]) if (s.streamId === streamId) s.close(reason);
    fanout.close(reason);
  }

  /**
   * The stream's WebRTC source for a new viewer, whichever way the viewer came in (an RTMP stream's
   * feed starts on its first viewer), or the refusal: 503 stopping, 404 hidden or unknown, 409 not live.
   */
  async #liveSource(streamId: string): Promise<StreamFanout> {
    if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
    if (this.#o.isHidden?.(streamId)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such stream');
    const fanout = this.#sources.get(streamId) ?? await this.#sourceOnDemand(streamId);
    if (!fanout) {
      if (this.#o.streamExists && !(await this.#o.streamExists(streamId))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such stream');
      throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream is not live over WebRTC now');
    }
    return fanout;
  }

  /**
   * Answers a viewer's offer for a stream: resolves with the answer, or throws a ShowcaseError (404
   * unknown stream, 409 not live over WebRTC, 400 bad offer, 429 per-address cap, 503 full or stopping).
   */
  async play(req: { streamId: string; offer: string; remoteAddress: string }): Promise<WhepPlayResult> {
    const fanout = await this.#liveSource(req.streamId);
    const offer = translateWhepOffer(req.offer);
    const assignments = this.#assign(offer, fanout.source);
    const release = this.#reserve(req.streamId, req.remoteAddress);
    let lease: EdgeLease | undefined;
    let transport: types.WebRtcTransport | undefined;
    try {
      lease = await fanout.acquire(this.#profile(assignments), assignments.length);
      transport = await lease.router.createWebRtcTransport({
        listenInfos: currentListenInfos(this.#o.listenInfos),
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        ...(this.#o.iceConsentTimeoutSeconds ? { iceConsentTimeout: this.#o.iceConsentTimeoutSeconds } : {}),
      });
      await transport.connect({ dtlsParameters: offer.transport.dtlsParameters });
      const consumers: types.Consumer[] = [];
      const tracks = new Map<string, WhepTrack>();
      for (const a of assignments) {
        let consumer: types.Consumer;
        try {
          // Paused until DTLS connects; no RTX: its payload type is the router's, not the viewer's.
          consumer = await transport.consume({ producerId: lease.producerId(a.producer.id), rtpCapabilities: a.capabilities, paused: true, mid: a.section.mid, enableRtx: false });
        } catch (err) {
          throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `unacceptable SDP offer: the ${a.producer.kind} section cannot receive this stream: ${(err as Error).message}`, { mid: a.section.mid });
        }
        consumers.push(consumer);
        tracks.set(a.section.mid, { rtpParameters: consumer.rtpParameters, trackId: consumer.id });
      }
      if (this.#closed || !this.#sources.has(req.streamId)) throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream stopped while the viewer was joining');
      const id = randomBytes(16).toString('base64url');
      const answer = buildWhepAnswer(offer, transport, tracks, req.streamId);
      const l = lease;
      const session = new WhepSession({
        id,
        streamId: req.streamId,
        remoteAddress: req.remoteAddress,
        transport,
        consumers,
        logger: this.#log,
        timeouts: this.#o.timeouts,
        release: () => { l.release(); release(); },
        requestSourceKeyFrame: fanout.source.requestKeyFrame ? () => fanout.source.requestKeyFrame!() : undefined,
        onConnected: (s) => this.safeEmit('sessionconnected', s),
        onClosed: (s, reason) => {
          if (this.#sessions.get(s.id) === s) this.#sessions.delete(s.id);
          this.safeEmit('sessionclosed', s, reason);
        },
      });
      this.#sessions.set(id, session);
      this.#log.info({ sessionId: id, streamId: req.streamId, remoteAddress: req.remoteAddress, slot: lease.slot, codecs: consumers.map((c) => c.rtpParameters.codecs[0]?.mimeType) }, 'WHEP viewer accepted');
      this.safeEmit('session', session);
      return { sessionId: id, answer, streamId: req.streamId };
    } catch (err) {
      if (transport && !transport.closed) transport.close();
      lease?.release();
      release();
      throw err;
    }
  }

  /**
   * Places a viewer that negotiates with mediasoup-client over the WebSocket signaling: same
   * refusals and caps as play() (404, 409 not live, 429 per address, 503 full), on an edge router
   * built with the source router's own codecs, so the Device loads the edge's capabilities as is.
   */
  async placeViewer(req: { streamId: string; remoteAddress: string }): Promise<ViewerPlacement> {
    const fanout = await this.#liveSource(req.streamId);
    const source = fanout.source;
    const producers = source.producers.filter((p) => !p.closed);
    const reserved = this.#reserve(req.streamId, req.remoteAddress);
    const placementId = randomBytes(8).toString('base64url');
    let released = false;
    let watching = false;
    const release = (): void => {
      if (released) return;
      released = true;
      reserved();
      if (watching) this.safeEmit('viewerleft', placementId, req.streamId);
      this.safeEmit('placementreleased', req.streamId);
    };
    try {
      const codecs = (source.router.rtpCapabilities.codecs ?? [])
        .filter((c) => !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType))
        .map((c): types.RouterRtpCodecCapability => ({ kind: c.kind, mimeType: c.mimeType, clockRate: c.clockRate, ...(c.channels ? { channels: c.channels } : {}), parameters: c.parameters ?? {}, preferredPayloadType: c.preferredPayloadType }));
      const lease = await fanout.acquire({ key: `native:${codecs.map((c) => `${c.mimeType}@${c.preferredPayloadType}`).join('|')}`, codecs }, producers.length);
      if (this.#closed || !this.#sources.has(req.streamId)) {
        lease.release();
        throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream stopped while the viewer was joining');
      }
      this.#log.info({ streamId: req.streamId, remoteAddress: req.remoteAddress, slot: lease.slot }, 'signaling viewer placed');
      return {
        streamId: req.streamId,
        router: lease.router,
        producers: producers.map((p) => ({ id: lease.producerId(p.id), kind: p.kind })),
        createTransport: () => lease.router.createWebRtcTransport({
          listenInfos: currentListenInfos(this.#o.listenInfos),
          enableUdp: true,
          enableTcp: true,
          preferUdp: true,
          ...(this.#o.iceConsentTimeoutSeconds ? { iceConsentTimeout: this.#o.iceConsentTimeoutSeconds } : {}),
        }),
        requestSourceKeyFrame: source.requestKeyFrame ? () => source.requestKeyFrame!() : undefined,
        connected: () => {
          if (watching || released) return;
          watching = true;
          this.safeEmit('viewerconnected', placementId, req.streamId);
        },
        release: () => { lease.release(); release(); },
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Ends a viewer session (WHEP DELETE). False when there is no such session. */
  stop(sessionId: string): boolean {
    const s = this.#sessions.get(sessionId);
    if (!s) return false;
    s.close('viewer left (WHEP DELETE)');
    return true;
  }

  /** Closes every session and edge router and refuses new viewers. Idempotent. */
  close(reason = 'server stopping'): void {
    this.#closed = true;
    for (const id of [...this.#sources.keys()]) this.removeSource(id, reason);
    for (const s of [...this.#sessions.values()]) s.close(reason);
  }

  /** The fan-out of a source made on demand (sourceFor), registered as if setSource had been called. */
  async #sourceOnDemand(streamId: string): Promise<StreamFanout | undefined> {
    if (!this.#o.sourceFor) return undefined;
    const source = await this.#o.sourceFor(streamId);
    if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
    // Another viewer's request may have registered it meanwhile: keep that one (its viewers stay).
    const existing = this.#sources.get(streamId);
    if (existing || !source || source.router.closed) return existing;
    this.setSource(source);
    return this.#sources.get(streamId);
  }

  /** Matches each of the source's producers to a receiving section of the offer that can decode it. */
  #assign(offer: WhepOffer, source: PlaybackSource): Assignment[] {
    const used = new Set<string>();
    const out: Assignment[] = [];
    const missing: string[] = [];
    for (const producer of source.producers) {
      if (producer.closed) continue;
      const codec = producer.rtpParameters.codecs.find((c) => !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
      if (!codec) continue;
      const section = offer.sections.find((s) => !s.rejected && !used.has(s.mid) && s.kind === producer.kind && offeredCodecFor(s, codec));
      if (!section) {
        missing.push(`${producer.kind} ${codec.mimeType}`);
        continue;
      }
      used.add(section.mid);
      const chosen = offeredCodecFor(section, codec)!;
      out.push({
        producer,
        section,
        capabilities: viewerCapabilities(section, chosen, codec),
        routerCodec: { kind: producer.kind, mimeType: codec.mimeType, clockRate: codec.clockRate, ...(codec.channels ? { channels: codec.channels } : {}), parameters: codec.parameters ?? {}, preferredPayloadType: chosen.payloadType },
      });
    }
    if (out.length === 0) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', `unacceptable SDP offer: it cannot receive any of this stream's media (${missing.join(', ') || 'nothing to play'})`, { missing });
    return out;
  }

  /** The edge router codecs for these assignments: audio first, so its payload type is taken before the RTX one is allocated. */
  #profile(assignments: Assignment[]): EdgeProfile {
    const codecs = [...assignments].sort((a, b) => (a.producer.kind === b.producer.kind ? 0 : a.producer.kind === 'audio' ? -1 : 1)).map((a) => a.routerCodec);
    return { key: codecs.map((c) => `${c.mimeType}@${c.preferredPayloadType}`).join('|'), codecs };
  }

  /** Counts a joining viewer against the caps (throws when one is reached); the function undoes it once. */
  #reserve(streamId: string, ip: string): () => void {
    const l = this.#o.limits;
    if (this.#total >= l.maxViewers) throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'the server is at its WebRTC viewer limit', { scope: 'server', limit: l.maxViewers });
    if ((this.#perStream.get(streamId) ?? 0) >= l.maxViewersPerStream) throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'this stream is at its WebRTC viewer limit', { scope: 'stream', limit: l.maxViewersPerStream });
    if ((this.#perIp.get(ip) ?? 0) >= l.maxViewersPerIp) throw new ShowcaseError('SHOWCASE_ERR_WHEP_VIEWER_LIMIT', 'too many WebRTC viewers from this address', { limit: l.maxViewersPerIp });
    this.#total++;
    bump(this.#perStream, streamId, 1);
    bump(this.#perIp, ip, 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#total--;
      bump(this.#perStream, streamId, -1);
      bump(this.#perIp, ip, -1);
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
