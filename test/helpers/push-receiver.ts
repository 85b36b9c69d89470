// A local Web Push service for the tests: an HTTP server on 127.0.0.1 that takes push messages
// (RFC 8030) at /push/<name>, decrypts each with the subscription's own keys (aes128gcm, RFC 8291
// over RFC 8188), checks its VAPID JWT (RFC 8292, ES256), and answers with the status the test set
// for that name (201 by default; 410 for a "gone" subscription).
import { createECDH, createPublicKey, createDecipheriv, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A browser's side of one subscription: its key pair and auth secret, and the JSON it would POST. */
export interface BrowserSubscription {
  name: string;
  ecdh: ECDH;
  auth: Buffer;
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
}

/** One message as the push service got it. */
export interface ReceivedPush {
  name: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** The local push service. */
export interface PushReceiver {
  base: string;
  received: ReceivedPush[];
  /** Makes a subscription whose endpoint is here (/push/<name>), with fresh keys. */
  subscription(name: string): BrowserSubscription;
  /** The status answered at /push/<name> from now on. */
  answer(name: string, status: number): void;
  /** Resolves with the first message for `name` matching `pred` (already received or to come), or rejects after timeoutMs. */
  next(name: string, pred: (m: ReceivedPush) => boolean, timeoutMs?: number): Promise<ReceivedPush>;
  close(): Promise<void>;
}

/** Starts the local push service. */
export async function startPushReceiver(): Promise<PushReceiver> {
  const received: ReceivedPush[] = [];
  const statuses = new Map<string, number>();
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const name = decodeURIComponent((req.url ?? '').replace(/^\/push\//, ''));
      received.push({ name, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      for (const w of [...waiters]) w();
      res.writeHead(statuses.get(name) ?? 201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    subscription(name) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      return { name, ecdh, auth, json: { endpoint: `${base}/push/${encodeURIComponent(name)}`, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } } };
    },
    answer(name, status) {
      statuses.set(name, status);
    },
    next(name, pred, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = received.find((x) => x.name === name && pred(x));
          if (!m) return false;
          waiters.delete(check as () => void);
          clearTimeout(timer);
          resolve(m);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check as () => void);
          reject(new Error(`no push message for ${name} within ${timeoutMs} ms (${received.length} received in all)`));
        }, timeoutMs);
        if (!check()) waiters.add(check as () => void);
      });
    },
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * Decrypts an aes128gcm push message body (RFC 8291 section 3.4 over RFC 8188) with the browser's
 * private key and auth secret, written from the RFCs with node:crypto (ECDH + HKDF + AES-128-GCM),
 * independently of the web-push package the server encrypts with.
 */
export function decryptPush(sub: Pick<BrowserSubscription, 'ecdh' | 'auth'>, body: Buffer): string {
  // RFC 8188 header: salt (16) | rs (uint32) | idlen (1) | keyid (idlen: the sender's public key, 65 bytes).
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  if (idlen !== 65 || asPublic[0] !== 4) throw new Error(`keyid is not a P-256 point (idlen ${idlen})`);
  if (records.length > rs) throw new Error('more than one record: not what a push message is');
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  // RFC 8291 3.3: IKM = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info" 0x00 ua_public as_public, 32).
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.auth, keyInfo, 32));
  // RFC 8188 2.2/2.3: CEK and NONCE from HKDF(salt, IKM).
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const tag = records.subarray(records.length - 16);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(tag);
  const plain = Buffer.concat([d.update(records.subarray(0, records.length - 16)), d.final()]);
  // The last record's padding: a 0x02 delimiter followed by zeros.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error('the last record does not end with the 0x02 delimiter');
  return plain.subarray(0, end).toString('utf8');
}

/** What a VAPID header says, once checked: the JWT's claims. */
export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292): k is the server's VAPID public key,
 * the JWT is ES256-signed by it, its aud is the push service's origin and exp within 24 h.
 */
export function verifyVapid(authorization: string | undefined, vapidPublicKey: string, audience: string, nowMs = Date.now()): VapidClaims {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`not a vapid Authorization header: ${authorization}`);
  const [jwt, k] = [m[1]!, m[2]!];
  if (k !== vapidPublicKey) throw new Error('k is not the server\'s VAPID public key');
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; typ?: string };
  if (header.alg !== 'ES256') throw new Error(`alg ${header.alg}`);
  const point = Buffer.from(k, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('the JWT signature does not verify');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as VapidClaims;
  if (claims.aud !== audience) throw new Error(`aud ${claims.aud}, expected ${audience}`);
  const now = nowMs / 1000;
  if (!(claims.exp > now && claims.exp <= now + 86_400)) throw new Error(`exp ${claims.exp} not within 24 h`);
  if (!/^(mailto:|https:)/.test(claims.sub)) throw new Error(`sub ${claims.sub}`);
  return claims;
}
