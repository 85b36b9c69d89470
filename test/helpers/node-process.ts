// A Showcase node as a real process (dist/src/main.js), optionally inside a network namespace
// (`ip netns exec`), configured by a JSON file: the cluster tests' machines. And a TCP forwarder,
// for a server that listens on loopback only (the test PostgreSQL) to be reached from namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NodeProcess {
  id: string;
  /** http://<address>:<port> (its node.url). */
  base: string;
  child: ChildProcess;
  exited: Promise<void>;
  /** The tail of what it logged (stdout and stderr). */
  log(): string;
  /** SIGKILL: a crash, nothing flushed, no key deleted. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 15 s; then its directory is deleted. */
  stop(): Promise<void>;
}

/** Starts dist/src/main.js with `config` (merged into a JSON config file), in netns when given; resolves once /healthz answers. */
export async function startNodeProcess(opts: { id: string; address: string; port: number; netns?: string; config: Record<string, unknown> }): Promise<NodeProcess> {
  const dir = mkdtempSync(join(tmpdir(), `showcase-${opts.id}-`));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ dataDir: join(dir, 'data'), ...opts.config }));
  const argv = [process.execPath, 'dist/src/main.js'];
  const [cmd, args] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, ...argv]] : [argv[0]!, argv.slice(1)];
  const child = spawn(cmd, args, { env: { ...process.env, SHOWCASE_CONFIG: file }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => { log = (log + d.toString()).slice(-30_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const base = `http://${opts.address}:${opts.port}`;
  const stop = async () => {
    if (alive()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (let i = 0; ; i++) {
    if (!alive()) throw new Error(`node ${opts.id} exited before answering: ${log.slice(-3000)}`);
    const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline || i > 300) {
      await stop();
      throw new Error(`node ${opts.id} did not answer /healthz within 30 s: ${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    id: opts.id, base, child, exited, log: () => log, stop,
    kill: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A TCP forwarder listening on host (a free port) to target: for loopback-only servers seen from namespaces. */
export async function tcpForward(host: string, target: { host: string; port: number }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
