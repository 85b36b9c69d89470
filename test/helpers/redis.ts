// A throwaway Redis for the tests: Debian's redis-server on a free port of 127.0.0.1 (or a given
// address), its working dir a temp dir, no persistence (no RDB, no AOF): a test's Redis is thrown
// away. One per test file: it starts in a few milliseconds, and a file that restarts it (a Redis
// outage) must not disturb another file's.
//
// Only node: builtins are imported, with erasable TypeScript only, as test/helpers/postgres.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface TestRedis {
  /** redis://<host>:<port> */
  url: string;
  host: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the port stays this Redis's for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing persisted), e.g. after stop() for an outage. */
  restart(): Promise<void>;
  /** Stops it for good and deletes its directory; idempotent. */
  remove(): Promise<void>;
}


/** Resolves once a PING on host:port answers PONG; rejects after timeoutMs (bounded polling). */
async function waitReady(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) before accepting connections`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port });
      s.setTimeout(500, () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on ${host}:${port} not ready within ${timeoutMs} ms`);
}

/** Starts redis-server (Debian's, on PATH) on a free port of host; resolves once it answers PING. */
export async function startRedis(opts: { host?: string } = {}): Promise<TestRedis> {
  const host = opts.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'showcase-redis-'));
  const port = await freePort(host);
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const c = spawn('redis-server', [
      '--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'no',
      '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    child = c;
    await new Promise<void>((resolve, reject) => {
      c.once('spawn', resolve);
      c.once('error', (err) => reject(new Error(`redis-server failed to start (apt-get install redis-server: scripts/setup.sh): ${err.message}`)));
    });
    try {
      await waitReady(host, port, c, 10_000);
    } catch (err) {
      c.kill('SIGKILL');
      throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err });
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  let removed = false;
  await start();
  return {
    url: `redis://${host}:${port}`, host, port, stop,
    restart: async () => { await stop(); await start(); },
    remove: async () => {
      if (removed) return;
      removed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
