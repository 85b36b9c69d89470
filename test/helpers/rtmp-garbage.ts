import net from 'node:net';
import { randomBytes } from 'node:crypto';

/** Opens a connection, runs fn on it, resolves when either side has closed it (or after 3 s). */
export function garbage(port: number, fn: (s: net.Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 3000);
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => fn(s));
  });
}

/** (a) 64 KiB of random bytes on a fresh connection. */
export const randomFlood = (s: net.Socket): void => void s.write(randomBytes(64 * 1024));
/** (b) C0 and half of C1, then close. */
export const truncatedHandshake = (s: net.Socket): void => void s.end(Buffer.concat([Buffer.from([3]), randomBytes(768)]));
/** (c) A valid C0/C1, read S0/S1/S2, send C2, then 64 KiB of random bytes: a malformed chunk stream. */
export function garbageAfterHandshake(s: net.Socket): void {
  s.write(Buffer.concat([Buffer.from([3]), randomBytes(1536)]));
  let got = 0;
  s.on('data', (d: Buffer) => {
    const before = got;
    got += d.length;
    if (before < 3073 && got >= 3073) {
      s.write(randomBytes(1536));
      s.write(randomBytes(64 * 1024));
    }
  });
}
