import { Agent, request, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';

/** The header a proxied request carries: the node it reaches never proxies it again (no loops). */
export const PROXIED_HEADER = 'x-showcase-proxied-by';

export interface HlsProxyOptions {
  selfId: string;
  /** Requests in flight at once; over it a 503. */
  maxConcurrent: number;
  /** The answer's status and headers must arrive within this long (blocking reloads are held by the other node). */
  timeoutMs: number;
  /** A body that stalls this long is cut. */
  idleTimeoutMs: number;
  logger: Logger;
}

/** Hop-by-hop headers (RFC 9110 7.6.1) are the connection's, not the answer's: never copied. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection']);
/** What of a player's request reaches the holding node (its range, its caching validators). */
const FORWARDED_REQUEST_HEADERS = ['range', 'if-none-match', 'if-modified-since', 'accept', 'user-agent'];

/**
 * Proxies an HLS request to the node holding the stream, keeping its status, headers (cache-control
 * above all: parts and segments stay cacheable by a CDN) and body. The body is piped, never
 * buffered; keep-alive connections per node keep a proxied part's extra latency to a round trip on
 * an open socket. Bounded: a cap on requests in flight, a deadline for the answer's headers, an
 * idle timeout on the body, and a client that leaves aborts its upstream request.
 */
export class HlsProxy {
  readonly #o: HlsProxyOptions;
  readonly #agent: Agent;
  readonly #httpsAgent: HttpsAgent;
  #inFlight = 0;
  /** Requests refused by the concurrency cap, and upstream failures (timeouts, refused connections). */
  rejected = 0;
  failed = 0;
  proxied = 0;

  constructor(o: HlsProxyOptions) {
    this.#o = o;
    const agentOpts = { keepAlive: true, maxSockets: o.maxConcurrent, maxFreeSockets: Math.min(256, o.maxConcurrent) };
    this.#agent = new Agent(agentOpts);
    this.#httpsAgent = new HttpsAgent(agentOpts);
  }

  /** Requests being proxied now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Sends the request to baseUrl (the holding node's node.url) and answers the player with what it
   * answered; resolves with the reply once the answer is under way (or an error was sent).
   * extraHeaders: request headers forwarded besides the player's usual ones (an API call's authorization).
   */
  async forward(req: FastifyRequest, reply: FastifyReply, baseUrl: string, extraHeaders: readonly string[] = []): Promise<FastifyReply> {
    if (this.#inFlight >= this.#o.maxConcurrent) {
      this.rejected++;
      reply.header('retry-after', '1').header('cache-control', 'no-store');
      return reply.status(503).send({ error: { code: 'SHOWCASE_ERR_CLUSTER_PROXY_BUSY', message: 'too many requests proxied to other nodes' } });
    }
    this.#inFlight++;
    let released = false;
    const release = () => {
      if (!released) { released = true; this.#inFlight--; }
    };
    const target = new URL(req.url, baseUrl);
    const headers: Record<string, string> = { [PROXIED_HEADER]: this.#o.selfId };
    for (const h of [...FORWARDED_REQUEST_HEADERS, ...extraHeaders]) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.ip].filter(Boolean).join(', ');
    const send = target.protocol === 'https:' ? httpsRequest : request;
    const upstream = send(target, { method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers, agent: target.protocol === 'https:' ? this.#httpsAgent : this.#agent });
    let res: IncomingMessage | undefined;
    // A player that goes away ends the upstream request; an answer fully sent frees its slot (its
    // keep-alive socket goes back to the agent: destroyed only when the answer is incomplete).
    let playerLeft = false;
    reply.raw.once('close', () => {
      release();
      if (res?.complete) return;
      playerLeft = res === undefined;
      upstream.destroy();
    });
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const deadline = setTimeout(() => upstream.destroy(new Error(`no answer within ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
        upstream.once('response', (r) => { clearTimeout(deadline); resolve(r); });
        upstream.once('error', (err) => { clearTimeout(deadline); reject(err); });
        upstream.end();
      });
    } catch (err) {
      release();
      // The player went away before the answer came: nothing failed, nobody to answer.
      if (playerLeft) return reply;
      this.failed++;
      this.#o.logger.warn({ err, url: target.href, code: 'SHOWCASE_ERR_CLUSTER_PROXY_FAILED' }, 'HLS request proxied to another node failed');
      if (reply.sent || reply.raw.destroyed) return reply;
      reply.header('cache-control', 'no-store').header('retry-after', '1');
      return reply.status(502).send({ error: { code: 'SHOWCASE_ERR_CLUSTER_PROXY_FAILED', message: 'the node holding this stream did not answer' } });
    }
    this.proxied++;
    const answer = res;
    const socket = answer.socket;
    // The socket is a keep-alive one that goes back to the agent: its idle timeout and our listener
    // are removed once this answer is over, or they would pile up over the requests it carries.
    const onIdle = () => answer.destroy(new Error(`proxied body idle for ${this.#o.idleTimeoutMs} ms`));
    socket?.setTimeout(this.#o.idleTimeoutMs);
    socket?.on('timeout', onIdle);
    const clearIdle = () => {
      socket?.setTimeout(0);
      socket?.off('timeout', onIdle);
    };
    answer.once('close', clearIdle);
    reply.status(answer.statusCode ?? 502);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      reply.header(name, value);
    }
    return reply.send(answer);
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
    this.#httpsAgent.destroy();
  }
}
