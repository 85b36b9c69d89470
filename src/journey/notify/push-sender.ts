import webpush from 'web-push';
import type { PushSubscriptionRecord } from '../../store/notify-types.js';
import type { VapidKeys } from './vapid-keys.js';
import { post } from './http-post.js';

/** What one push request came to. */
export type PushResult =
  | { kind: 'sent'; status: number }
  /** 404/410: the browser unsubscribed or the subscription expired; delete it. */
  | { kind: 'gone'; status: number }
  /** Worth another try later (429, 5xx, a timeout, a refused connection). */
  | { kind: 'retry'; error: string }
  /** Will never work as sent (400, 401, 403, 413): logged, not retried. */
  | { kind: 'failed'; error: string };

export interface PushSenderOptions {
  vapid: VapidKeys;
  subject: string;
  timeoutMs: number;
  ttlSeconds: number;
  now?: () => number;
}

/** A VAPID JWT is valid up to 24 h (RFC 8292); ours last 12 h and are made again after 1 h. */
const VAPID_JWT_SECONDS = 12 * 3600;
const VAPID_REUSE_MS = 3_600_000;
/** Push services (origins) whose VAPID header is kept: a handful in practice (FCM, Mozilla, Apple, WNS). */
const MAX_AUDIENCES = 256;

/**
 * Sends Web Push messages (RFC 8030) encrypted per RFC 8291 (aes128gcm) by the web-push package,
 * with a VAPID (RFC 8292) Authorization header. The header is signed once per push service origin
 * and reused for an hour instead of signing an ES256 JWT per message (web-push's sendNotification
 * does that): a 100,000-follower fan-out then costs one encryption per message and nothing more.
 * Requests go through keep-alive agents (http-post.ts), with a timeout each.
 */
export class PushSender {
  readonly #o: PushSenderOptions;
  readonly #now: () => number;
  readonly #vapid = new Map<string, { header: string; madeAt: number }>();

  constructor(o: PushSenderOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Encrypts `payload` to the subscription's keys and POSTs it to its endpoint. */
  async send(sub: PushSubscriptionRecord, payload: string, signal?: AbortSignal): Promise<PushResult> {
    let details: { endpoint: string; headers: Record<string, string | number>; body: Buffer | null };
    try {
      details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, payload, {
        TTL: this.#o.ttlSeconds, contentEncoding: 'aes128gcm', headers: { Urgency: 'high' },
      }) as unknown as typeof details;
    } catch (err) {
      return { kind: 'failed', error: `encrypting failed: ${(err as Error).message}` };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
    headers.Authorization = this.#authorization(sub.endpoint);
    let status: number;
    try {
      status = await post(sub.endpoint, { headers, body: details.body ?? '', timeoutMs: this.#o.timeoutMs, signal });
    } catch (err) {
      return { kind: 'retry', error: (err as Error).message };
    }
    if (status >= 200 && status < 300) return { kind: 'sent', status };
    if (status === 404 || status === 410) return { kind: 'gone', status };
    if (status === 429 || status >= 500) return { kind: 'retry', error: `HTTP ${status}` };
    return { kind: 'failed', error: `HTTP ${status}` };
  }

  /** `vapid t=<JWT>, k=<public key>` for the endpoint's origin (the JWT's aud), made at most once an hour. */
  #authorization(endpoint: string): string {
    const audience = new URL(endpoint).origin;
    const now = this.#now();
    const hit = this.#vapid.get(audience);
    if (hit && now - hit.madeAt < VAPID_REUSE_MS) return hit.header;
    const exp = Math.floor(now / 1000) + VAPID_JWT_SECONDS;
    const h = webpush.getVapidHeaders(audience, this.#o.subject, this.#o.vapid.publicKey, this.#o.vapid.privateKey, 'aes128gcm', exp) as { Authorization: string };
    if (this.#vapid.size >= MAX_AUDIENCES) this.#vapid.delete(this.#vapid.keys().next().value!);
    this.#vapid.set(audience, { header: h.Authorization, madeAt: now });
    return h.Authorization;
  }
}
