import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';

/** What the router hands an upgrade to: a socket server that applies its own caps and limits. */
export interface UpgradeTarget {
  /** Takes (or refuses, with an HTTP answer) an upgrade the router matched to it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string): void;
}

/** One route: a name for logs, and the paths it serves (an exact path, or a test on the pathname). */
interface UpgradeRoute {
  name: string;
  matches: (pathname: string) => boolean;
  target: UpgradeTarget;
}

/**
 * An admission check run before any route takes an upgrade (practice mode hides streams' rooms):
 * resolves to an HTTP status to refuse with, or undefined to let the upgrade through.
 */
export type UpgradeGate = (pathname: string, query: URLSearchParams) => Promise<number | undefined>;

const STATUS_TEXT: Record<number, string> = { 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Upgrade request URLs longer than this are refused before parsing. */
const MAX_URL_CHARS = 2048;

/**
 * The HTTP server's only 'upgrade' listener: it dispatches WebSocket upgrades by path to the
 * socket servers (the signaling, the room) and refuses every other path with 404, however many
 * socket servers exist. Each socket server keeps its own caps, limits and shutdown.
 */
export class UpgradeRouter {
  readonly #routes: UpgradeRoute[] = [];
  readonly #gates: UpgradeGate[] = [];
  readonly #log: Logger;
  #server?: Server;
  /** Upgrades refused because no route matched (tests and logs). */
  refused = 0;
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.#dispatch(req, socket, head);

  constructor(logger: Logger) {
    this.#log = logger.child({ component: 'upgrade-router' });
  }

  /** Starts answering the server's upgrade requests. */
  attach(server: Server): void {
    if (this.#server) return;
    this.#server = server;
    server.on('upgrade', this.#onUpgrade);
  }

  /** Routes upgrades whose pathname is `path` (a string) or passes `path` (a test) to target. */
  route(name: string, path: string | ((pathname: string) => boolean), target: UpgradeTarget): void {
    const matches = typeof path === 'string' ? (p: string) => p === path : path;
    this.#routes.push({ name, matches, target });
  }

  /** Adds an admission check every upgrade passes before its route takes it. */
  gate(check: UpgradeGate): void {
    this.#gates.push(check);
  }

  /** Routes served now, by name. */
  get routes(): string[] {
    return this.#routes.map((r) => r.name);
  }

  #dispatch(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.#log.debug({ err }, 'upgrade socket error'));
    let pathname = '';
    let query = new URLSearchParams();
    const url = req.url ?? '/';
    if (url.length <= MAX_URL_CHARS) {
      try {
        const parsed = new URL(url, 'http://localhost');
        pathname = parsed.pathname;
        query = parsed.searchParams;
      } catch {
        /* an unparsable URL matches nothing */
      }
    }
    const route = pathname ? this.#routes.find((r) => r.matches(pathname)) : undefined;
    if (!route) {
      this.refused++;
      this.#log.debug({ path: pathname.slice(0, 200), remoteAddress: req.socket.remoteAddress }, 'upgrade refused: no socket server on that path');
      return rejectUpgrade(socket, 404, 'Not Found');
    }
    if (this.#gates.length === 0) return this.#hand(route, req, socket, head, pathname);
    void (async () => {
      for (const check of this.#gates) {
        const status = await check(pathname, query);
        if (status !== undefined) return rejectUpgrade(socket, status, STATUS_TEXT[status] ?? 'Refused');
      }
      if (!socket.destroyed) this.#hand(route, req, socket, head, pathname);
    })().catch((err: unknown) => {
      this.#log.error({ err, route: route.name }, 'upgrade gate failed');
      rejectUpgrade(socket, 503, 'Service Unavailable');
    });
  }

  #hand(route: UpgradeRoute, req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string): void {
    try {
      route.target.handleUpgrade(req, socket, head, pathname);
    } catch (err) {
      this.#log.error({ err, route: route.name }, 'upgrade handler threw');
      rejectUpgrade(socket, 500, 'Internal Server Error');
    }
  }

  /** Stops listening for upgrades (the socket servers close their own sockets). */
  close(): void {
    this.#server?.off('upgrade', this.#onUpgrade);
    this.#server = undefined;
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
