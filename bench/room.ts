/**
 * The room under load (issue 14): one live stream transcoding from a real ffmpeg RTMP publish,
 * `--sockets` room sockets (GET /v1/streams/:id/room) opened by `--workers` client processes
 * (bench/room-clients.ts: lean RFC 6455 clients over raw TCP, so the box's CPU goes to the server),
 * `--chat` messages a second posted by shoppers (two tokens per message a
 * second, so no author nears the 1-a-second limit) and `--reactions` reactions a second, all on the
 * server's default room config: the clients spread over 127.x.y.z source addresses, at most 16
 * sockets each (room.maxSocketsPerIp is 20), and shoppers are created from addresses of their own
 * (room.shopperCreatesPerMinute is 10). The room's flushes are written by the native addon's
 * threads (`--fanout js`: from the event loop; `--fanout both`: one run of each, side by side). It prints:
 *  - delivery latency from send to the last receiver (and to the first), p50/p99 over messages:
 *    the sender stamps the machine clock (performance.timeOrigin + now) in the text, every receiver
 *    stamps the same clock on receipt;
 *  - server CPU per 1,000 sockets: the server process's CPU (process.cpuUsage: the server runs in
 *    this process, the clients do not) during the load minus during the idle window, per second;
 *  - memory per socket: RSS and heap after the sockets opened minus before (after a GC), / sockets;
 *  - origin latency of the stream during the load versus the idle room before the sockets opened
 *    (bench/origin-latency.ts's measureOriginLatency).
 * Run: npm run build && node --expose-gc dist/bench/room.js [--sockets 10000] [--seconds 20]
 *   [--idle-seconds 15] [--workers 4] [--chat 20] [--reactions 2000] [--height 720] [--fanout native|js|both]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ShowcaseApp } from '../src/app.js';
import { processCpuSeconds } from '../src/core/proc-stat.js';
import { liveOrigin, measureOriginLatency, sourceFile, type OriginLatencyWindow } from './origin-latency.js';
import type { FromClients, ToClients } from './room-clients.js';

export interface RoomBenchOptions {
  sockets?: number;
  seconds?: number;
  idleSeconds?: number;
  workers?: number;
  chatPerSecond?: number;
  reactionsPerSecond?: number;
  height?: number;
  /** How the room's flushes are written: 'native' (room.nativeFanout, the addon's threads) or 'js' (the event loop). */
  fanout?: 'native' | 'js';
}

export interface RoomBenchResult {
  sockets: number;
  socketsOpenAtEnd: number;
  openSeconds: number;
  seconds: number;
  messagesSent: number;
  /** Messages every socket open at the end received. */
  messagesDeliveredToAll: number;
  /** Messages no socket received (refused, or lost). */
  messagesUndelivered: number;
  refused: Record<string, number>;
  lastReceiverP50Ms: number;
  lastReceiverP99Ms: number;
  firstReceiverP50Ms: number;
  firstReceiverP99Ms: number;
  reactionsSent: number;
  framesReceivedPerSecond: number;
  /** The room's batched flushes during the load, the socket writes they made, and their CPU per write. */
  flushesPerSecond: number;
  socketWritesPerSecond: number;
  cpuMicrosPerSocketWrite: number;
  /** Mean wall time of a flush, from its start to its last write (ms), and how flushes were written. */
  flushWallMs: number;
  fanoutMode: 'native' | 'js';
  serverCpuIdle: number;
  serverCpuLoad: number;
  /** The server's event loop utilization during the load (1: never waiting for I/O). */
  serverLoopUtilization: number;
  /** The server's event-loop delay p99 in the idle room and under the load (what the media path waits for the loop). */
  serverLoopDelayP99IdleMs: number;
  serverLoopDelayP99LoadMs: number;
  serverCpuPer1000Sockets: number;
  rssBytesPerSocket: number;
  heapBytesPerSocket: number;
  originIdle: OriginLatencyWindow;
  originLoad: OriginLatencyWindow;
  ffmpegCpuIdle: number;
  ffmpegCpuLoad: number;
  clientCpuPerSecond: number;
  clientLoopDelayP99Ms: number;
  slowClosed: number;
  loadAvgAtStart: number;
}

const ADMIN = 'bench-admin-token';
const PER_ADDRESS = 16;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10 : NaN;
}

/** A full GC (node --expose-gc, else the flag set at run time), so heap and RSS deltas are the sockets'. */
function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc ?? (setFlagsFromString('--expose-gc'), runInNewContext('gc') as () => void);
  g();
  g();
}

/** POST /v1/shoppers from a given source address (creation is limited per address). */
function createShopper(port: number, localAddress: string, displayName: string): Promise<{ id: string; token: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ displayName });
    const req = request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/v1/shoppers', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text) as { id: string; token: string }) : reject(new Error(`POST /v1/shoppers answered ${res.statusCode}: ${text}`))));
    });
    req.on('timeout', () => req.destroy(new Error('POST /v1/shoppers timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The next message of a given type from a client process, or a rejection after timeoutMs or on its exit. */
function nextMessage<T extends FromClients['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<FromClients, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: FromClients): void => {
      if (m.type !== type) return;
      done();
      resolve(m as Extract<FromClients, { type: T }>);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`room client process exited (${code}) before '${type}'`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no '${type}' from a room client process in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Runs the room benchmark once; resolves with its figures. */
export async function runRoomBench(opts: RoomBenchOptions = {}): Promise<RoomBenchResult> {
  const total = opts.sockets ?? 10_000;
  const seconds = opts.seconds ?? 20;
  const idleSeconds = opts.idleSeconds ?? 15;
  const workers = Math.max(1, Math.min(opts.workers ?? 4, 16, total));
  const chatPerSecond = opts.chatPerSecond ?? 20;
  const reactionsPerSecond = opts.reactionsPerSecond ?? 2000;
  const height = opts.height ?? 720;
  for (const [name, v, max] of [['sockets', total, 50_000], ['seconds', seconds, 600], ['idle seconds', idleSeconds, 600], ['chat messages a second', chatPerSecond, 200], ['reactions a second', reactionsPerSecond, 100_000], ['source height', height, 1080]] as const) {
    if (!(v > 0 && v <= max)) throw new Error(`bounded: ${name} must be above 0 and at most ${max} (got ${v})`);
  }
  const loadAvgAtStart = loadavg()[0]!;
  const src = sourceFile(height, 60);
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-room-'));
  const app = await ShowcaseApp.start({
    env: {},
    overrides: {
      logLevel: 'warn', dataDir, adminToken: ADMIN, http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' },
      recording: { enabled: false }, webrtc: { enabled: false }, room: { nativeFanout: opts.fanout !== 'js' },
    },
    logDestination: process.stderr,
  });
  const children: ChildProcess[] = [];
  let pub: ChildProcess | undefined;
  try {
    const base = `http://127.0.0.1:${app.httpPort}`;
    const res = await fetch(`${base}/v1/streams`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'room bench' }) });
    const stream = (await res.json()) as { id: string; streamKey: string };
    // Two authors per message a second; five creations per source address (the limit is 10 a minute).
    const authors = Math.max(workers, Math.ceil(chatPerSecond * 2));
    const tokens: string[] = [];
    for (let i = 0; i < authors; i++) tokens.push((await createShopper(app.httpPort, `127.9.${Math.floor(i / 5 / 250)}.${(Math.floor(i / 5) % 250) + 1}`, `Bench shopper ${i}`)).token);

    // The stream, published in real time for as long as the bench needs it (the source loops).
    pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', src, '-t', String(idleSeconds + seconds + 300), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${app.rtmpPort}/live/${stream.streamKey}`], { stdio: 'ignore' });
    const { tc, top, publishStart } = await liveOrigin(app, stream.id);
    const gone = new Promise<void>((r) => tc.once('state', () => r()));
    await new Promise((r) => setTimeout(r, 3000));

    // The idle room: the stream transcoding, no socket open.
    let cpu0 = process.cpuUsage();
    let ff0 = processCpuSeconds(tc.pid!);
    let w0 = Date.now();
    const loopIdle = monitorEventLoopDelay({ resolution: 10 });
    loopIdle.enable();
    const originIdle = await measureOriginLatency(top, publishStart, idleSeconds * 1000, gone);
    loopIdle.disable();
    let wall = (Date.now() - w0) / 1000;
    let cpu = process.cpuUsage(cpu0);
    const serverCpuIdle = (cpu.user + cpu.system) / 1e6 / wall;
    const ffmpegCpuIdle = (processCpuSeconds(tc.pid!) - ff0) / wall;

    // The sockets, from client processes.
    gc();
    const mem0 = process.memoryUsage();
    const t0 = Date.now();
    const script = new URL('./room-clients.js', import.meta.url);
    for (let w = 0; w < workers; w++) children.push(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const opened = await Promise.all(children.map((child, w) => {
      const count = Math.floor(total / workers) + (w < total % workers ? 1 : 0);
      const addresses = Array.from({ length: Math.ceil(count / PER_ADDRESS) }, (_, i) => `127.${10 + w}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
      const own = tokens.filter((_, i) => i % workers === w);
      const p = nextMessage(child, 'opened', 180_000);
      child.send({ type: 'open', url: `${base.replace(/^http/, 'ws')}/v1/streams/${stream.id}/room`, count, addresses, perAddress: PER_ADDRESS, tokens: own, deadlineMs: 150_000 } satisfies ToClients);
      return p;
    }));
    const openSeconds = (Date.now() - t0) / 1000;
    const open = opened.reduce((n, o) => n + o.open, 0);
    const failed = opened.reduce((n, o) => n + o.failed, 0);
    if (failed > 0) process.stderr.write(`room bench: ${failed} sockets did not open (${opened.find((o) => o.firstError)?.firstError})\n`);
    if (open === 0) throw new Error('no room socket opened');
    // Every socket joined (history sent) before memory is read.
    for (let i = 0; i < 200 && app.http.room.viewers(stream.id) < open; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    gc();
    const mem1 = process.memoryUsage();

    // The load: chat and reactions for `seconds`, the origin measured meanwhile.
    const drainMs = 30_000;
    const startAt = Date.now() + 1000;
    const reports = children.map((child) => nextMessage(child, 'report', (seconds + 60) * 1000));
    children.forEach((child, w) => child.send({
      type: 'run', startAt, seconds, drainMs, chatPerSecond, worker: w, workers,
      reactionsPerSecond: reactionsPerSecond / workers,
    } satisfies ToClients));
    await new Promise((r) => setTimeout(r, startAt - Date.now()));
    cpu0 = process.cpuUsage();
    ff0 = processCpuSeconds(tc.pid!);
    w0 = Date.now();
    const elu0 = performance.eventLoopUtilization();
    const loopLoad = monitorEventLoopDelay({ resolution: 10 });
    loopLoad.enable();
    const room = app.http.room;
    const fanStart = { flushes: room.fanoutFlushes, writes: room.fanoutWrites, cpuMs: room.fanoutCpuMs, wallMs: room.fanoutWallMs };
    const originLoad = await measureOriginLatency(top, publishStart, seconds * 1000, gone);
    wall = (Date.now() - w0) / 1000;
    cpu = process.cpuUsage(cpu0);
    const serverLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
    loopLoad.disable();
    const serverCpuLoad = (cpu.user + cpu.system) / 1e6 / wall;
    const ffmpegCpuLoad = (processCpuSeconds(tc.pid!) - ff0) / wall;
    const fan = { flushes: room.fanoutFlushes - fanStart.flushes, writes: room.fanoutWrites - fanStart.writes, cpuMs: room.fanoutCpuMs - fanStart.cpuMs, wallMs: room.fanoutWallMs - fanStart.wallMs };
    const r = await Promise.all(reports);

    // Send to first and to last receiver, per message, over every client process.
    const sentAt = new Map<number, number>();
    for (const x of r) for (const [seq, at] of x.sent) sentAt.set(seq, at);
    const got = new Map<number, { n: number; first: number; last: number }>();
    for (const x of r) {
      for (const [seq, n, first, last] of x.received) {
        const g = got.get(seq);
        if (!g) got.set(seq, { n, first, last });
        else {
          g.n += n;
          g.first = Math.min(g.first, first);
          g.last = Math.max(g.last, last);
        }
      }
    }
    const openAtEnd = r.reduce((n, x) => n + x.openAtEnd, 0);
    const toLast: number[] = [];
    const toFirst: number[] = [];
    let deliveredToAll = 0;
    for (const [seq, at] of sentAt) {
      const g = got.get(seq);
      if (!g) continue;
      toFirst.push(g.first - at);
      toLast.push(g.last - at);
      if (g.n >= openAtEnd) deliveredToAll++;
    }
    const refused: Record<string, number> = {};
    for (const x of r) for (const [k, v] of Object.entries(x.refused)) refused[k] = (refused[k] ?? 0) + v;
    return {
      sockets: open,
      socketsOpenAtEnd: openAtEnd,
      openSeconds: Number(openSeconds.toFixed(1)),
      seconds: Number(wall.toFixed(1)),
      messagesSent: sentAt.size,
      messagesDeliveredToAll: deliveredToAll,
      messagesUndelivered: sentAt.size - toLast.length,
      refused,
      lastReceiverP50Ms: pct(toLast, 50),
      lastReceiverP99Ms: pct(toLast, 99),
      firstReceiverP50Ms: pct(toFirst, 50),
      firstReceiverP99Ms: pct(toFirst, 99),
      reactionsSent: r.reduce((n, x) => n + x.reactionsSent, 0),
      framesReceivedPerSecond: Math.round(r.reduce((n, x) => n + x.framesReceived / x.elapsedSeconds, 0)),
      flushesPerSecond: Number((fan.flushes / wall).toFixed(1)),
      socketWritesPerSecond: Math.round(fan.writes / wall),
      cpuMicrosPerSocketWrite: Number(((fan.cpuMs * 1000) / Math.max(1, fan.writes)).toFixed(2)),
      flushWallMs: Number((fan.wallMs / Math.max(1, fan.flushes)).toFixed(1)),
      fanoutMode: room.fanoutMode,
      serverCpuIdle: Number(serverCpuIdle.toFixed(3)),
      serverCpuLoad: Number(serverCpuLoad.toFixed(3)),
      serverLoopUtilization: Number(serverLoopUtilization.toFixed(3)),
      serverLoopDelayP99IdleMs: Math.round(loopIdle.percentile(99) / 1e5) / 10,
      serverLoopDelayP99LoadMs: Math.round(loopLoad.percentile(99) / 1e5) / 10,
      serverCpuPer1000Sockets: Number(((serverCpuLoad - serverCpuIdle) / (open / 1000)).toFixed(4)),
      rssBytesPerSocket: Math.round((mem1.rss - mem0.rss) / open),
      heapBytesPerSocket: Math.round((mem1.heapUsed + mem1.external - mem0.heapUsed - mem0.external) / open),
      originIdle,
      originLoad,
      ffmpegCpuIdle: Number(ffmpegCpuIdle.toFixed(3)),
      ffmpegCpuLoad: Number(ffmpegCpuLoad.toFixed(3)),
      clientCpuPerSecond: Number(r.reduce((n, x) => n + x.cpuSeconds / (x.elapsedSeconds + 1), 0).toFixed(3)),
      clientLoopDelayP99Ms: Math.max(...r.map((x) => x.loopDelayP99Ms)),
      slowClosed: app.http.room.slowClosed,
      loadAvgAtStart: Number(loadAvgAtStart.toFixed(2)),
    };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.connected) child.send({ type: 'close' } satisfies ToClients);
    }
    await Promise.all(children.map((child) => child.exitCode !== null ? undefined : new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
    })));
    pub?.kill('SIGKILL');
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--fanout');
  const mode = i > 0 ? process.argv[i + 1] : 'native';
  if (mode !== 'native' && mode !== 'js' && mode !== 'both') throw new Error(`--fanout native|js|both (got ${mode})`);
  const runs: Record<string, RoomBenchResult> = {};
  for (const fanout of mode === 'both' ? (['js', 'native'] as const) : [mode as 'native' | 'js']) {
    runs[fanout === 'js' ? 'event loop' : 'native threads'] = await runRoomBench({
      sockets: arg('sockets'), seconds: arg('seconds'), idleSeconds: arg('idle-seconds'), workers: arg('workers'),
      chatPerSecond: arg('chat'), reactionsPerSecond: arg('reactions'), height: arg('height'), fanout,
    });
  }
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const rows = (r: RoomBenchResult): Record<string, string | number> => ({
    'sockets (open at end)': `${r.sockets} (${r.socketsOpenAtEnd}), opened in ${r.openSeconds} s`,
    'messages sent / to every socket / to none': `${r.messagesSent} / ${r.messagesDeliveredToAll} / ${r.messagesUndelivered}${Object.keys(r.refused).length ? ` refused ${JSON.stringify(r.refused)}` : ''}`,
    'reactions sent': r.reactionsSent,
    'send to last receiver p50 / p99 (ms)': `${r.lastReceiverP50Ms} / ${r.lastReceiverP99Ms} (target p99 < 250: ${met(r.lastReceiverP99Ms < 250)})`,
    'send to first receiver p50 / p99 (ms)': `${r.firstReceiverP50Ms} / ${r.firstReceiverP99Ms}`,
    'frames received per second (all clients)': r.framesReceivedPerSecond,
    'room flushes / socket writes per second, CPU per write': `${r.flushesPerSecond} / ${r.socketWritesPerSecond}, ${r.cpuMicrosPerSocketWrite} µs`,
    'flush wall time (mean)': `${r.flushWallMs} ms`,
    'server CPU idle room / load (cores), loop utilization': `${r.serverCpuIdle} / ${r.serverCpuLoad}, ${r.serverLoopUtilization}`,
    'server CPU per 1,000 sockets (cores)': r.serverCpuPer1000Sockets,
    'server event-loop delay p99 idle room / load (ms)': `${r.serverLoopDelayP99IdleMs} / ${r.serverLoopDelayP99LoadMs}`,
    'memory per socket: RSS / heap+external (bytes)': `${r.rssBytesPerSocket} / ${r.heapBytesPerSocket} (target < 20 KB: ${met(r.rssBytesPerSocket < 20_480)})`,
    'origin latency idle room p50 / p95 (ms)': `${r.originIdle.sampledP50Ms} / ${r.originIdle.sampledP95Ms}`,
    'origin latency under load p50 / p95 (ms)': `${r.originLoad.sampledP50Ms} / ${r.originLoad.sampledP95Ms} (target within 50 ms: ${met(r.originLoad.sampledP50Ms - r.originIdle.sampledP50Ms <= 50)})`,
    'ffmpeg CPU idle / load (cores)': `${r.ffmpegCpuIdle} / ${r.ffmpegCpuLoad}`,
    'client processes CPU (cores), loop delay p99 (ms)': `${r.clientCpuPerSecond}, ${r.clientLoopDelayP99Ms}`,
    'sockets closed as slow': r.slowClosed,
    'load average at start': r.loadAvgAtStart,
  });
  const table: Record<string, Record<string, string | number>> = {};
  for (const [name, r] of Object.entries(runs)) for (const [k, v] of Object.entries(rows(r))) (table[k] ??= {})[name] = v;
  console.table(table);
  process.exit(0);
}
