import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';

/** Debian's python3 (python3-aiortc is a Debian package: a pyenv or venv python on PATH lacks it). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
/** The non-browser WHIP/WHEP client (test/clients/aiortc-client.py). */
export const AIORTC_CLIENT = fileURLToPath(new URL('../clients/aiortc-client.py', import.meta.url));

/** Why an aiortc test cannot run here, or false when it can. */
export function aiortcSkip(): string | false {
  if (!resolveWorkerBinary()) return 'mediasoup-worker not found (set MEDIASOUP_WORKER_BIN or run bash native/mediasoup/build.sh)';
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import aiortc, numpy, av'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) return `${DEBIAN_PYTHON} cannot import aiortc (apt-get install python3-aiortc): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;
  return false;
}

/** One JSON line the client printed. */
export type ClientEvent = { event: string } & Record<string, any>;

/** A running aiortc client: its events as they come, awaitable by name. */
export interface AiortcClient {
  child: ChildProcess;
  events: ClientEvent[];
  /** The first event of this name (bounded by timeoutMs); rejects on an "error" event or exit first. */
  next(name: string, timeoutMs: number, pred?: (e: ClientEvent) => boolean): Promise<ClientEvent>;
  /** SIGTERM (the client DELETEs its session), then the exit code; SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<number | null>;
  /** The exit code once the client ends by itself (a WHEP player after its frames); SIGKILL past timeoutMs. */
  exited(timeoutMs: number): Promise<number | null>;
  stderr(): string;
}

/**
 * Runs the client: `prefix` goes in front of python (e.g. ['ip', 'netns', 'exec', ns] to run it
 * inside a network namespace). stdin stays open: the client also stops when the test process dies.
 */
export function runAiortcClient(args: string[], prefix: string[] = []): AiortcClient {
  const argv = [...prefix, DEBIAN_PYTHON, AIORTC_CLIENT, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: ClientEvent[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let exited: number | null | undefined;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        events.push(JSON.parse(line) as ClientEvent);
      } catch {
        err = (err + `stdout: ${line}\n`).slice(-8000);
      }
    }
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-8000); });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    exited = code;
    for (const w of [...waiters]) w();
    resolve(code);
  }));
  return {
    child,
    events,
    stderr: () => err,
    next(name, timeoutMs, pred = () => true) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = events.find((e) => e.event === name && pred(e));
          const failed = events.find((e) => e.event === 'error');
          if (!hit && !failed && exited === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (hit) resolve(hit);
          else reject(new Error(`aiortc client ${failed ? `error: ${failed.message}` : `exited ${exited}`} before "${name}"; stderr: ${err.slice(-1500)}`));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${name}" from the aiortc client within ${timeoutMs} ms; events: ${JSON.stringify(events).slice(-1500)}; stderr: ${err.slice(-1500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async exited(timeoutMs) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async stop(graceMs = 5000) {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
