import { TypedEmitter } from './typed-emitter.js';
import { LiveStream, type PublisherHandle } from './live-stream.js';
import type { Logger } from './logger.js';
import { secretPrefix } from './logger.js';
import type { Store, StreamRecord } from '../store/types.js';
import { hashSecret } from './secrets.js';
import { KeyedQueue } from './keyed-queue.js';

/** Interrupted streams adopted per store call at start-up. */
const MAX_ADOPT = 500;

export type PublishDecision =
  | { ok: true; stream: LiveStream }
  | { ok: false; code: 'SHOWCASE_ERR_RTMP_BAD_KEY' | 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING'; reason: string };

/** Whether a stream's owner is disabled (its keys then open nothing); may ask the store. */
export type OwnerDisabledCheck = (rec: StreamRecord) => boolean | Promise<boolean>;

export type StreamRegistryEvents = {
  /** A LiveStream object was created (first publish since start-up): attach outputs now. */
  stream: [stream: LiveStream];
  /**
   * This node's sweep ended streams no node holds in memory (interrupted, no publisher within the
   * grace): whoever finalizes what they leave (their recordings) does it now.
   */
  abandoned: [streamIds: string[]];
};

/**
 * Prepares this node to continue a stream another process served (its previous one, or a dead
 * node): where its HLS numbering and its recording resume. Awaited before the stream's LiveStream
 * exists here, so before any media flows.
 */
export type ContinuePrepare = (rec: StreamRecord) => Promise<void>;

export interface StreamRegistryOptions {
  store: Store;
  logger: Logger;
  reconnectGraceMs: number;
  /** This node's id in stream leases (config node.id). */
  nodeId?: string;
  /** How long a live stream's lease lasts; renewed every third of it (config node.leaseMs). */
  leaseMs?: number;
  /** Called before this node continues an interrupted stream (restored at start-up or taken over). */
  prepareContinue?: ContinuePrepare;
  /**
   * Whether a node has left the cluster (clustered only: Redis says its heartbeat expired). A
   * publisher arriving for a stream whose lease such a node still holds takes it over at once
   * instead of waiting for the lease to expire.
   */
  isNodeGone?: (nodeId: string) => Promise<boolean>;
  now?: () => number;
}

/**
 * One LiveStream per stream, keyed by id; decides who may publish (key lookup by hash, one live
 * publisher per key, takeover when the old publisher is dead) and persists state changes.
 *
 * "One publisher per key" holds across nodes: going live is a conditional claim of the stream's
 * lease in the store (taken before the publisher attaches, so before media flows); the lease is
 * renewed on a timer while live and released when the stream ends. State writes made while media
 * flows are queued per stream (in order, never awaited by the media path; failures are logged).
 */
export class StreamRegistry extends TypedEmitter<StreamRegistryEvents> {
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly #streams = new Map<string, LiveStream>();
  readonly #store: Store;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #prepareContinue?: ContinuePrepare;
  readonly #isNodeGone?: (nodeId: string) => Promise<boolean>;
  /** Each stream's queued store writes, in order. */
  readonly #writes = new KeyedQueue();
  #renewTimer?: NodeJS.Timeout;
  #renewing?: Promise<void>;

  constructor(opts: StreamRegistryOptions) {
    super();
    this.#store = opts.store;
    this.#log = opts.logger;
    this.#graceMs = opts.reconnectGraceMs;
    this.nodeId = opts.nodeId ?? 'local';
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    this.#prepareContinue = opts.prepareContinue;
    this.#isNodeGone = opts.isNodeGone;
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
   * At start-up: ends (interrupted) the streams left live by this node's previous process or by no
   * node; those of another node whose lease has expired become interrupted (that node died: its
   * publisher's reconnect may continue them anywhere). Another node's unexpired lease means it is
   * serving that stream, and it is left alone. Returns the ids ended.
   */
  async recoverInterrupted(): Promise<string[]> {
    const now = this.#now();
    const interrupted = await this.#store.interruptExpiredLive({ ownNodeId: this.nodeId, now });
    if (interrupted.length) this.#log.warn({ streams: interrupted, nodeId: this.nodeId }, 'streams of a node whose lease expired interrupted: a reconnect on any node continues them within the grace');
    const ids = await this.#store.endAbandonedLive({ ownNodeId: this.nodeId, now, endReason: 'interrupted' });
    if (ids.length) this.#log.warn({ streams: ids, nodeId: this.nodeId }, 'streams left live by a previous process marked ended (interrupted)');
    return ids;
  }

  /** Starts renewing this node's leases every third of leaseMs (off the media path: a timer). */
  startLeaseRenewal(): void {
    if (this.#renewTimer) return;
    this.#renewTimer = setInterval(() => void this.renewLeases(), Math.max(250, Math.floor(this.leaseMs / 3)));
    this.#renewTimer.unref();
  }

  /**
   * Renews the lease of every live stream this node serves, once (concurrent calls share it), then
   * sweeps: streams whose lease expired on another node (their node is gone) become interrupted, and
   * interrupted ones whose grace ran out with no publisher end. A stream whose lease another node
   * took (it expired: this node could not reach the store in time) ends here with
   * SHOWCASE_ERR_STREAM_LEASE_LOST, so the key has one publisher again.
   */
  renewLeases(): Promise<void> {
    this.#renewing ??= this.#renewOnce().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #renewOnce(): Promise<void> {
    await this.#renewOwn();
    // After renewing ours (so a late tick never sweeps this node's own streams): streams of a node
    // that died without restarting stay live in the store until their lease expires; whichever
    // node ticks first then interrupts them (one conditional update, cheap), naming the dead node.
    // The publisher's reconnect, wherever the load balancer sends it, continues them (claimLive
    // takes an interrupted stream). One lease period past the grace (so that a node waiting for
    // its own restored streams ends them first, by its own timer) the sweep ends what nobody took.
    try {
      const now = this.#now();
      const interrupted = await this.#store.interruptExpiredLive({ ownNodeId: this.nodeId, now });
      if (interrupted.length) this.#log.warn({ streams: interrupted, nodeId: this.nodeId, graceMs: this.#graceMs }, 'streams whose node stopped renewing their lease interrupted: a reconnect on any node continues them within the grace');
      const ended = await this.#store.endExpiredInterrupted({ before: now - this.#graceMs - this.leaseMs, now, endReason: `interrupted; no reconnect within ${this.#graceMs} ms` });
      if (ended.length) {
        this.#log.warn({ streams: ended, nodeId: this.nodeId }, 'interrupted streams nobody continued within the grace ended');
        this.safeEmit('abandoned', ended.filter((id) => !this.#streams.has(id)));
      }
    } catch (err) {
      this.#log.error({ err, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'sweeping expired stream leases failed; retrying at the next tick');
    }
  }

  async #renewOwn(): Promise<void> {
    const ids = this.all().filter((s) => s.state === 'live').map((s) => s.id);
    if (ids.length === 0) return;
    let held: string[];
    try {
      held = await this.#store.renewLeases(this.nodeId, ids, this.#now() + this.leaseMs);
    } catch (err) {
      this.#log.error({ err, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED', streams: ids.length }, 'stream lease renewal failed; retrying at the next tick');
      return;
    }
    const kept = new Set(held);
    for (const id of ids) {
      const s = this.#streams.get(id);
      // A stream that ended meanwhile released its lease: not lost.
      if (kept.has(id) || !s || s.state !== 'live') continue;
      // The lease lapsed (the store was out of reach longer than leaseMs) and another node's sweep
      // interrupted the stream, but nobody took it: this node, still serving it, takes it back.
      const now = this.#now();
      const again = await this.#store.claimLive(id, { nodeId: this.nodeId, now, expiresAt: now + this.leaseMs, startedAt: s.startedAt ?? now }).catch(() => undefined);
      if (again?.ok && s.state === 'live') {
        this.#log.warn({ streamId: id, nodeId: this.nodeId }, 'stream lease had lapsed and was taken back (nobody else took it)');
        continue;
      }
      if (s.state !== 'live') continue;
      this.#log.error({ streamId: id, nodeId: this.nodeId, code: 'SHOWCASE_ERR_STREAM_LEASE_LOST' }, 'stream lease lost to another node: ending the stream here');
      s.end('lease lost to another node');
    }
  }

  /**
   * Brings back the streams this node's previous process left 'interrupted' (a deploy, or a crash
   * swept by another node): those whose expired lease names this node, or no node (a single node's
   * older records). Each is adopted in the store (its lease stamped from now), prepared
   * (prepareContinue) and waits reconnectGraceMs from now for its publisher to continue it under
   * the same id, then ends. Another node's interrupted streams are left: the node their publisher
   * reconnects to continues them (authorizePublish). Returns the records restored.
   */
  async restoreInterrupted(): Promise<StreamRecord[]> {
    const mine = (await this.#store.listStreamsInState('interrupted')).filter((r) => !this.#streams.has(r.id) && (r.lease === null || r.lease.nodeId === this.nodeId));
    const restored: StreamRecord[] = [];
    for (let i = 0; i < mine.length; i += MAX_ADOPT) {
      const chunk = mine.slice(i, i + MAX_ADOPT);
      const adopted = new Set(await this.#store.adoptInterrupted(this.nodeId, chunk.map((r) => r.id), this.#now()));
      restored.push(...chunk.filter((r) => adopted.has(r.id)));
    }
    for (const rec of restored) {
      if (this.#streams.has(rec.id)) continue;
      await this.#prepare(rec);
      this.#create(rec, 'interrupted');
    }
    if (restored.length) this.#log.info({ streams: restored.map((r) => r.id), graceMs: this.#graceMs }, 'streams interrupted by the previous process wait for their publishers to reconnect');
    return restored;
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
  async authorizePublish(
    streamKey: string,
    publisher: PublisherHandle,
    isOwnerDisabled: OwnerDisabledCheck = () => false,
    /** Runs after the decision and before the publisher attaches (an ingest learns its stream here). */
    prepare?: (stream: LiveStream) => void,
  ): Promise<PublishDecision> {
    const keyLog = { keyPrefix: secretPrefix(streamKey), remoteAddress: publisher.remoteAddress, protocol: publisher.protocol };
    const found = await this.#lookupKey(streamKey, isOwnerDisabled, keyLog);
    if (!found.ok) return found;
    const id = found.rec.id;
    // Refused here first when this node already has a live publisher: no store round trip.
    const local = this.#streams.get(id)?.publisher;
    if (local?.isAlive()) return this.#refuseBusy(keyLog, id);
    let now = this.#now();
    let claim = await this.#store.claimLive(id, { nodeId: this.nodeId, now, expiresAt: now + this.leaseMs, startedAt: now });
    const holder = !claim.ok && claim.why === 'held' ? claim.rec?.lease?.nodeId : undefined;
    if (holder && holder !== this.nodeId && (await this.#isNodeGone?.(holder))) {
      // The node holding it left the cluster (a kill -9): its publisher is back here, so the
      // stream is interrupted now (naming that node, as its lease's expiry would) and claimed.
      // Should that node still be alive, it learns at its next renewal that it lost the stream.
      now = this.#now();
      if (await this.#store.interruptLiveOf(id, holder, now)) {
        this.#log.warn({ ...keyLog, streamId: id, holder, nodeId: this.nodeId }, 'the node holding the stream left the cluster: interrupted before its lease expired, continuing here');
      }
      claim = await this.#store.claimLive(id, { nodeId: this.nodeId, now, expiresAt: now + this.leaseMs, startedAt: now });
    }
    if (!claim.ok) {
      if (claim.why === 'held') {
        this.#log.warn({ ...keyLog, streamId: id, holder: claim.rec?.lease?.nodeId, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' }, 'publish refused: the stream is live on another node');
        return { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'already publishing' };
      }
      return this.#refuseKey(keyLog, id, claim.why === 'ended' ? 'stream has ended' : 'unknown stream key');
    }
    const rec = claim.rec;
    // Another process served this stream (a node that died, or was stopped for a deploy, and was
    // interrupted; or whose lease just expired): this node continues it, from where that one left.
    const before = found.rec;
    const takeover = before.state === 'interrupted' || (before.state === 'live' && before.lease !== null && before.lease.nodeId !== this.nodeId);
    if (takeover && !this.#streams.has(id)) {
      await this.#prepare(before);
      this.#log.info({ ...keyLog, streamId: id, from: before.lease?.nodeId ?? null, nodeId: this.nodeId }, 'continuing a stream another process served');
    }
    // From here on nothing awaits: the in-memory decision and the attach are one step.
    let stream = this.#streams.get(id);
    if (stream?.state === 'ended') return this.#refuseKey(keyLog, id, 'stream has ended');
    stream ??= this.#create({ ...found.rec, startedAt: rec.startedAt }, found.rec.state === 'live' && takeover ? 'interrupted' : found.rec.state);
    const current = stream.publisher;
    if (current) {
      if (current.isAlive()) return this.#refuseBusy(keyLog, id);
      // The old connection went quiet (OBS reconnecting before the server saw the socket die).
      this.#log.info({ ...keyLog, streamId: id, replaced: current.id }, 'publisher takes over from a dead connection');
      stream.detachPublisher(current, 'replaced by a new connection', false, this.#graceMs);
      current.close('replaced by a new connection with the same key');
    }
    prepare?.(stream);
    stream.attachPublisher(publisher);
    this.#log.info({ ...keyLog, streamId: id, publisherId: publisher.id, nodeId: this.nodeId }, 'publish started');
    return { ok: true, stream };
  }

  /**
   * The same refusals as authorizePublish (unknown or disabled key, ended stream, a live publisher
   * already on it, here or on another node) without attaching anything: for publishers that
   * negotiate media after they present the key (the WebSocket signaling), so a bad key is refused
   * before any router exists. Advisory: authorizePublish's claim is what decides.
   */
  async checkPublish(
    streamKey: string,
    who: { remoteAddress: string; protocol: PublisherHandle['protocol'] },
    isOwnerDisabled: OwnerDisabledCheck = () => false,
  ): Promise<{ ok: true; streamId: string } | Extract<PublishDecision, { ok: false }>> {
    const keyLog = { keyPrefix: secretPrefix(streamKey), remoteAddress: who.remoteAddress, protocol: who.protocol };
    const found = await this.#lookupKey(streamKey, isOwnerDisabled, keyLog);
    if (!found.ok) return found;
    const rec = found.rec;
    if (this.#streams.get(rec.id)?.publisher?.isAlive()) return this.#refuseBusy(keyLog, rec.id);
    if (rec.state === 'live' && rec.lease && rec.lease.nodeId !== this.nodeId && rec.lease.expiresAt > this.#now() && !(await this.#isNodeGone?.(rec.lease.nodeId))) return this.#refuseBusy(keyLog, rec.id);
    return { ok: true, streamId: rec.id };
  }

  /** Waits until every queued store write has run (shutdown calls this before closing the store). */
  async flush(): Promise<void> {
    await this.#writes.drain();
  }

  /** Stops the lease timer and waits for a renewal in progress. */
  async stopLeaseRenewal(): Promise<void> {
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
    await this.#renewing;
  }

  #refuseBusy(keyLog: Record<string, unknown>, streamId: string): Extract<PublishDecision, { ok: false }> {
    this.#log.warn({ ...keyLog, streamId, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' }, 'publish refused: stream key is already publishing');
    return { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'already publishing' };
  }

  #refuseKey(keyLog: Record<string, unknown>, streamId: string | undefined, reason: 'unknown stream key' | 'stream has ended'): Extract<PublishDecision, { ok: false }> {
    const msg = reason === 'stream has ended' ? 'publish refused: the stream has ended; create a new stream' : 'publish refused: unknown stream key';
    this.#log.warn({ ...keyLog, ...(streamId ? { streamId } : {}), code: 'SHOWCASE_ERR_RTMP_BAD_KEY' }, msg);
    return { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason };
  }

  /** The stream record a key opens, or why it opens none (logged once, here). */
  async #lookupKey(streamKey: string, isOwnerDisabled: OwnerDisabledCheck, keyLog: Record<string, unknown>): Promise<{ ok: true; rec: StreamRecord } | Extract<PublishDecision, { ok: false }>> {
    const rec = await this.#store.getStreamByKeyHash(hashSecret(streamKey));
    if (!rec || (await isOwnerDisabled(rec))) return this.#refuseKey(keyLog, undefined, 'unknown stream key');
    if (rec.state === 'ended') return this.#refuseKey(keyLog, rec.id, 'stream has ended');
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

  /** Queues a store write for a stream behind its earlier ones (order kept, failures logged, never awaited by media). */
  #queueWrite(streamId: string, what: string, fn: () => Promise<unknown>): void {
    this.#writes.run(streamId, fn).catch((err) => this.#log.error({ err, streamId, write: what, code: 'SHOWCASE_ERR_STORE_WRITE_FAILED' }, 'stream state could not be written to the store'));
  }

  /** Runs prepareContinue for a stream about to continue here; a failure is logged, the stream goes on without it. */
  async #prepare(rec: StreamRecord): Promise<void> {
    try {
      await this.#prepareContinue?.(rec);
    } catch (err) {
      this.#log.error({ err, streamId: rec.id }, 'preparing the continuation of a stream failed: it continues with fresh HLS numbering');
    }
  }

  /** A new in-memory LiveStream for a record, wired and announced (outputs attach). */
  #create(rec: StreamRecord, state: StreamRecord['state']): LiveStream {
    const stream = new LiveStream(rec.id, state);
    stream.practice = rec.practice === true;
    stream.startedAt = rec.startedAt;
    this.#wire(stream);
    this.#streams.set(rec.id, stream);
    this.safeEmit('stream', stream);
    return stream;
  }

  #wire(stream: LiveStream): void {
    stream.onListenerError = (event, error) => this.#log.error({ err: error, event, streamId: stream.id }, 'stream listener failed');
    stream.on('state', (state, reason) => {
      this.#log.info({ streamId: stream.id, state, reason }, 'stream state changed');
      // Going live was written by the claim, before the publisher attached.
      if (state === 'live') return;
      // Interrupted (a deploy) keeps an expired lease naming this node: its next process restores
      // it, or the node its publisher reconnects to claims it.
      const patch = state === 'interrupted' ? { state, interruptedAt: this.#now() } : { state, endedAt: stream.endedAt ?? this.#now(), endReason: reason };
      this.#queueWrite(stream.id, state, () => this.#store.releaseLive(stream.id, this.nodeId, patch));
    });
  }
}
