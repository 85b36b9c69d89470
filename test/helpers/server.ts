import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ShowcaseApp } from '../../src/app.js';
import type { ConfigOverrides } from '../../src/config/load-config.js';

export const ADMIN = 'test-admin-token';

/** A small two-rung ladder for a 320x180 source: exercises alignment and reports, cheaply. */
export const TEST_LADDER = [
  { name: '180p', height: 180, videoBitrateKbps: 300, maxFrameRate: 30 },
  { name: '144p', height: 144, videoBitrateKbps: 150, maxFrameRate: 30 },
];

/** Collects pino JSON lines so tests can assert on what was logged. */
export class LogSink extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) {
      if (!l.trim()) continue;
      try {
        this.lines.push(JSON.parse(l));
      } catch {
        /* not JSON: ignore */
      }
    }
    cb();
  }
  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(pred);
  }
}

export interface TestServer {
  app: ShowcaseApp;
  base: string;
  rtmp: string;
  logs: LogSink;
  dataDir: string;
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; json: any; headers: Headers }>;
  createStream(title?: string): Promise<{ id: string; streamKey: string; json: any }>;
  /** Stops the server; keepData leaves the data dir for a restart on it. */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/** Starts the whole server in-process on free ports with a temp data dir. */
export async function startServer(overrides: ConfigOverrides = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'showcase-e2e-'));
  const logs = new LogSink();
  const app = await ShowcaseApp.start({
    env: {},
    logDestination: logs,
    overrides: {
      logLevel: 'info',
      dataDir,
      adminToken: ADMIN,
      ...overrides,
      http: { port: 0, host: '127.0.0.1', ...(overrides.http ?? {}) },
      rtmp: { port: 0, host: '127.0.0.1', ...(overrides.rtmp ?? {}) },
      transcode: { ladder: TEST_LADDER, x264Preset: 'ultrafast', audioBitrateKbps: 64, ...(overrides.transcode ?? {}) },
      // mediasoup workers only where a test publishes WebRTC: the rest of the suite stays lean.
      webrtc: { enabled: false, ...(overrides.webrtc ?? {}) },
    },
  });
  // A test that binds HTTP to one address (e.g. a veth's, for a client in a namespace) talks to it there.
  const httpHost = overrides.http?.host && overrides.http.host !== '0.0.0.0' ? overrides.http.host : '127.0.0.1';
  const base = `http://${httpHost}:${app.httpPort}`;
  const api: TestServer['api'] = async (method, path, body, token = ADMIN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };
  return {
    app,
    base,
    rtmp: `rtmp://127.0.0.1:${app.rtmpPort}/live`,
    logs,
    dataDir,
    api,
    async createStream(title = 'Test show') {
      const r = await api('POST', '/v1/streams', { title });
      if (r.status !== 201) throw new Error(`create stream: ${r.status} ${JSON.stringify(r.json)}`);
      return { id: r.json.id, streamKey: r.json.streamKey, json: r.json };
    },
    async close(opts = {}) {
      await app.stop();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * When the test fails, prints the server's warnings and errors (and transcoder lines) as TAP
 * comments before it stops: CI keeps only the output, so a flake must explain itself there.
 */
export function logsOnFailure(t: { passing(): boolean; comment(...args: unknown[]): void; teardown(fn: () => unknown): void }, srv: Pick<TestServer, 'logs'>): void {
  t.teardown(() => {
    if (t.passing()) return;
    const keep = srv.logs.lines.filter((l) => (l.level as number) >= 40 || l.component === 'transcoder');
    t.comment(`server log on failure (${keep.length} of ${srv.logs.lines.length} lines):`);
    for (const l of keep.slice(-80)) {
      const { level, time, msg, pid: _p, hostname: _h, ...rest } = l;
      t.comment(`${String(time)} ${String(level)} ${String(msg)} ${JSON.stringify(rest).slice(0, 400)}`);
    }
  });
}

/** Polls fn until it returns a truthy value or the deadline passes (bounded; for state we cannot await). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 15000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** GET a URL as text with its status. */
export async function getText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** GET a URL as bytes with its status. */
export async function getBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}
