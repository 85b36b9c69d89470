/**
 * RTMP ingest CPU per stream, measured as shared/notes/rtmp-ingest-facts.md describes: N publishers,
 * each `ffmpeg -re -stream_loop -1 -i src.flv -c copy -f flv rtmp://127.0.0.1:PORT/live/sN` of a
 * 720p30 H.264 + AAC file at ~3 Mbit/s, no viewers; the server's user+system CPU over the window
 * after a warm-up, as ms of CPU per second of stream. When nginx with libnginx-mod-rtmp is
 * installed, the same publishers are run against it (one process) and its CPU is read from /proc.
 * Run: npm run build && node dist/bench/rtmp-ingest.js [--streams 10] [--seconds 20] [--no-nginx]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { DEFAULT_READ_COALESCE_MS, RtmpServer, defaultRtmpLimits } from '../src/ingest/rtmp/rtmp-server.js';
import { processCpuSeconds } from '../src/core/proc-stat.js';
import { freePort } from '../test/helpers/free-port.js';

const execFileP = promisify(execFile);

export interface RtmpIngestBenchResult {
  streams: number;
  seconds: number;
  /** Showcase: ms of CPU (user+system, whole Node process) per second of one stream. */
  cpuMsPerStreamSecond: number;
  /** The user-space part of it (JavaScript, V8, libuv); the rest is the kernel (socket reads). */
  userCpuMsPerStreamSecond: number;
  /** Media messages handed to sinks per second, all streams. */
  packetsPerSecond: number;
  /** Socket reads per second of one stream (the read coalescer's hold sets how few). */
  readsPerStreamSecond: number;
  /** The most latency read coalescing adds (RtmpServer readCoalesceMs). */
  readCoalesceMs: number;
  /** Ingest rate, all streams. */
  mbitPerSecond: number;
  rssMb: number;
  /** nginx-rtmp measured the same way in the same run; null when it is not installed or failed. */
  nginxCpuMsPerStreamSecond: number | null;
  /** cpuMsPerStreamSecond / nginxCpuMsPerStreamSecond (the project's goal is <= 1.5). */
  ratioToNginx: number | null;
  nginxNote?: string;
}

const SOURCE_SECONDS = 20;

/** Makes (once, cached in os.tmpdir()) a 720p30 H.264 + AAC FLV at ~3 Mbit/s with camera-like noise. */
export async function makeBenchSource(): Promise<string> {
  // v2: keyframes exactly every 2 s and a whole number of GOPs (so the loop keeps the cadence): v1's
  // x264 defaults cut 59-frame GOPs and a short last one, which made the looped source fall back
  // from passthrough (SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_IRREGULAR) after its first loop.
  const file = join(tmpdir(), `showcase-bench-rtmp-720p30-3M-v2.flv`);
  if (existsSync(file)) return file;
  const partial = `${file}.${process.pid}.partial`;
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(SOURCE_SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3M', '-maxrate', '3M', '-bufsize', '3M', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', partial]);
  renameSync(partial, file);
  return file;
}

function spawnPublishers(source: string, port: number, streams: number): ChildProcess[] {
  return Array.from({ length: streams }, (_, i) =>
    spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', source, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/s${i}`], { stdio: 'ignore' }));
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGKILL');
  })));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Where scripts/setup.sh unpacks Debian's nginx and nginx-rtmp (no service installed), else a system install. */
const TOOLS_NGINX = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'showcase-tools', 'nginx');
const NGINX_BINARIES = [join(TOOLS_NGINX, 'usr/sbin/nginx'), '/usr/sbin/nginx'];
const RTMP_MODULES = [join(TOOLS_NGINX, 'usr/lib/nginx/modules/ngx_rtmp_module.so'), '/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/share/nginx/modules/ngx_rtmp_module.so'];

/** nginx-rtmp (one process, master_process off so its CPU is one pid) under the same publishers. */
async function measureNginx(source: string, streams: number, seconds: number, warmupMs: number): Promise<{ cpu: number } | { note: string }> {
  const mod = RTMP_MODULES.find((m) => existsSync(m));
  const NGINX = NGINX_BINARIES.find((b) => existsSync(b));
  if (!NGINX || !mod) return { note: 'nginx with nginx-rtmp not found (scripts/setup.sh unpacks it into ~/.cache/showcase-tools/nginx)' };
  const dir = mkdtempSync(join(tmpdir(), 'showcase-bench-nginx-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `load_module ${mod};
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
rtmp { access_log off; server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }
`);
  const nginx = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const pubs: ChildProcess[] = [];
  try {
    await sleep(500);
    if (nginx.exitCode !== null) return { note: `nginx exited ${nginx.exitCode}: ${readFileSync(join(dir, 'error.log'), 'utf8').slice(-300)}` };
    pubs.push(...spawnPublishers(source, port, streams));
    await sleep(warmupMs);
    const c0 = processCpuSeconds(nginx.pid!);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const c1 = processCpuSeconds(nginx.pid!);
    const wall = (performance.now() - t0) / 1000;
    if (pubs.some((p) => p.exitCode !== null)) return { note: 'a publisher to nginx exited early' };
    return { cpu: ((c1 - c0) * 1000) / (streams * wall) };
  } finally {
    await stopAll([...pubs, nginx]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs N publishers against an RtmpServer with an accept-all sink and reads this process's CPU over the window. */
export async function runRtmpIngestBench(opts: { streams?: number; seconds?: number; warmupSeconds?: number; nginx?: boolean; quick?: boolean; coalesceMs?: number } = {}): Promise<RtmpIngestBenchResult> {
  const streams = opts.streams ?? 10;
  const seconds = opts.seconds ?? 20;
  const warmupMs = (opts.warmupSeconds ?? (opts.quick ? 2 : 5)) * 1000;
  const source = await makeBenchSource();
  let packets = 0;
  const server = new RtmpServer({
    host: '127.0.0.1',
    port: 0,
    app: 'live',
    limits: { ...defaultRtmpLimits },
    ...(opts.coalesceMs !== undefined ? { readCoalesceMs: opts.coalesceMs } : {}),
    logger: pino({ level: 'warn' }),
    onPublish: () => ({ ok: true, sink: { onMetadata: () => {}, onPacket: () => void packets++, onClose: () => {} } }),
  });
  const { port } = await server.listen();
  const pubs = spawnPublishers(source, port, streams);
  let result: Omit<RtmpIngestBenchResult, 'nginxCpuMsPerStreamSecond' | 'ratioToNginx'>;
  try {
    const deadline = Date.now() + 15_000;
    while (server.stats().publishing < streams) {
      if (Date.now() > deadline) throw new Error(`only ${server.stats().publishing} of ${streams} publishers started`);
      await sleep(100);
    }
    await sleep(warmupMs);
    const cpu0 = process.cpuUsage();
    const bytes0 = server.stats().bytesReceived;
    const packets0 = packets;
    const reads0 = server.stats().reads;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    if (server.stats().publishing !== streams) throw new Error(`publishers dropped: ${server.stats().publishing} of ${streams}`);
    result = {
      streams,
      seconds: Number(wall.toFixed(2)),
      cpuMsPerStreamSecond: Number(((cpu.user + cpu.system) / 1000 / (streams * wall)).toFixed(3)),
      userCpuMsPerStreamSecond: Number((cpu.user / 1000 / (streams * wall)).toFixed(3)),
      packetsPerSecond: Math.round((packets - packets0) / wall),
      readsPerStreamSecond: Number(((server.stats().reads - reads0) / (streams * wall)).toFixed(1)),
      readCoalesceMs: opts.coalesceMs ?? DEFAULT_READ_COALESCE_MS,
      mbitPerSecond: Number((((server.stats().bytesReceived - bytes0) * 8) / wall / 1e6).toFixed(2)),
      rssMb: Math.round(process.memoryUsage().rss / 1e6),
    };
  } finally {
    await stopAll(pubs);
    await server.close();
  }
  let nginxCpu: number | null = null;
  let nginxNote: string | undefined;
  if (opts.nginx !== false) {
    const n = await measureNginx(source, streams, seconds, warmupMs).catch((err: Error) => ({ note: err.message }));
    if ('cpu' in n) nginxCpu = Number(n.cpu.toFixed(3));
    else nginxNote = n.note;
  }
  return {
    ...result,
    nginxCpuMsPerStreamSecond: nginxCpu,
    ratioToNginx: nginxCpu ? Number((result.cpuMsPerStreamSecond / nginxCpu).toFixed(2)) : null,
    ...(nginxNote ? { nginxNote } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const coalesce = process.argv.includes('--coalesce-ms') ? { coalesceMs: arg('coalesce-ms', 0) } : {};
  const r = await runRtmpIngestBench({ streams: arg('streams', 10), seconds: arg('seconds', 20), nginx: !process.argv.includes('--no-nginx'), ...coalesce });
  console.table(Object.entries(r).map(([figure, value]) => ({ figure, value })));
  process.exit(0);
}
