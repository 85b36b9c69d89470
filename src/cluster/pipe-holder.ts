import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { ShowcaseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ViewerPlacement } from '../playback/whep/whep-playback.js';
import { routerCodecs, type PipeClient, type PipeEndpoint, type PipeEvent, type PipeOpened, type PipeState, type PipedProducer } from './pipe-protocol.js';

export interface PipeHolderOptions {
  /** A place on one of the stream's edge routers, counted like a viewer (WhepPlayback.placeViewer). */
  place(streamId: string, remoteAddress: string): Promise<ViewerPlacement>;
  /** Where the pipe's UDP transport listens (asked per pipe: the host's addresses may change). */
  listenInfo(): types.TransportListenInfo;
  /** The base URL of a node in the set (where its pipe events are pushed); undefined once it left. */
  nodeUrl(nodeId: string): string | undefined;
  client: PipeClient;
  /** A viewer node whose keep-alives stopped this long is gone: its pipe is dropped. */
  timeoutMs: number;
  maxPipes: number;
  logger: Logger;
}

/** One stream piped from here to one other node. */
interface HeldPipe {
  id: string;
  streamId: string;
  nodeId: string;
  placement: ViewerPlacement;
  transport: types.PipeTransport;
  consumers: types.Consumer[];
  connected: boolean;
  lastSeen: number;
  closed: boolean;
}

/** What an operator (and the tests) see of a pipe: never its SRTP key. */
export interface PipeView {
  pipeId: string;
  streamId: string;
  /** The other node. */
  node: string;
  local: { ip: string; port: number };
  remote?: { ip: string; port: number };
  srtp: { cryptoSuite: string } | null;
  producers: number;
  bytesSent: number;
  bytesReceived: number;
}

/**
 * The holding node's side of the WebRTC pipe: a viewer node opens a pipe for a stream held here; it
 * gets a place on one of the stream's edge routers (counted as a viewer: an RTMP stream's WebRTC
 * feed runs while it lasts), a PipeTransport with SRTP on that edge router, and, once the viewer
 * node sent its end, one pipe consumer per producer. Producer pauses and the pipe's end are pushed to
 * the viewer node; the viewer node's keep-alives say it is still there (pipes it stopped asking
 * about are dropped after timeoutMs). Bounded by maxPipes; close() drops every pipe.
 */
export class PipeHolder {
  readonly #o: PipeHolderOptions;
  readonly #log: Logger;
  readonly #pipes = new Map<string, HeldPipe>();
  readonly #sweep: NodeJS.Timeout;
  #closed = false;

  constructor(o: PipeHolderOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'cluster-pipe', side: 'holder' });
    this.#sweep = setInterval(() => this.#expire(), Math.max(100, Math.floor(o.timeoutMs / 2)));
    this.#sweep.unref();
  }

  /** Pipes held now. */
  get size(): number {
    return this.#pipes.size;
  }

  /** Opens a pipe of a stream held here for another node: its UDP end and the router's codecs. */
  async open(streamId: string, nodeId: string): Promise<PipeOpened> {
    if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'server stopping');
    if (this.#pipes.size >= this.#o.maxPipes) throw new ShowcaseError('SHOWCASE_ERR_WHEP_FULL', 'this node pipes as many streams to other nodes as it may', { scope: 'pipes', limit: this.#o.maxPipes });
    // One place per pipe (not per node address): the per-address viewer cap is for people.
    const placement = await this.#o.place(streamId, `pipe:${nodeId}:${streamId}`);
    let transport: types.PipeTransport;
    try {
      transport = await placement.router.createPipeTransport({ listenInfo: this.#o.listenInfo(), enableSrtp: true, enableRtx: true });
    } catch (err) {
      placement.release();
      throw err;
    }
    const id = randomBytes(12).toString('base64url');
    const pipe: HeldPipe = { id, streamId, nodeId, placement, transport, consumers: [], connected: false, lastSeen: Date.now(), closed: false };
    this.#pipes.set(id, pipe);
    // The edge router closes with the stream (or its worker): the viewer node is told.
    transport.observer.once('close', () => this.#close(pipe, 'the stream stopped on its node', true));
    this.#log.info({ pipeId: id, streamId, node: nodeId, local: transport.tuple }, 'pipe opened for another node');
    return { pipeId: id, ip: transport.tuple.localAddress, port: transport.tuple.localPort, srtpParameters: transport.srtpParameters!, codecs: routerCodecs(placement.router) };
  }

  /** Connects a pipe to the viewer node's end and consumes the stream's producers into it. */
  async connect(pipeId: string, nodeId: string, remote: PipeEndpoint): Promise<{ producers: PipedProducer[] }> {
    const pipe = this.#get(pipeId, nodeId);
    if (pipe.connected) throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', 'this pipe is connected already');
    pipe.connected = true;
    pipe.lastSeen = Date.now();
    await pipe.transport.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
    const out: PipedProducer[] = [];
    for (const p of pipe.placement.producers) {
      const consumer = await pipe.transport.consume({ producerId: p.id });
      pipe.consumers.push(consumer);
      consumer.on('producerpause', () => this.#push(pipe, { type: 'paused', producerId: p.id }));
      consumer.on('producerresume', () => this.#push(pipe, { type: 'resumed', producerId: p.id }));
      consumer.on('producerclose', () => this.#close(pipe, 'the stream\'s source went away on its node', true));
      out.push({ id: p.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused });
    }
    if (pipe.closed) throw new ShowcaseError('SHOWCASE_ERR_WHEP_NOT_LIVE', 'the stream stopped while the pipe was being built');
    this.#log.info({ pipeId, streamId: pipe.streamId, node: nodeId, remote: { ip: remote.ip, port: remote.port }, producers: out.length, cryptoSuite: remote.srtpParameters.cryptoSuite }, 'pipe connected');
    pipe.placement.requestSourceKeyFrame?.();
    return { producers: out };
  }

  /** A viewer node's keep-alive: the pipe is still wanted; answers the producers' pause state. */
  keepalive(pipeId: string, nodeId: string): PipeState {
    const pipe = this.#get(pipeId, nodeId);
    pipe.lastSeen = Date.now();
    return { producers: pipe.consumers.filter((c) => !c.closed).map((c) => ({ id: c.producerId, paused: c.producerPaused })) };
  }

  /** The viewer node is done with the pipe (its last viewer left, or it stops). */
  remove(pipeId: string, nodeId: string): void {
    this.#close(this.#get(pipeId, nodeId), 'the viewer node closed it', false);
  }

  /** Every pipe held, as an operator sees it (SRTP suite, addresses, bytes). */
  async views(): Promise<PipeView[]> {
    return Promise.all([...this.#pipes.values()].map((p) => viewOf(p.id, p.streamId, p.nodeId, p.transport, p.consumers.length)));
  }

  /** Drops every pipe, telling the viewer nodes (their viewers are closed). Idempotent. */
  close(reason = 'server stopping'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const p of [...this.#pipes.values()]) this.#close(p, reason, true);
  }

  #get(pipeId: string, nodeId: string): HeldPipe {
    const pipe = this.#pipes.get(pipeId);
    // Another node's pipe answers as unknown: a node only ever handles its own.
    if (!pipe || pipe.nodeId !== nodeId) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such pipe');
    return pipe;
  }

  #expire(): void {
    const now = Date.now();
    for (const p of [...this.#pipes.values()]) {
      if (now - p.lastSeen > this.#o.timeoutMs) this.#close(p, `no keep-alive from ${p.nodeId} for ${this.#o.timeoutMs} ms`, false);
    }
  }

  #close(pipe: HeldPipe, reason: string, tell: boolean): void {
    if (pipe.closed) return;
    pipe.closed = true;
    if (this.#pipes.get(pipe.id) === pipe) this.#pipes.delete(pipe.id);
    if (!pipe.transport.closed) pipe.transport.close();
    pipe.placement.release();
    this.#log.info({ pipeId: pipe.id, streamId: pipe.streamId, node: pipe.nodeId, reason }, 'pipe to another node closed');
    if (tell) this.#push(pipe, { type: 'closed', reason });
  }

  /** Tells the viewer node (fire and forget: its keep-alive finds out anyway, within a keep-alive or so). */
  #push(pipe: HeldPipe, event: PipeEvent): void {
    const url = this.#o.nodeUrl(pipe.nodeId);
    if (!url) return;
    this.#o.client.call(url, 'POST', `/v1/cluster/pipes/${pipe.id}/events`, event).catch((err: unknown) => {
      this.#log.debug({ err, pipeId: pipe.id, event: event.type }, 'telling the viewer node about its pipe failed');
    });
  }
}

/** A pipe transport as PipeView (its stats read now: closed transports read as zero bytes). */
export async function viewOf(pipeId: string, streamId: string, node: string, transport: types.PipeTransport, producers: number): Promise<PipeView> {
  let bytesSent = 0;
  let bytesReceived = 0;
  if (!transport.closed) {
    for (const s of await transport.getStats().catch(() => [])) {
      bytesSent += s.bytesSent;
      bytesReceived += s.bytesReceived;
    }
  }
  const t = transport.tuple;
  return {
    pipeId,
    streamId,
    node,
    local: { ip: t.localAddress, port: t.localPort },
    ...(t.remoteIp !== undefined && t.remotePort !== undefined ? { remote: { ip: t.remoteIp, port: t.remotePort } } : {}),
    srtp: transport.srtpParameters ? { cryptoSuite: transport.srtpParameters.cryptoSuite } : null,
    producers,
    bytesSent,
    bytesReceived,
  };
}
