import type { types } from 'mediasoup';
import { FfmpegProcess } from './ffmpeg-process.js';
import { flvHeader, flvTag } from './flv-writer.js';
import { GopCache } from './gop-cache.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import type { LiveStream, StreamReader } from '../core/live-stream.js';
import type { MediaPacket } from '../core/media.js';
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/schema.js';
import type { PlaybackSource } from '../webrtc/stream-fanout.js';
import type { WorkerPool } from '../webrtc/worker-pool.js';

export type RtmpPlaybackSettings = Config['webrtc']['rtmpPlayback'];
/** The transcode settings the RTP encode shares with the HLS ladder (binary, restart policy, kill grace). */
export type RtpEncodeSupervision = Pick<Config['transcode'], 'ffmpegPath' | 'killGraceMs' | 'maxRestarts' | 'restartWindowMs' | 'restartBackoffMs' | 'restartBackoffMaxMs'>;

/**
 * Fixed RTP identities: ffmpeg is told to send exactly these (-ssrc, -payload_type) and the
 * producers are created with them, so nothing has to be learned from the first packets. Every
 * stream has its own router and transports, so the same values serve every stream.
 */
export const RTP_VIDEO = { ssrc: 0x52544d50, payloadType: 102 } as const;
export const RTP_AUDIO = { ssrc: 0x52544d51, payloadType: 111 } as const;

/** H.264 constrained baseline (42e0), level 3.1 (1f: 720p30), packetization-mode 1: what every browser decodes. */
const H264_PARAMETERS = { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 };

/** The codecs of a feed's router (the edge routers viewers consume from are built from these). */
export const RTP_ROUTER_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: H264_PARAMETERS },
];

/** The output half of the encode's command line: one `-f rtp` output per track (video first). */
export function rtpEncodeOutputs(s: RtmpPlaybackSettings, targets: { video: string; audio?: string }): Array<{ url: string; options: string[] }> {
  const fps = s.maxFrameRate;
  const kbps = s.videoBitrateKbps;
  const video = [
    '-map', '0:v:0',
    // Scaled down only; -2 keeps the width even and the aspect ratio.
    '-vf', `scale=w=-2:h=min(ih\\,${s.maxHeight})`, '-fpsmax', String(fps), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', s.x264Preset, '-tune', 'zerolatency', '-profile:v', 'baseline', '-level:v', '3.1',
    '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
    // Viewers' PLIs stop at mediasoup (ffmpeg cannot be asked for a keyframe): a short fixed GOP is
    // what bounds a new viewer's wait for its first picture.
    '-force_key_frames', `expr:gte(t,n_forced*${s.keyframeSeconds})`, '-forced-idr', '1', '-g', String(Math.max(1, Math.round(fps * s.keyframeSeconds * 2))), '-bf', '0',
    '-ssrc', String(RTP_VIDEO.ssrc), '-payload_type', String(RTP_VIDEO.payloadType), '-f', 'rtp',
  ];
  const out = [{ url: targets.video, options: video }];
  if (targets.audio) {
    out.push({
      url: targets.audio,
      options: ['-map', '0:a:0', '-c:a', 'libopus', '-b:a', `${s.audioBitrateKbps}k`, '-ar', '48000', '-ac', '2', '-application', 'lowdelay', '-frame_duration', '20',
        '-ssrc', String(RTP_AUDIO.ssrc), '-payload_type', String(RTP_AUDIO.payloadType), '-f', 'rtp'],
    });
  }
  return out;
}

export interface RtmpRtpSourceOptions {
  stream: LiveStream;
  pool: WorkerPool;
  settings: RtmpPlaybackSettings;
  supervision: RtpEncodeSupervision;
  /** Address the PlainTransports listen on for ffmpeg (same host): 127.0.0.1. */
  ip?: string;
  logger: Logger;
}

export type RtmpRtpSourceEvents = {
  /** The feed is gone (idle, stream end, worker death, shutdown); its router is closed. */
  closed: [reason: string];
  /** An encode run started (first or restart). */
  run: [info: { runId: number; pid: number; restart: boolean }];
};

interface Track {
  transport: types.PlainTransport;
  producer: types.Producer;
}

interface Run {
  id: number;
  proc: FfmpegProcess;
}

/** Bytes of the current GOP kept for a restart (the source's GOP, not the encode's). */
const MAX_GOP_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * Makes an RTMP (FLV-shaped) stream watchable over WebRTC: a reader of the stream that feeds FLV to
 * its own supervised ffmpeg, which encodes H.264 constrained baseline + Opus and sends RTP to two
 * mediasoup PlainTransports (comedia: ffmpeg's address is learned from its first packet) on a router
 * of the feed's own. The producers on them are the PlaybackSource WHEP viewers consume. The HLS
 * ladder's ffmpeg is untouched: this second encode exists only while someone watches over WebRTC.
 */
export class RtmpRtpSource extends TypedEmitter<RtmpRtpSourceEvents> implements StreamReader {
  readonly name = 'webrtc-rtp';
  readonly consumes = ['packets'] as const;
  readonly streamId: string;
  readonly router: types.Router;
  readonly #video: Track;
  readonly #audio?: Track;
  readonly #o: RtmpRtpSourceOptions;
  readonly #log: Logger;
  readonly #gop = new GopCache(MAX_GOP_CACHE_BYTES);
  #run?: Run;
  #runSeq = 0;
  #publishing = false;
  #closed = false;
  #failures: number[] = [];
  #restartTimer?: NodeJS.Timeout;
  #stopping?: Promise<void>;
  restarts = 0;
  droppedPackets = 0;

  private constructor(o: RtmpRtpSourceOptions, router: types.Router, video: Track, audio: Track | undefined, log: Logger) {
    super();
    this.#o = o;
    this.streamId = o.stream.id;
    this.router = router;
    this.#video = video;
    this.#audio = audio;
    this.#log = log;
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'rtmp rtp source listener failed');
    // A dying worker takes the router: the feed is over (the next viewer starts a new one).
    router.observer.once('close', () => void this.close('router closed'));
  }

  /**
   * Builds the router, transports and producers, then attaches to the stream (the encode starts at
   * the next keyframe). Rejects, closing what it made, when mediasoup refuses.
   */
  static async create(o: RtmpRtpSourceOptions): Promise<RtmpRtpSource> {
    const log = o.logger.child({ streamId: o.stream.id, component: 'rtmp-rtp' });
    const router = await o.pool.createRouter(`rtmp-rtp:${o.stream.id}`, RTP_ROUTER_CODECS);
    try {
      const ip = o.ip ?? '127.0.0.1';
      const plain = (): Promise<types.PlainTransport> => router.createPlainTransport({ listenInfo: { protocol: 'udp', ip }, rtcpMux: false, comedia: true });
      const vt = await plain();
      const video: Track = {
        transport: vt,
        producer: await vt.produce({
          kind: 'video',
          rtpParameters: {
            codecs: [{ mimeType: 'video/H264', payloadType: RTP_VIDEO.payloadType, clockRate: 90000, parameters: H264_PARAMETERS, rtcpFeedback: [] }],
            encodings: [{ ssrc: RTP_VIDEO.ssrc }],
            rtcp: { cname: `showcase-${o.stream.id}`, reducedSize: false },
          },
          appData: { source: 'rtmp' },
        }),
      };
      let audio: Track | undefined;
      if (o.stream.audioConfig) {
        const at = await plain();
        audio = {
          transport: at,
          producer: await at.produce({
            kind: 'audio',
            rtpParameters: {
              codecs: [{ mimeType: 'audio/opus', payloadType: RTP_AUDIO.payloadType, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
              encodings: [{ ssrc: RTP_AUDIO.ssrc }],
              rtcp: { cname: `showcase-${o.stream.id}`, reducedSize: false },
            },
            appData: { source: 'rtmp' },
          }),
        };
      }
      const source = new RtmpRtpSource(o, router, video, audio, log);
      o.stream.addReader(source);
      log.info({ router: router.id, audio: audio !== undefined, videoPort: vt.tuple.localPort }, 'RTMP-to-WebRTC feed ready');
      return source;
    } catch (err) {
      router.close();
      throw err;
    }
  }

  /** What WHEP viewers consume. No requestKeyFrame: PLIs cannot reach ffmpeg; the short GOP stands in. */
  get source(): PlaybackSource {
    return { streamId: this.streamId, router: this.router, producers: [this.#video.producer, ...(this.#audio ? [this.#audio.producer] : [])] };
  }

  /** Pid of the running encode, if any. */
  get pid(): number | undefined {
    return this.#run?.proc.pid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onPublisherStart(): void {
    this.#publishing = true;
    this.#failures = [];
    this.#gop.clear();
    // A takeover mid-run: the new publisher's first keyframe starts the next run.
    if (this.#run) void this.#stopRun();
  }

  /** Writes a packet to the encode's bounded stdin queue; false when dropped. */
  onPacket(p: MediaPacket): boolean {
    if (this.#closed || p.sequenceHeader) return true;
    this.#gop.push(p);
    const run = this.#run;
    if (!run) {
      if (p.kind === 'video' && p.keyframe && this.#publishing && !this.#restartTimer && !this.#stopping) this.#startRun();
      return true;
    }
    const r = run.proc.writePacket(p, this.#o.settings.maxQueuedBytes);
    if (r === 'written') return true;
    this.droppedPackets++;
    if (r === 'overflow') this.#log.warn({ queuedBytes: run.proc.queuedBytes }, 'RTP encode input queue full: dropping until next keyframe');
    return false;
  }

  onPublisherStop(): void {
    // Viewers stay connected through a reconnect grace (frozen picture); the encode stops.
    this.#publishing = false;
    this.#clearRestart();
    void this.#stopRun();
  }

  onStreamEnd(reason: string): void {
    void this.close(`stream ended: ${reason}`);
  }

  /** Stops the encode, detaches from the stream and closes the router (and so every viewer's source). Idempotent. */
  async close(reason: string): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#publishing = false;
      this.#clearRestart();
      this.#o.stream.removeReader(this.name);
      if (!this.router.closed) this.router.close();
      this.#log.info({ reason, restarts: this.restarts, droppedPackets: this.droppedPackets }, 'RTMP-to-WebRTC feed closed');
      this.safeEmit('closed', reason);
    }
    await this.#stopRun();
  }

  #clearRestart(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  #startRun(): void {
    const stream = this.#o.stream;
    const gop = this.#gop.packets;
    if (this.#closed || !stream.videoConfig || gop.length === 0) return;
    const runId = ++this.#runSeq;
    const hasAudio = this.#audio !== undefined && stream.audioConfig !== undefined;
    const target = (t: Track): string => `rtp://127.0.0.1:${t.transport.tuple.localPort}?rtcpport=${t.transport.rtcpTuple!.localPort}&pkt_size=1200`;
    const proc = new FfmpegProcess({
      ffmpegPath: this.#o.supervision.ffmpegPath,
      inputFormat: 'flv',
      // The FLV starts with both codec configurations: nothing to probe for (as the HLS transcoder).
      inputOptions: ['-probesize', '65536', '-analyzeduration', '200000', '-fflags', '+nobuffer'],
      outputs: rtpEncodeOutputs(this.#o.settings, { video: target(this.#video), ...(hasAudio ? { audio: target(this.#audio!) } : {}) }),
      killGraceMs: this.#o.supervision.killGraceMs,
      logger: this.#log,
    });
    const run: Run = { id: runId, proc };
    this.#run = run;
    const restart = runId > 1;
    proc.on('spawn', (pid) => {
      this.#log.info({ runId, pid, restart, audio: hasAudio }, 'RTP encode started');
      this.safeEmit('run', { runId, pid, restart });
    });
    proc.on('exit', (info) => this.#onRunExit(run, info));
    proc.start();
    const head: Buffer[] = [flvHeader(hasAudio, true)];
    const first = gop[0]!;
    head.push(...flvTag(stream.videoConfig, first.timestamp));
    if (hasAudio) head.push(...flvTag(stream.audioConfig!, first.timestamp));
    for (const p of gop) head.push(...flvTag(p, p.timestamp));
    proc.write(head);
  }

  #stopRun(): Promise<void> {
    const run = this.#run;
    if (!run) return this.#stopping ?? Promise.resolve();
    this.#run = undefined;
    const done = run.proc.stop().then(() => { if (this.#stopping === done) this.#stopping = undefined; });
    this.#stopping = done;
    return done;
  }

  #onRunExit(run: Run, info: { code: number | null; signal: string | null; expected: boolean; message: string }): void {
    if (this.#run === run) this.#run = undefined;
    if (info.expected) {
      this.#log.info({ runId: run.id, code: info.code }, 'RTP encode ended');
      return;
    }
    this.#log.warn({ runId: run.id, code: info.code, signal: info.signal, reason: info.message }, 'RTP encode exited unexpectedly');
    if (this.#closed || !this.#publishing) return;
    const now = Date.now();
    const s = this.#o.supervision;
    this.#failures = this.#failures.filter((t) => now - t < s.restartWindowMs);
    this.#failures.push(now);
    if (this.#failures.length > s.maxRestarts) {
      this.#log.error({ code: 'SHOWCASE_ERR_TRANSCODER_FAILED', failures: this.#failures.length }, 'RTP encode failed repeatedly: closing the WebRTC feed');
      void this.close('RTP encode failed repeatedly');
      return;
    }
    const backoff = Math.min(s.restartBackoffMs * 2 ** (this.#failures.length - 1), s.restartBackoffMaxMs);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#closed || !this.#publishing || this.#run) return;
      this.restarts++;
      // From the cached GOP at once: same producers, so viewers keep their sessions.
      this.#startRun();
    }, backoff);
    this.#restartTimer.unref();
  }
}
