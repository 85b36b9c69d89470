import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../core/logger.js';
import type { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import { SignalPeer, type SignalPeerLimits } from './signal-peer.js';
import type { TransportTimeouts } from '../webrtc/transport-watchdog.js';
import type { WhepPlayback } from '../playback/whep/whep-playback.js';
import type { WhipIngest } from '../ingest/whip/whip-ingest.js';
import { rejectUpgrade as reject, type UpgradeTarget } from '../http/upgrade-router.js';
import { SocketHeartbeat, closeSockets } from '../http/socket-heartbeat.js';

/** Server-wide signaling limits on top of each socket's. */
export interface SignalServerLimits extends SignalPeerLimits {
  /** Open signaling sockets on the server. */
  maxConnections: number;
  /** Open signaling sockets from one address. */
  maxConnectionsPerIp: number;
  /** A ws ping goes out this often; a socket that answered none since the last one is dropped. */
  heartbeatMs: number;
}

export interface SignalServerOptions {
  ingest: WhipIngest;
  playback?: WhepPlayback;
  limiter?: AuthFailureLimiter;
  limits: SignalServerLimits;
  viewerTimeouts: TransportTimeouts;
  logger: Logger;
  /** The URL path the upgrade is accepted on. */
  path?: string;
}

/** Where the signaling is mounted by default. */
export const SIGNAL_PATH = '/v1/signal';

/**
 * The WebSocket signaling endpoint for the project's own pages (the /studio publisher and
 * mediasoup-client viewers): handed its upgrades by the UpgradeRouter (src/http/upgrade-router.ts),
 * capped per address and in total, one heartbeat timer for every socket, and closed (every socket
 * and what it holds) on shutdown. The per-socket protocol is SignalPeer's.
 */
export class SignalServer implements UpgradeTarget {
  readonly path: string;
  readonly #o: SignalServerOptions;
  readonly #log: Logger;
  readonly #wss: WebSocketServer;
  readonly #peers = new Set<SignalPeer>();
  readonly #perIp = new Map<string, number>();
  readonly #heartbeat: SocketHeartbeat;
  #closed = false;

  constructor(o: SignalServerOptions) {
    this.#o = o;
    this.path = o.path ?? SIGNAL_PATH;
    this.#log = o.logger.child({ component: 'signal' });
    this.#heartbeat = new SocketHeartbeat(o.limits.heartbeatMs);
    // maxPayload is the hard cap (ws closes with 1009 past it, unread); frames between the soft
    // limit and it are read and answered SHOWCASE_ERR_SIGNAL_TOO_LARGE, so the socket stays usable.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: o.limits.maxMessageBytes * 4, perMessageDeflate: false, clientTracking: false });
  }

  /** Open sockets. */
  get size(): number {
    return this.#peers.size;
  }

  /** Sockets per role now (tests and metrics). */
  counts(): { publishers: number; viewers: number; unjoined: number } {
    const out = { publishers: 0, viewers: 0, unjoined: 0 };
    for (const p of this.#peers) {
      if (p.role === 'publisher') out.publishers++;
      else if (p.role === 'viewer') out.viewers++;
      else out.unjoined++;
    }
    return out;
  }

  /** Takes an upgrade the router matched to this.path, within the server's caps. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.#log.debug({ err }, 'signaling upgrade socket error'));
    const ip = req.socket.remoteAddress ?? 'unknown';
    const l = this.#o.limits;
    if (this.#closed) return reject(socket, 503, 'Service Unavailable');
    if (this.#peers.size >= l.maxConnections) {
      this.#log.warn({ remoteAddress: ip, limit: l.maxConnections }, 'signaling socket refused: server limit');
      return reject(socket, 503, 'Service Unavailable');
    }
    if ((this.#perIp.get(ip) ?? 0) >= l.maxConnectionsPerIp) {
      this.#log.warn({ remoteAddress: ip, limit: l.maxConnectionsPerIp }, 'signaling socket refused: per-address limit');
      return reject(socket, 429, 'Too Many Requests');
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#add(ws, ip));
  }

  #add(ws: WebSocket, ip: string): void {
    if (this.#closed) {
      ws.close(1001, 'server stopping');
      return;
    }
    const peer = new SignalPeer(ws, ip, {
      ingest: this.#o.ingest,
      playback: this.#o.playback,
      limiter: this.#o.limiter,
      limits: this.#o.limits,
      viewerTimeouts: this.#o.viewerTimeouts,
      logger: this.#log,
      onClosed: (p) => this.#remove(p),
    });
    this.#peers.add(peer);
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    this.#heartbeat.add(ws, () => {
      this.#log.info({ remoteAddress: peer.remoteAddress, role: peer.role }, 'signaling socket silent (no pong): dropped');
      peer.close('signaling socket silent (no pong)', { graceful: false });
    });
  }

  #remove(peer: SignalPeer): void {
    if (!this.#peers.delete(peer)) return;
    const n = (this.#perIp.get(peer.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(peer.remoteAddress);
    else this.#perIp.set(peer.remoteAddress, n);
  }

  /**
   * Stops accepting, closes every socket's role (a live publisher's stream ends) and the sockets
   * (1001); sockets that do not finish the close handshake within a second are terminated.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeat.close();
    const peers = [...this.#peers];
    for (const p of peers) p.close('server stopping', { graceful: true });
    await closeSockets(peers.map((p) => p.ws));
    this.#wss.close();
    if (peers.length) this.#log.info({ sockets: peers.length }, 'signaling sockets closed');
  }
}
