/**
 * Showcase's own RTMP ingest server. We chose not to use node-media-server's socket layer because it
 * cannot be guarded before allocation: measured here (shared/notes/rtmp-ingest-facts.md), it
 * allocates whatever a chunk header declares, and random bytes after a valid handshake grew it to
 * GBs of RSS. This server enforces connection, per-IP, handshake, idle, chunk-size, message-size,
 * chunk-stream and buffered-byte limits before it allocates anything for a peer.
 */
import net from 'node:net';
import { TypedEmitter } from '../../core/typed-emitter.js';
import type { Logger } from '../../core/logger.js';
import { RtmpConnection } from './rtmp-connection.js';
import { LogThrottle } from './log-throttle.js';
import { ReadCoalescer } from './read-coalescer.js';
import type { RtmpConnectionInfo, RtmpLimits, RtmpPublishDecision, RtmpPublishRequest } from './rtmp-types.js';

export type { RtmpLimits, RtmpPublishDecision, RtmpPublishRequest, RtmpPublisherSink, RtmpConnectionInfo } from './rtmp-types.js';

export interface RtmpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The application name accepted (rtmp://host/<app>/<key>); others are refused. */
  app: string;
  limits: RtmpLimits;
  /**
   * How long a publishing socket stops reading after a read, so the next wakeup reads more at once
   * (src/ingest/rtmp/read-coalescer.ts); the most latency it adds. 0 reads every burst at once.
   * Default DEFAULT_READ_COALESCE_MS.
   */
  readCoalesceMs?: number;
  logger: Logger;
  /** Decides whether a publish may start; called once per publish command with a valid key shape. */
  onPublish(req: RtmpPublishRequest): RtmpPublishDecision | Promise<RtmpPublishDecision>;
}

export type RtmpServerEvents = {
  connection: [id: string, remoteAddress: string];
  refused: [reason: string];
  publish: [req: RtmpPublishRequest];
  unpublish: [connection: RtmpConnectionInfo, reason: string];
};

/** Counters for /metrics. */
export interface RtmpServerStats {
  connections: number;
  publishing: number;
  bytesReceived: number;
  /** Socket reads handed to connections (each one a wakeup of the event loop's per-read path). */
  reads: number;
  /** Connections refused or closed for a reason, by reason ('bad-key', 'protocol-error', ...). */
  refusals: Record<string, number>;
}

/** Defaults matching the config schema. */
export const defaultRtmpLimits: RtmpLimits = Object.freeze({
  maxConnections: 1000,
  maxConnectionsPerIp: 50,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 15000,
  maxChunkSize: 65536,
  maxMessageSize: 8 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxChunkStreams: 64,
  maxPendingConnectCommands: 64,
});

/** One frame at 30 fps (33 ms): about 30 reads per stream-second instead of ~100 (one per video or audio burst). */
export const DEFAULT_READ_COALESCE_MS = 33;

/** Log lines per second that remote peers can cause (refusals, garbage) before they are summarized. */
const WARN_LINES_PER_SECOND = 20;

/** Accepts RTMP publishers; every connection is tracked, bounded and closed on close(). */
export class RtmpServer extends TypedEmitter<RtmpServerEvents> {
  readonly #opts: RtmpServerOptions;
  readonly #server: net.Server;
  readonly #conns = new Set<RtmpConnection>();
  readonly #perIp = new Map<string, number>();
  readonly #refusals: Record<string, number> = Object.create(null);
  readonly #warn: LogThrottle;
  readonly #coalescer: ReadCoalescer;
  #bytes = 0;
  #reads = 0;
  #publishing = 0;
  #listening = false;
  #closed = false;
  #port = 0;
  #closing: Promise<void> | undefined;

  constructor(opts: RtmpServerOptions) {
    super();
    this.#opts = opts;
    this.#warn = new LogThrottle(opts.logger, WARN_LINES_PER_SECOND, 'RTMP refusals');
    this.onListenerError = (event, error) => opts.logger.error({ err: error, event }, 'RTMP server event listener threw');
    this.#coalescer = new ReadCoalescer(opts.readCoalesceMs ?? DEFAULT_READ_COALESCE_MS);
    this.#server = net.createServer({ noDelay: true }, (s) => this.#accept(s));
    this.#server.on('error', (err) => opts.logger.error({ err }, 'RTMP server error'));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', onError);
        this.#listening = true;
        const a = this.#server.address() as net.AddressInfo;
        this.#port = a.port;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** The port it listens on (0 before listen: the API's ingest URLs read it per request). */
  get port(): number {
    return this.#port;
  }

  /** Stops listening and closes every connection (publisher sinks get onClose). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#coalescer.close();
    const stopped = this.#listening ? new Promise<void>((r) => this.#server.close(() => r())) : Promise.resolve();
    for (const c of [...this.#conns]) c.close('server stopping');
    await stopped;
  }

  /** Counters for /metrics. */
  stats(): RtmpServerStats {
    return { connections: this.#conns.size, publishing: this.#publishing, bytesReceived: this.#bytes, reads: this.#reads, refusals: { ...this.#refusals } };
  }

  #refuse(reason: string): void {
    this.#refusals[reason] = (this.#refusals[reason] ?? 0) + 1;
    this.safeEmit('refused', reason);
  }

  #accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const limits = this.#opts.limits;
    if (this.#closed) {
      socket.destroy();
      return;
    }
    if (this.#conns.size >= limits.maxConnections) {
      this.#refuse('limit-connections');
      this.#warn.warn({ remoteAddress: ip, reason: 'limit-connections', code: 'SHOWCASE_ERR_RTMP_LIMIT', limit: limits.maxConnections }, 'RTMP connection refused: server full');
      socket.destroy();
      return;
    }
    const n = this.#perIp.get(ip) ?? 0;
    if (n >= limits.maxConnectionsPerIp) {
      this.#refuse('limit-per-ip');
      this.#warn.warn({ remoteAddress: ip, reason: 'limit-per-ip', code: 'SHOWCASE_ERR_RTMP_LIMIT', limit: limits.maxConnectionsPerIp }, 'RTMP connection refused: too many from this address');
      socket.destroy();
      return;
    }
    this.#perIp.set(ip, n + 1);
    const conn = new RtmpConnection(socket, {
      limits,
      app: this.#opts.app,
      logger: this.#opts.logger,
      onPublish: (req) => this.#opts.onPublish(req),
      refuse: (reason) => this.#refuse(reason),
      warn: (fields, msg) => this.#warn.warn(fields, msg),
      holdReads: (s) => this.#coalescer.hold(s),
      releaseReads: (s) => this.#coalescer.forget(s),
      onBytes: (b) => {
        this.#bytes += b;
        this.#reads++;
      },
      onPublishStart: (_c, req) => {
        this.#publishing++;
        this.safeEmit('publish', req);
      },
      onPublishEnd: (c, reason) => {
        this.#publishing--;
        this.safeEmit('unpublish', c, reason);
      },
      onClose: (c) => {
        if (!this.#conns.delete(c)) return;
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
      },
    });
    this.#conns.add(conn);
    this.safeEmit('connection', conn.id, ip);
  }
}
