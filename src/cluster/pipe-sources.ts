import type { types } from 'mediasoup';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PlaybackSource } from '../webrtc/stream-fanout.js';
import type { WorkerPool } from '../webrtc/worker-pool.js';
import { viewOf, type PipeView } from './pipe-holder.js';
import { PipeRequestError, pipeFailed, type PipeClient, type PipeEvent, type PipeOpened, type PipeState, type PipedProducer } from './pipe-protocol.js';

export interface PipedSourcesOptions {
  selfId: string;
  pool: WorkerPool;
  /** Where this node's end of a pipe listens. */
  listenInfo(): types.TransportListenInfo;
  /** The other node holding a live stream, from its lease (undefined: nobody else, or not in the set). */
  holderOf(streamId: string): Promise<{ nodeId: string; url: string } | undefined>;
  /** Whether a node is still in the set (its heartbeat in Redis). */
  inSet(nodeId: string): boolean;
  client: PipeClient;
  /** WebRTC viewers of a stream on this node now, joins in flight included (WhepPlayback.viewers). */
  viewers(streamId: string): number;
  /** Closes the stream's viewers here if `source` is still its WHEP source (WhepPlayback.removeSource). */
  dropSource(streamId: string, source: PlaybackSource, reason: string): void;
  keepaliveMs: number;
  /** The holder silent this long (keep-alives failing) is gone. */
  timeoutMs: number;
  idleStopMs: number;
  maxPipes: number;
  logger: Logger;
}

/** Why a piped source ended, as the viewers' sessions are told (typed: never matched as text). */
export type PipeEndCause = 'idle' | 'holder-closed' | 'holder-gone' | 'router-closed' | 'stopping';

/** One stream piped here from the node holding it. */
interface TakenPipe {
  streamId: string;
  holderId: string;
  holderUrl: string;
  pipeId: string;
  router: types.Router;
  transport: types.PipeTransport;
  /** The holder's producer id -> this node's producer. */
  producers: Map<string, types.Producer>;
  source: PlaybackSource;
  keepalive?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  /** When the holder last answered a keep-alive. */
  lastAnswer: number;
  asking: boolean;
  closed: boolean;
}

interface Entry {
  pending?: Promise<TakenPipe | undefined>;
  pipe?: TakenPipe;
}

/**
 * The viewer node's side of the WebRTC pipe: a WHEP (or signaling) viewer of a stream another node
 * holds gets a source here whose producers come from that node over a mediasoup PipeTransport with
 * SRTP. One pipe per stream per node, shared by all its viewers here through the usual fan-out; it
 * is torn down idleStopMs after the last viewer left, when the holder says the stream stopped, when
 * the holder leaves the set or stops answering keep-alives (the viewers' sessions are closed with
 * SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE), or when its router closes (worker death).
 */
export class PipedSources {
  readonly #o: PipedSourcesOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  #closed = false;
  /** Pipes ever built, and those ended because the holder was gone (tests and the operator read them). */
  opened = 0;
  holderGone = 0;

  constructor(o: PipedSourcesOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'cluster-pipe', side: 'viewer' });
  }

  /** Pipes built or being built. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The source of a stream another node holds, piping it here on its first viewer; undefined when
   * no other node in the set holds it live (or it cannot be played over WebRTC there: the viewer
   * gets the same 404/409 as on one node). Throws SHOWCASE_ERR_WHEP_FULL past maxPipes and
   * SHOWCASE_ERR_CLUSTER_PIPE_FAILED when the holder is there but the pipe cannot be built.
   */
  async sourceFor(streamId: string): Promise<PlaybackSource | undefined> {
    if (this.#closed) return undefined;
    const known = this.#entries.get(streamId);
    if (known) {
      const pipe = known.pipe ?? await known.pending?.catch(() => undefined);
      return pipe && !pipe.closed ? pipe.source : undefined;
    }
    const holder = await this.#o.holderOf(streamId);
    if (!holder || this.#closed) return undefined;
    // Another viewer's request may have started it while the lease was read.
    if (this.#entries.has(streamId)) return this.sourceFor(streamId);
    if (this.#entries.size >= this.#o.maxPipes) throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'this node takes as many streams from other nodes as it may', { scope: 'pipes', limit: this.#o.maxPipes });
    const entry: Entry = {};
    this.#entries.set(streamId, entry);
    entry.pending = this.#open(streamId, holder.nodeId, holder.url);
    let pipe: TakenPipe | undefined;
    try {
      pipe = await entry.pending;
    } catch (err) {
      if (this.#entries.get(streamId) === entry) this.#entries.delete(streamId);
      throw err;
    }
    entry.pending = undefined;
    if (!pipe || this.#closed) {
      if (pipe) this.#end(pipe, 'stopping', 'server stopping', true);
      if (this.#entries.get(streamId) === entry) this.#entries.delete(streamId);
      return undefined;
    }
    entry.pipe = pipe;
    // A viewer whose join fails never leaves: check once the grace passed anyway.
    this.#scheduleIdleCheck(pipe);
    return pipe.source;
  }

  /** A WebRTC viewer of the stream left: with none left after idleStopMs, the pipe is torn down. */
  viewerLeft(streamId: string): void {
    const pipe = this.#entries.get(streamId)?.pipe;
    if (pipe) this.#scheduleIdleCheck(pipe);
  }

  /** An event the holding node pushed about one of its pipes to this node (unknown pipes are ignored). */
  onEvent(holderId: string, pipeId: string, event: PipeEvent): boolean {
    const pipe = this.#byPipeId(holderId, pipeId);
    if (!pipe) return false;
    if (event.type === 'closed') this.#end(pipe, 'holder-closed', `the stream stopped on ${holderId}: ${event.reason}`, false);
    else this.#mirror(pipe, event.producerId, event.type === 'paused');
    return true;
  }

  /** Every pipe taken from other nodes, as an operator sees it. */
  async views(): Promise<Array<PipeView & { viewers: number }>> {
    const pipes = [...this.#entries.values()].map((e) => e.pipe).filter((p): p is TakenPipe => p !== undefined && !p.closed);
    return Promise.all(pipes.map(async (p) => ({ ...(await viewOf(p.pipeId, p.streamId, p.holderId, p.transport, p.producers.size)), viewers: this.#o.viewers(p.streamId) })));
  }

  /** Tears down every pipe (the holders are told) and takes no more. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pipes = [...this.#entries.values()].map((e) => e.pipe).filter((p): p is TakenPipe => p !== undefined);
    await Promise.all(pipes.map((p) => this.#end(p, 'stopping', 'server stopping', true)));
  }

  async #open(streamId: string, holderId: string, holderUrl: string): Promise<TakenPipe | undefined> {
    const client = this.#o.client;
    let opened: PipeOpened;
    try {
      opened = await client.call<PipeOpened>(holderUrl, 'POST', '/v1/cluster/pipes', { streamId });
    } catch (err) {
      // The holder answers like a single node would (not live over WebRTC there, hidden, unknown):
      // the viewer gets the same refusal here. Anything else is a pipe failure.
      const e = err as PipeRequestError;
      if (e instanceof PipeRequestError && (e.status === 404 || e.status === 409)) return undefined;
      if (e instanceof PipeRequestError && e.code === 'SHOWCASE_ERR_WHEP_FULL') throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'the node holding this stream takes no more WebRTC viewers', { scope: 'holder' });
      this.#log.warn({ err, streamId, holder: holderId, code: 'SHOWCASE_ERR_CLUSTER_PIPE_FAILED' }, 'opening a pipe on the holding node failed');
      throw pipeFailed(streamId, err);
    }
    let router: types.Router | undefined;
    try {
      router = await this.#o.pool.createRouter(`pipe:${streamId}`, opened.codecs);
      const transport = await router.createPipeTransport({ listenInfo: this.#o.listenInfo(), enableSrtp: true, enableRtx: true });
      await transport.connect({ ip: opened.ip, port: opened.port, srtpParameters: opened.srtpParameters });
      const { producers } = await client.call<{ producers: PipedProducer[] }>(holderUrl, 'POST', `/v1/cluster/pipes/${opened.pipeId}/connect`, {
        ip: transport.tuple.localAddress, port: transport.tuple.localPort, srtpParameters: transport.srtpParameters,
      });
      const local = new Map<string, types.Producer>();
      for (const p of producers) {
        local.set(p.id, await transport.produce({ kind: p.kind, rtpParameters: p.rtpParameters, paused: p.paused }));
      }
      if (local.size === 0) throw new Error('the holder piped no producer');
      const pipe: TakenPipe = {
        streamId, holderId, holderUrl, pipeId: opened.pipeId, router, transport, producers: local,
        source: { streamId, router, producers: [...local.values()] },
        lastAnswer: Date.now(), asking: false, closed: false,
      };
      // A worker dying under the pipe's router: the viewers here go, the holder is told.
      router.observer.once('close', () => this.#end(pipe, 'router-closed', 'the pipe\'s router closed (worker gone)', true));
      pipe.keepalive = setInterval(() => this.#keepalive(pipe), this.#o.keepaliveMs);
      pipe.keepalive.unref();
      this.opened++;
      this.#log.info({ streamId, holder: holderId, pipeId: opened.pipeId, local: transport.tuple, remote: { ip: opened.ip, port: opened.port }, cryptoSuite: transport.srtpParameters?.cryptoSuite, producers: local.size }, 'stream piped from its holding node');
      return pipe;
    } catch (err) {
      router?.close();
      client.call(holderUrl, 'DELETE', `/v1/cluster/pipes/${opened.pipeId}`).catch(() => {});
      if (err instanceof ShowcaseError) throw err;
      this.#log.warn({ err, streamId, holder: holderId, code: 'SHOWCASE_ERR_CLUSTER_PIPE_FAILED' }, 'building a pipe from the holding node failed');
      throw pipeFailed(streamId, err);
    }
  }

  #byPipeId(holderId: string, pipeId: string): TakenPipe | undefined {
    for (const e of this.#entries.values()) if (e.pipe?.pipeId === pipeId && e.pipe.holderId === holderId) return e.pipe;
    return undefined;
  }

  #mirror(pipe: TakenPipe, producerId: string, paused: boolean): void {
    const p = pipe.producers.get(producerId);
    if (!p || p.closed || p.paused === paused) return;
    (paused ? p.pause() : p.resume()).catch((err: unknown) => this.#log.debug({ err, producerId }, 'mirroring a pause failed'));
  }

  /** One keep-alive: the holder's answer mirrors pauses; a 404 means it dropped the pipe; silence past timeoutMs, or the holder out of the set, means it is gone. */
  #keepalive(pipe: TakenPipe): void {
    if (pipe.closed) return;
    if (!this.#o.inSet(pipe.holderId)) {
      this.#end(pipe, 'holder-gone', `${pipe.holderId} left the cluster`, false);
      return;
    }
    if (Date.now() - pipe.lastAnswer > this.#o.timeoutMs) {
      this.#end(pipe, 'holder-gone', `${pipe.holderId} did not answer for ${this.#o.timeoutMs} ms`, false);
      return;
    }
    if (pipe.asking) return;
    pipe.asking = true;
    this.#o.client.call<PipeState>(pipe.holderUrl, 'GET', `/v1/cluster/pipes/${pipe.pipeId}`).then((state) => {
      pipe.lastAnswer = Date.now();
      for (const p of state.producers) this.#mirror(pipe, p.id, p.paused);
    }, (err: unknown) => {
      if (err instanceof PipeRequestError && err.status === 404) this.#end(pipe, 'holder-closed', `${pipe.holderId} no longer has this pipe (the stream stopped there)`, false);
    }).finally(() => { pipe.asking = false; });
  }

  #scheduleIdleCheck(pipe: TakenPipe): void {
    if (pipe.closed) return;
    if (pipe.idleTimer) clearTimeout(pipe.idleTimer);
    pipe.idleTimer = setTimeout(() => {
      pipe.idleTimer = undefined;
      // A viewer joined meanwhile: its leaving schedules the next check.
      if (this.#o.viewers(pipe.streamId) > 0) return;
      void this.#end(pipe, 'idle', `no WebRTC viewer here for ${this.#o.idleStopMs} ms`, true);
    }, this.#o.idleStopMs);
    pipe.idleTimer.unref();
  }

  /** Ends a pipe once: the viewers here are closed with the cause, the router goes, the holder is told when it did not say so itself. */
  async #end(pipe: TakenPipe, cause: PipeEndCause, detail: string, tellHolder: boolean): Promise<void> {
    if (pipe.closed) return;
    pipe.closed = true;
    if (pipe.keepalive) clearInterval(pipe.keepalive);
    if (pipe.idleTimer) clearTimeout(pipe.idleTimer);
    const entry = this.#entries.get(pipe.streamId);
    if (entry?.pipe === pipe) this.#entries.delete(pipe.streamId);
    const code = cause === 'holder-gone' ? 'SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE' : undefined;
    if (code) this.holderGone++;
    const reason = code ? `${code}: ${detail}` : detail;
    this.#o.dropSource(pipe.streamId, pipe.source, reason);
    if (!pipe.router.closed) pipe.router.close();
    const log = { streamId: pipe.streamId, holder: pipe.holderId, pipeId: pipe.pipeId, cause, reason: detail, ...(code ? { code } : {}) };
    if (code) this.#log.warn(log, 'pipe from the holding node ended: the holder is gone');
    else this.#log.info(log, 'pipe from the holding node ended');
    if (tellHolder) {
      await this.#o.client.call(pipe.holderUrl, 'DELETE', `/v1/cluster/pipes/${pipe.pipeId}`).catch((err: unknown) => {
        this.#log.debug({ err, pipeId: pipe.pipeId }, 'telling the holder its pipe ended failed (it drops it after its timeout)');
      });
    }
  }
}
