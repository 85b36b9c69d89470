// A throwaway HAProxy in front of a test cluster: Debian's haproxy (installed by scripts/setup.sh)
// run as a child process in the foreground (-db) from a config written into a temp dir, bound to
// an address the test created (a bridge's), on free ports. Two frontends: HTTP (mode http, the
// nodes' HTTP port) and RTMP (mode tcp, the nodes' RTMP port), each balanced over every node and
// health-checked with GET /healthz on the node's HTTP port; a server that fails the checks is out
// of rotation, and a connection refused by a dead server is redispatched to another (retries +
// option redispatch), which is how an OBS reconnect through it lands on a surviving node.
//
// Only node: builtins are imported, as in the other process helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface HaproxyBackendServer {
  /** The server's name in HAProxy (the node id). */
  name: string;
  address: string;
  httpPort: number;
  rtmpPort: number;
}

export interface TestHaproxy {
  /** http://<bind>:<port>: the cluster's one hostname for players, CDNs and the API. */
  httpUrl: string;
  /** rtmp://<bind>:<port>/<app>: where OBS publishes. */
  rtmpUrl: string;
  /** Each server's state per backend as HAProxy sees it now ('UP', 'DOWN', 'UP 1/2'...), from its stats socket. */
  serverStates(): Promise<{ http: Record<string, string>; rtmp: Record<string, string> }>;
  /** What haproxy wrote to stderr (its warnings and alerts), the tail. */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and deletes its directory; idempotent. */
  stop(): Promise<void>;
}

export interface HaproxyOptions {
  /** The address both frontends bind to (one the test created: a bridge's). */
  bind: string;
  servers: HaproxyBackendServer[];
  /** The RTMP application in rtmpUrl. */
  rtmpApp?: string;
  /** Health check interval (ms); a server is down after `fall` failed checks and back after `rise`. */
  checkIntervalMs?: number;
  fall?: number;
  rise?: number;
}

/** The config file's text (exported for the unit test of its shape). */
export function haproxyConfig(o: HaproxyOptions & { httpPort: number; rtmpPort: number; statsSocket: string }): string {
  const inter = o.checkIntervalMs ?? 300;
  const check = `check inter ${inter} fall ${o.fall ?? 2} rise ${o.rise ?? 2}`;
  const healthCheck = ['  option httpchk', '  http-check send meth GET uri /healthz', '  http-check expect status 200'];
  return [
    'global',
    `  stats socket ${o.statsSocket} mode 600 level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    '  timeout connect 1s',
    '  timeout check 1s',
    // A blocking playlist reload is held up to three target durations by the node; RTMP is a long session.
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-request 10s',
    // A connection a dead node refuses is tried once more, then on another server.
    '  retries 2',
    '  option redispatch',
    '',
    'frontend showcase_http',
    '  mode http',
    `  bind ${o.bind}:${o.httpPort}`,
    '  default_backend nodes_http',
    '',
    'backend nodes_http',
    '  mode http',
    '  balance roundrobin',
    ...healthCheck,
    ...o.servers.map((s) => `  server ${s.name} ${s.address}:${s.httpPort} ${check}`),
    '',
    'frontend showcase_rtmp',
    '  mode tcp',
    `  bind ${o.bind}:${o.rtmpPort}`,
    '  default_backend nodes_rtmp',
    '',
    'backend nodes_rtmp',
    '  mode tcp',
    '  balance leastconn',
    // TCP mode, health-checked over the node's HTTP port: an RTMP port that accepts is not proof of life.
    ...healthCheck,
    ...o.servers.map((s) => `  server ${s.name} ${s.address}:${s.rtmpPort} ${check} port ${s.httpPort}`),
    '',
  ].join('\n');
}

/** One command on HAProxy's stats socket; resolves with its whole answer. */
function statsCommand(socket: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let out = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`haproxy stats socket: no answer to "${command}" within ${timeoutMs} ms`)); }, timeoutMs);
    c.on('connect', () => c.write(`${command}\n`));
    c.on('data', (d: Buffer) => { out += d.toString(); });
    // HAProxy closes the socket once it has answered; a reset after a full answer is that close.
    c.on('error', (err) => { clearTimeout(timer); if (out) resolve(out); else reject(err); });
    c.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

/** Resolves once host:port accepts a TCP connection; rejects after timeoutMs (bounded polling). */
async function waitListening(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port });
      s.setTimeout(500, () => { s.destroy(); resolve(false); });
      s.on('error', () => resolve(false));
      s.once('connect', () => { s.destroy(); resolve(true); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`haproxy not listening on ${host}:${port} within ${timeoutMs} ms`);
}

/** Starts haproxy in front of the servers; resolves once both frontends accept connections. */
export async function startHaproxy(o: HaproxyOptions): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'showcase-haproxy-'));
  const httpPort = await freePort(o.bind);
  const rtmpPort = await freePort(o.bind);
  const statsSocket = join(dir, 'stats.sock');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig({ ...o, httpPort, rtmpPort, statsSocket }));
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`haproxy failed to start (apt-get install haproxy: scripts/setup.sh): ${err.message}`)));
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(o.bind, httpPort, child, 10_000);
    await waitListening(o.bind, rtmpPort, child, 10_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err });
  }
  return {
    httpUrl: `http://${o.bind}:${httpPort}`,
    rtmpUrl: `rtmp://${o.bind}:${rtmpPort}/${o.rtmpApp ?? 'live'}`,
    log: () => stderr,
    stop,
    serverStates: async () => {
      if (!existsSync(statsSocket)) throw new Error('haproxy stats socket is gone');
      const csv = (await statsCommand(statsSocket, 'show stat')).trim().split('\n');
      const header = (csv[0] ?? '').replace(/^# /, '').split(',');
      const px = header.indexOf('pxname');
      const sv = header.indexOf('svname');
      const st = header.indexOf('status');
      const out = { http: {} as Record<string, string>, rtmp: {} as Record<string, string> };
      for (const line of csv.slice(1)) {
        const f = line.split(',');
        const name = f[sv];
        if (!name || name === 'BACKEND' || name === 'FRONTEND') continue;
        if (f[px] === 'nodes_http') out.http[name] = f[st] ?? '';
        if (f[px] === 'nodes_rtmp') out.rtmp[name] = f[st] ?? '';
      }
      return out;
    },
  };
}
