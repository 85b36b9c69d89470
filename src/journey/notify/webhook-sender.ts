import { decodeSecret, signedHeaders } from './webhook-signature.js';
import { post } from './http-post.js';

/** What one webhook attempt came to. */
export type WebhookResult =
  | { kind: 'delivered'; status: number }
  /** Try again later (a non-2xx answer, a timeout, no connection). */
  | { kind: 'retry'; error: string }
  /** Never again: the endpoint answered 410 Gone (Standard Webhooks: stop sending), or it is no longer configured. */
  | { kind: 'dead'; error: string };

export interface WebhookSenderOptions {
  endpoints: ReadonlyArray<{ url: string; secret: string }>;
  timeoutMs: number;
  now?: () => number;
}

/**
 * Delivers one outbox row to its endpoint: POST of the stored body, signed per Standard Webhooks
 * with the endpoint's secret (a fresh timestamp per attempt, the row's id as `webhook-id` on every
 * one). Redirects are not followed (a receiver answers where it is configured).
 */
export class WebhookSender {
  readonly #keys = new Map<string, Buffer>();
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(o: WebhookSenderOptions) {
    // Secrets are decoded once (config validation already checked their shape; this throws on a bad one at start).
    for (const ep of o.endpoints) if (!this.#keys.has(ep.url)) this.#keys.set(ep.url, decodeSecret(ep.secret));
    this.#timeoutMs = o.timeoutMs;
    this.#now = o.now ?? Date.now;
  }

  /** How many endpoints are configured. */
  get endpointCount(): number {
    return this.#keys.size;
  }

  /** Whether an endpoint URL is configured (rows for removed endpoints are given up). */
  has(url: string): boolean {
    return this.#keys.has(url);
  }

  /** One attempt. */
  async deliver(row: { id: string; target: string; payload: string }, signal?: AbortSignal): Promise<WebhookResult> {
    const key = this.#keys.get(row.target);
    if (!key) return { kind: 'dead', error: 'endpoint no longer configured' };
    const headers = { 'content-type': 'application/json', 'user-agent': 'Showcase-Webhooks/1', ...signedHeaders(key, row.id, row.payload, this.#now()) };
    let status: number;
    try {
      status = await post(row.target, { headers, body: row.payload, timeoutMs: this.#timeoutMs, signal });
    } catch (err) {
      return { kind: 'retry', error: (err as Error).message };
    }
    if (status >= 200 && status < 300) return { kind: 'delivered', status };
    if (status === 410) return { kind: 'dead', error: 'HTTP 410: the endpoint asked to stop' };
    return { kind: 'retry', error: `HTTP ${status}` };
  }
}
