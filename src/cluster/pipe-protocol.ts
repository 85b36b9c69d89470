import { timingSafeEqual } from 'node:crypto';
import type { types } from 'mediasoup';
import { ShowcaseError } from '../core/errors.js';

/** The header every node-to-node pipe request carries the cluster secret in (never logged). */
export const SECRET_HEADER = 'x-showcase-cluster-secret';
/** The header naming the node a request comes from (checked against the pipe it names). */
export const NODE_HEADER = 'x-showcase-node';

/** One end of a pipe as the other end connects to it: its UDP address and its SRTP key. */
export interface PipeEndpoint {
  ip: string;
  port: number;
  srtpParameters: types.SrtpParameters;
}

/** The holding node's answer to a viewer node's open: its end, and the codecs its router speaks. */
export interface PipeOpened extends PipeEndpoint {
  pipeId: string;
  codecs: types.RouterRtpCodecCapability[];
}

/** One of the stream's producers as piped: what the viewer's node produces on its own end. */
export interface PipedProducer {
  id: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  paused: boolean;
}

/** The holder's answer to a keep-alive: the producers' pause state (the viewer's node mirrors it). */
export interface PipeState {
  producers: Array<{ id: string; paused: boolean }>;
}

/** What a holding node pushes to the viewer's node (the keep-alive covers a push that got lost). */
export type PipeEvent =
  | { type: 'paused' | 'resumed'; producerId: string }
  | { type: 'closed'; reason: string };

/** Whether a request carries the cluster secret (constant-time: the secret is a credential). */
export function secretMatches(given: unknown, secret: string): boolean {
  if (!secret || typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Thrown by a PipeClient call: the peer's coded answer (status and code), or no answer at all (status 0). */
export class PipeRequestError extends Error {
  readonly status: number;
  readonly code?: string;

  constructor(message: string, status: number, code?: string) {
    super(message);
    this.name = 'PipeRequestError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Node-to-node JSON requests of the pipe: the cluster secret and this node's id in headers, a
 * deadline on every call (a peer that hangs must not hold a viewer's POST or a keep-alive forever).
 */
export class PipeClient {
  readonly #selfId: string;
  readonly #secret: string;
  readonly #timeoutMs: number;

  constructor(o: { selfId: string; secret: string; timeoutMs: number }) {
    this.#selfId = o.selfId;
    this.#secret = o.secret;
    this.#timeoutMs = o.timeoutMs;
  }

  /** Sends one request to another node; resolves with its JSON body, rejects with a PipeRequestError. */
  async call<T>(baseUrl: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: { [SECRET_HEADER]: this.#secret, [NODE_HEADER]: this.#selfId, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new PipeRequestError(`${method} ${path} on ${baseUrl} got no answer: ${(err as Error).message}`, 0);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new PipeRequestError(`${method} ${path} on ${baseUrl}: ${res.status} ${e?.code ?? ''} ${e?.message ?? ''}`.trim(), res.status, e?.code);
    }
    return json as T;
  }
}

/** The codecs of a router as RouterRtpCodecCapability (RTX and FEC left out: a router adds RTX by itself). */
export function routerCodecs(router: types.Router): types.RouterRtpCodecCapability[] {
  return (router.rtpCapabilities.codecs ?? [])
    .filter((c) => !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType))
    .map((c) => ({ kind: c.kind, mimeType: c.mimeType, clockRate: c.clockRate, ...(c.channels ? { channels: c.channels } : {}), parameters: c.parameters ?? {}, preferredPayloadType: c.preferredPayloadType }));
}

/** A ShowcaseError for a pipe that could not be built, keeping what the holder answered in its details. */
export function pipeFailed(streamId: string, err: unknown): ShowcaseError {
  const e = err as PipeRequestError;
  return new ShowcaseError('SHOWCASE_ERR_CLUSTER_PIPE_FAILED', 'the node holding this stream could not pipe it here', { streamId, ...(e.status !== undefined ? { holderStatus: e.status } : {}), ...(e.code ? { holderCode: e.code } : {}) });
}
