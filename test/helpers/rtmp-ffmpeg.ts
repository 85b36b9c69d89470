/** Real ffmpeg RTMP publishers for the ingest tests, and a TCP proxy that records what a client sends. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface Publisher {
  child: ChildProcess;
  /** Exit code (null when killed by a signal). */
  done: Promise<number | null>;
  stderr(): string;
  kill(): void;
}

/** The publisher: a 320x180 test pattern with a tone, x264 veryfast zerolatency, AAC, to FLV over RTMP. */
export function spawnPublisher(url: string, seconds: number, inputArgs: string[] = []): Publisher {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', ...inputArgs,
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60', '-c:a', 'aac', '-f', 'flv', url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done, stderr: () => err, kill: () => void child.kill('SIGKILL') };
}

/** A TCP proxy on 127.0.0.1:0 to 127.0.0.1:target that keeps every byte clients send. */
export async function recordingProxy(target: number): Promise<{ port: number; clientBytes(): Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    clientBytes: () => Buffer.concat(chunks),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
