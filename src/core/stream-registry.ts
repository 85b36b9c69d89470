import { TypedEmitter } from './typed-emitter.js';
import { LiveStream, type PublisherHandle } from './live-stream.js';
import type { Logger } from './logger.js';
import { secretPrefix } from './logger.js';
import type { Store, StreamRecord } from '../store/types.js';
import { hashSecret } from './secrets.js';

export type PublishDecision =
  | { ok: true; stream: LiveStream }
  | { ok: false; code: 'SHOWCASE_ERR_RTMP_BAD_KEY' | 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING'; reason: string };

export type StreamRegistryEvents = {
  /** A LiveStream object was created (first publish since start-up): attach outputs now. */
  stream: [stream: LiveStream];
};

/**
 * One LiveStream per stream, keyed by id; decides who may publish (key lookup by hash, one live
 * publisher per key, takeover when the old publisher is dead) and persists state changes.
 */
export class StreamRegistry extends TypedEmitter<StreamRegistryEvents> {
  readonly #streams = new Map<string, LiveStream>();
  readonly #store: Store;
  readonly #log: Logger;
  readonly #graceMs: number;

  constructor(opts: { store: Store; logger: Logger; reconnectGraceMs: number }) {
    super();
    this.#store = opts.store;
    this.#log = opts.logger;
    this.#graceMs = opts.reconnectGraceMs;
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'stream registry listener failed');
  }

  /** The in-memory LiveStream for an id, if it has been live since start-up. */
  get(id: string): LiveStream | undefined {
    return this.#streams.get(id);
  }

  /** Every in-memory stream. */
  all(): LiveStream[] {
    return [...this.#streams.values()];
  }

  /** Streams with a publisher (or waiting for one to reconnect). */
  liveCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) if (s.state === 'live') n++;
    return n;
  }

  /**
   * Marks streams a dead process left 'live' as ended (interrupted): a crash gives no chance to
   * stop cleanly, unlike SIGTERM (see restoreInterrupted). Returns their ids.
   */
  recoverInterrupted(): string[] {
    const ids: string[] = [];
    for (const rec of this.#store.listStreamsInState('live')) {
      this.#store.updateStream(rec.id, { state: 'ended', endedAt: Date.now(), endReason: 'interrupted' });
      ids.push(rec.id);
    }
    if (ids.length) this.#log.warn({ streams: ids }, 'streams left live by a previous process marked ended (interrupted)');
    return ids;
  }

  /**
   * Brings back the streams a stopped process left 'interrupted' (a deploy): each waits
   * reconnectGraceMs from now for its publisher to continue it under the same id, then ends.
   * Returns their records (the caller restores what outputs continue from, before publishers come).
   */
  async restoreInterrupted(): Promise<StreamRecord[]> {
    const recs = await this.#store.listStreamsInState('interrupted');
    for (const rec of recs) {
      if (this.#streams.has(rec.id)) continue;
      const stream = new LiveStream(rec.id, 'interrupted');
      stream.startedAt = rec.startedAt;
      this.#wire(stream);
      this.#streams.set(rec.id, stream);
      this.safeEmit('stream', stream);
    }
    if (recs.length) this.#log.info({ streams: recs.map((r) => r.id), graceMs: this.#graceMs }, 'streams interrupted by the previous process wait for their publishers to reconnect');
    return recs;
  }

  /** Starts the reconnect window of every restored interrupted stream (after outputs are ready). */
  startReconnectWindows(): void {
    for (const s of this.#streams.values()) s.awaitReconnect(this.#graceMs, 'interrupted by a server restart');
  }

  /** Server shutdown: every live stream becomes 'interrupted' (kept for the next process); returns them. */
  interruptAll(reason: string): LiveStream[] {
    const out: LiveStream[] = [];
    for (const s of this.#streams.values()) {
      if (s.state !== 'live') continue;
      s.interrupt(reason);
      out.push(s);
    }
    return out;
  }

  /** Decides a publish attempt for a stream key and, when accepted, attaches the publisher. */
  authorizePublish(
    streamKey: string,
    publisher: PublisherHandle,
    isOwnerDisabled: (rec: StreamRecord) => boolean = () => false,
    /** Runs after the decision and before the publisher attaches (an ingest learns its stream here). */
    prepare?: (stream: LiveStream) => void,
  ): PublishDecision {
    const keyLog = { keyPrefix: secretPrefix(streamKey), remoteAddress: publisher.remoteAddress, protocol: publisher.protocol };
    const found = this.#lookupKey(streamKey, isOwnerDisabled, keyLog);
    if (!found.ok) return found;
    const rec = found.rec;
    let stream = this.#streams.get(rec.id);
    if (!stream) {
      stream = new LiveStream(rec.id, rec.state);
      stream.startedAt = rec.startedAt;
      this.#wire(stream);
      this.#streams.set(rec.id, stream);
      this.safeEmit('stream', stream);
    }
    const current = stream.publisher;
    if (current) {
      if (current.isAlive()) {
        this.#log.warn({ ...keyLog, streamId: rec.id, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' }, 'publish refused: stream key is already publishing');
        return { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'already publishing' };
      }
      // The old connection went quiet (OBS reconnecting before the server saw the socket die).
      this.#log.info({ ...keyLog, streamId: rec.id, replaced: current.id }, 'publisher takes over from a dead connection');
      stream.detachPublisher(current, 'replaced by a new connection', false, this.#graceMs);
      current.close('replaced by a new connection with the same key');
    }
    prepare?.(stream);
    stream.attachPublisher(publisher);
    this.#log.info({ ...keyLog, streamId: rec.id, publisherId: publisher.id }, 'publish started');
    return { ok: true, stream };
  }

  /**
   * The same refusals as authorizePublish (unknown or disabled key, ended stream, a live publisher
   * already on it) without attaching anything: for publishers that negotiate media after they
   * present the key (the WebSocket signaling), so a bad key is refused before any router exists.
   */
  checkPublish(
    streamKey: string,
    who: { remoteAddress: string; protocol: PublisherHandle['protocol'] },
    isOwnerDisabled: (rec: StreamRecord) => boolean = () => false,
  ): { ok: true; streamId: string } | Extract<PublishDecision, { ok: false }> {
    const keyLog = { keyPrefix: secretPrefix(streamKey), remoteAddress: who.remoteAddress, protocol: who.protocol };
    const found = this.#lookupKey(streamKey, isOwnerDisabled, keyLog);
    if (!found.ok) return found;
    if (this.#streams.get(found.rec.id)?.publisher?.isAlive()) {
      this.#log.warn({ ...keyLog, streamId: found.rec.id, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' }, 'publish refused: stream key is already publishing');
      return { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'already publishing' };
    }
    return { ok: true, streamId: found.rec.id };
  }

  /** The stream record a key opens, or why it opens none (logged once, here). */
  #lookupKey(streamKey: string, isOwnerDisabled: (rec: StreamRecord) => boolean, keyLog: Record<string, unknown>): { ok: true; rec: StreamRecord } | Extract<PublishDecision, { ok: false }> {
    const rec = this.#store.getStreamByKeyHash(hashSecret(streamKey));
    if (!rec || isOwnerDisabled(rec)) {
      this.#log.warn({ ...keyLog, code: 'SHOWCASE_ERR_RTMP_BAD_KEY' }, 'publish refused: unknown stream key');
      return { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason: 'unknown stream key' };
    }
    if (rec.state === 'ended') {
      this.#log.warn({ ...keyLog, streamId: rec.id, code: 'SHOWCASE_ERR_RTMP_BAD_KEY' }, 'publish refused: the stream has ended; create a new stream');
      return { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason: 'stream has ended' };
    }
    return { ok: true, rec };
  }

  /** Ends a stream now (deleted, or server shutdown); no-op when not in memory. */
  end(id: string, reason: string): void {
    this.#streams.get(id)?.end(reason);
  }

  /** Forgets an ended stream's in-memory object. */
  forget(id: string): void {
    const s = this.#streams.get(id);
    if (s && s.state === 'ended') {
      s.removeAllListeners();
      this.#streams.delete(id);
    }
  }

  #wire(stream: LiveStream): void {
    stream.onListenerError = (event, error) => this.#log.error({ err: error, event, streamId: stream.id }, 'stream listener failed');
    stream.on('state', (state, reason) => {
      const patch = state === 'live'
        ? { state, startedAt: stream.startedAt ?? Date.now() }
        : state === 'interrupted' ? { state } : { state, endedAt: stream.endedAt ?? Date.now(), endReason: reason };
      this.#store.updateStream(stream.id, patch);
      this.#log.info({ streamId: stream.id, state, reason }, 'stream state changed');
    });
  }
}
