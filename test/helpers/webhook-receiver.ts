// A webhook receiver for the tests: an HTTP server on 127.0.0.1 that checks each delivery's
// Standard Webhooks signature the way the README tells operators to (HMAC-SHA256 over
// "<id>.<timestamp>.<body>" with the base64 key after whsec_, timestamp within 5 minutes), keeps
// every attempt, and answers with the status the test sets (200 by default).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery attempt as received. */
export interface Delivery {
  id: string;
  timestamp: number;
  signatureValid: boolean;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  deliveries: Delivery[];
  /** The status answered from now on. */
  answer(status: number): void;
  /** Resolves once pred holds over the deliveries (checked at each one), or rejects after timeoutMs. */
  until(pred: (all: readonly Delivery[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Checks a Standard Webhooks signature as the README's example does. */
export function verifyWebhook(secret: string, headers: Record<string, string | string[] | undefined>, body: string, nowMs = Date.now()): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = String(headers['webhook-id']);
  const ts = String(headers['webhook-timestamp']);
  const want = 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return Math.abs(nowMs / 1000 - Number(ts)) <= 300 &&
    String(headers['webhook-signature'] ?? '').split(' ').some((s) => s.length === want.length && timingSafeEqual(Buffer.from(s), Buffer.from(want)));
}

/** Starts a receiver for endpoints signed with `secret`. */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  let status = 200;
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Delivery['json'];
      try {
        json = JSON.parse(body) as Delivery['json'];
      } catch {
        json = { type: '?', timestamp: '', data: {} };
      }
      const answered = status;
      deliveries.push({ id: String(req.headers['webhook-id']), timestamp: Number(req.headers['webhook-timestamp']), signatureValid: verifyWebhook(secret, req.headers, body), body, json, status: answered, at: Date.now() });
      res.writeHead(answered).end();
      for (const w of [...waiters]) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    deliveries,
    answer(s) {
      status = s;
    },
    until(pred, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred(deliveries)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what} (${deliveries.length} deliveries)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
