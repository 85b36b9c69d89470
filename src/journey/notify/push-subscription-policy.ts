import { createECDH } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** A browser's PushSubscription JSON, as POSTed (expirationTime is ignored: the push service answers 410 when it lapses). */
export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Loopback, private, link-local, CGNAT and unique-local ranges (IPv4-mapped IPv6 addresses are checked against the IPv4 ones): a push endpoint there is the server calling into its own network. */
const LOCAL = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) LOCAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10]] as const) LOCAL.addSubnet(net, bits, 'ipv6');

/**
 * Why a subscription is refused, or null when it is acceptable: the endpoint an absolute https URL
 * (http and local hosts only when `allowLocal`, for tests and a push service on the LAN), no
 * credentials in it; p256dh a valid uncompressed P-256 point; auth 16 bytes (RFC 8291 section 2).
 */
export function subscriptionProblem(s: PushSubscriptionInput, allowLocal: boolean): { field: string; message: string } | null {
  let url: URL;
  try {
    url = new URL(s.endpoint);
  } catch {
    return { field: '/endpoint', message: 'not an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(allowLocal && url.protocol === 'http:')) return { field: '/endpoint', message: 'must be an https:// URL' };
  if (url.username || url.password) return { field: '/endpoint', message: 'must not carry credentials' };
  if (!allowLocal && isLocalHost(url.hostname)) return { field: '/endpoint', message: 'must not point at a local or private address' };
  const key = fromB64url(s.keys.p256dh);
  if (!key || key.length !== 65 || key[0] !== 4 || !onCurve(key)) return { field: '/keys/p256dh', message: 'must be an uncompressed P-256 public key (65 bytes, base64url)' };
  const auth = fromB64url(s.keys.auth);
  if (!auth || auth.length !== 16) return { field: '/keys/auth', message: 'must be 16 bytes, base64url' };
  return null;
}

function isLocalHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true;
  const v = isIP(h);
  if (v === 0) return false;
  return LOCAL.check(h, v === 6 ? 'ipv6' : 'ipv4');
}

function fromB64url(s: string): Buffer | null {
  // Browsers send base64url without padding; some libraries pad. Anything else is refused.
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(s)) return null;
  return Buffer.from(s, 'base64url');
}

function onCurve(key: Buffer): boolean {
  try {
    // Computing a shared secret with a throwaway key checks the point lies on the curve.
    const e = createECDH('prime256v1');
    e.generateKeys();
    e.computeSecret(key);
    return true;
  } catch {
    return false;
  }
}
