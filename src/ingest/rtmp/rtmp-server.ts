/**
 * Showcase's own RTMP ingest server. We do not use node-media-server's socket layer: measured here
 * (shared/notes/rtmp-ingest-facts.md), it allocates whatever a chunk header declares before checking
 * it, so a few hostile connections cost hundreds of MB. This server enforces connection, handshake,
 * idle, chunk-size, message-size and buffered-byte limits before it allocates anything.
 */
import net from 'node:net';
import { TypedEmitter } from '../../core/typed-emitter.js';
import type { Logger } from '../../core/logger.js';
import { RtmpConnection } from './rtmp-connection.js';
import type { RtmpLimits, RtmpPublishDecision, RtmpPublishRequest } from './rtmp-types.js';

export type { RtmpLimits, RtmpPublishDecision, RtmpPublishRequest, RtmpPublisherSink, RtmpConnectionInfo } from './rtmp-types.js';

export interface RtmpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The application name accepted (rtmp://host/<app>/<key>). */
  app: string;
  limits: RtmpLimits;
  logger: Logger;
  onPublish(req: RtmpPublishRequest): RtmpPublishDecision | Promise<RtmpPublishDecision>;
}

export type RtmpServerEvents = {
  connection: [id: string, remoteAddress: string];
  refused: [reason: string];
};

/** Defaults matching the config schema. */
export const defaultRtmpLimits: RtmpLimits = {
  maxConnections: 1000,
  maxConnectionsPerIp: 50,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 15000,
  maxChunkSize: 65536,
  maxMessageSize: 8 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxChunkStreams: 64,
};

/** Accepts RTMP publishers; every connection is tracked, bounded and closed on close(). */
export class RtmpServer extends TypedEmitter<RtmpServerEvents> {
  readonly #opts: RtmpServerOptions;
  readonly #server: net.Server;
  readonly #conns = new Set<RtmpConnection>();
  readonly #perIp = new Map<string, number>();
  readonly #refusals: Record<string, number> = {};
  #bytes = 0;
  #publishing = 0;
  #closed = false;

  constructor(opts: RtmpServerOptions) {
    super();
    this.#opts = opts;
    this.#server = net.createServer((s) => this.#accept(s));
    this.#server.on('error', (err) => opts.logger.error({ err }, 'RTMP server error'));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject);
        const a = this.#server.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Stops listening and closes every connection (publisher sinks get onClose). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#conns]) c.close('server stopping');
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** Counters for /metrics. */
  stats(): { connections: number; publishing: number; bytesReceived: number; refusals: Record<string, number> } {
    return { connections: this.#conns.size, publishing: this.#publishing, bytesReceived: this.#bytes, refusals: { ...this.#refusals } };
  }

  #refuse(reason: string): void {
    this.#refusals[reason] = (this.#refusals[reason] ?? 0) + 1;
    this.safeEmit('refused', reason);
  }

  #accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const limits = this.#opts.limits;
    if (this.#closed || this.#conns.size >= limits.maxConnections) {
      this.#refuse('limit-connections');
      socket.destroy();
      return;
    }
    const n = this.#perIp.get(ip) ?? 0;
    if (n >= limits.maxConnectionsPerIp) {
      this.#refuse('limit-per-ip');
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
      onBytes: (b) => (this.#bytes += b),
      onPublishing: (active) => (this.#publishing += active ? 1 : -1),
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
