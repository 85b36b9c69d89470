/** Test harness for the RTMP ingest server: a server on 127.0.0.1:0, recording sinks, captured logs. */
import { Writable } from 'node:stream';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createLogger } from '../../src/core/logger.js';
import type { MediaInfo } from '../../src/core/media.js';
import { RtmpServer, defaultRtmpLimits, type RtmpLimits, type RtmpPublishDecision, type RtmpPublishRequest, type RtmpPublisherSink } from '../../src/ingest/rtmp/rtmp-server.js';

/** What a sink saw of one packet (payload bytes only counted, not kept). */
export interface SeenPacket {
  kind: 'audio' | 'video';
  timestamp: number;
  keyframe: boolean;
  sequenceHeader: boolean;
  size: number;
  /** Video: AVCPacketType (0 sequence header, 1 NALUs, 2 end of sequence); audio: AACPacketType. */
  packetType: number;
  at: number;
}

/** A publisher sink that records everything it is given. */
export class RecordingSink implements RtmpPublisherSink {
  readonly metadata: Array<{ info: MediaInfo; raw: Record<string, unknown> }> = [];
  readonly packets: SeenPacket[] = [];
  readonly closes: string[] = [];
  readonly closed: Promise<string>;
  #resolveClosed!: (reason: string) => void;

  constructor(readonly request: RtmpPublishRequest) {
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  /** Records the metadata. */
  onMetadata(info: MediaInfo, raw: Record<string, unknown>): void {
    this.metadata.push({ info, raw });
  }

  /** Records the packet's flags and size. */
  onPacket(p: { kind: 'audio' | 'video'; timestamp: number; keyframe: boolean; sequenceHeader: boolean; payload: Buffer }): void {
    this.packets.push({ kind: p.kind, timestamp: p.timestamp, keyframe: p.keyframe, sequenceHeader: p.sequenceHeader, size: p.payload.length, packetType: p.payload[1] ?? -1, at: Date.now() });
  }

  /** Records the close. */
  onClose(reason: string): void {
    this.closes.push(reason);
    this.#resolveClosed(reason);
  }
}

export interface TestServer {
  server: RtmpServer;
  port: number;
  /** Sinks handed out, in order. */
  sinks: RecordingSink[];
  /** Parsed pino lines at warn and above. */
  logs: Array<Record<string, unknown>>;
  /** Raw log text (to check that a full key never appears). */
  logText(): string;
  close(): Promise<void>;
}

/** Starts an RtmpServer on 127.0.0.1:0 that accepts `keys` (one publisher per key) with the given limits. */
export async function startTestServer(opts: {
  keys?: string[];
  limits?: Partial<RtmpLimits>;
  app?: string;
  onPublish?: (req: RtmpPublishRequest) => RtmpPublishDecision | Promise<RtmpPublishDecision>;
} = {}): Promise<TestServer> {
  const keys = new Set(opts.keys ?? ['test-key-123456']);
  const sinks: RecordingSink[] = [];
  const live = new Map<string, RecordingSink>();
  let text = '';
  const logs: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      cb();
    },
  });
  const server = new RtmpServer({
    host: '127.0.0.1',
    port: 0,
    app: opts.app ?? 'live',
    limits: { ...defaultRtmpLimits, ...opts.limits },
    logger: createLogger('warn', dest),
    onPublish:
      opts.onPublish ??
      ((req) => {
        if (!keys.has(req.streamKey)) return { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason: 'unknown stream key' };
        const current = live.get(req.streamKey);
        if (current && current.closes.length === 0) return { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'stream key is already publishing' };
        const sink = new RecordingSink(req);
        sinks.push(sink);
        live.set(req.streamKey, sink);
        return { ok: true, sink };
      }),
  });
  const { port } = await server.listen();
  return { server, port, sinks, logs, logText: () => text, close: () => server.close() };
}

/** Polls until cond() is truthy or the timeout passes (then rejects with what it waited for). */
export async function waitUntil(cond: () => unknown, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A full garbage collection if the runtime allows it (turned on at runtime; no node flag needed). */
export function collectGarbage(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
