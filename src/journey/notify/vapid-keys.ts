import { readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';

/** The VAPID key pair (RFC 8292), base64url as web-push takes it. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const FILE = 'vapid-keys.json';
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Loads the node's VAPID keys from `<dataDir>/vapid-keys.json`, making and keeping them (mode 0600)
 * on first start: browsers bind a subscription to the public key, so it must survive restarts.
 */
export function loadOrCreateVapidKeys(dataDir: string): VapidKeys {
  const path = join(dataDir, FILE);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    const k = JSON.parse(text) as Partial<VapidKeys>;
    if (typeof k.publicKey !== 'string' || typeof k.privateKey !== 'string' || !B64URL.test(k.publicKey) || !B64URL.test(k.privateKey)) {
      throw new Error(`${path} does not hold a VAPID key pair`);
    }
    return { publicKey: k.publicKey, privateKey: k.privateKey };
  }
  const keys = webpush.generateVAPIDKeys();
  // Write then rename, so a crash mid-write never leaves a half file that would fail the next start.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(keys), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}
