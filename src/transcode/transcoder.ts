import net from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FfmpegProcess } from './ffmpeg-process.js';
import { flvHeader, flvTag } from './flv-writer.js';
import { GopCache } from './gop-cache.js';
import { encodedPlan, isPassthrough, ladderFilterGraph, ladderOutput, partGrid, planLadder, type PartGrid, type PlannedRendition } from './ladder.js';
import { KeyframeCadence, type PassthroughRefusal } from './keyframe-cadence.js';
import { inspectFlvVideo } from '../core/media.js';
import { Fmp4Splitter } from '../playback/hls/fmp4-splitter.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import type { LiveStream, PublisherMedia, RtpMedia, StreamReader } from '../core/live-stream.js';
import type { MediaPacket } from '../core/media.js';
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/schema.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import type { HlsStream } from '../playback/hls/hls-stream.js';

export type TranscoderState = 'idle' | 'running' | 'restarting' | 'failed' | 'stopped';

export type TranscoderEvents = {
  state: [state: TranscoderState, reason: string];
  /** Passthrough was refused for this stream (the source's keyframes): the full ladder follows. */
  passthrough: [refusal: PassthroughRefusal];
  /** A new ffmpeg run started (first start or restart). */
  run: [info: { runId: number; pid: number; restart: boolean }];
};

export interface TranscoderOptions {
  stream: LiveStream;
  transcode: Config['transcode'];
  hls: Config['hls'];
  origin: HlsOrigin;
  /** Private directory (0700) for the per-rendition unix sockets ffmpeg writes to. */
  socketDir: string;
  logger: Logger;
}

interface Run {
  id: number;
  proc: FfmpegProcess;
  servers: net.Server[];
  flushed: Promise<void>[];
  /** A fragment came out of this run (ffmpeg decodes). */
  gotMedia: boolean;
  /** When the run last wrote a fragment (or started). */
  lastOutputAt: number;
  /** The stall watchdog's timer. */
  watchdog?: NodeJS.Timeout;
  /** Set when the watchdog killed it: how long it had been silent. */
  stalled?: number;
}

/** Bytes of the current GOP kept so a restarted ffmpeg starts from a keyframe at once. */
const MAX_GOP_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * The stream's ONE supervised ffmpeg, a reader of both media forms: packets go to its stdin as FLV,
 * RTP is read by ffmpeg itself from the publisher's plain-RTP copy (the SDP on stdin). It decodes once, encodes the
 * ladder and writes each rendition as fragmented MP4 to a unix socket whose bytes feed the LL-HLS
 * origin. Crashes restart with exponential backoff; too many in the window put it in 'failed'.
 */
export class Transcoder extends TypedEmitter<TranscoderEvents> implements StreamReader {
  readonly name = 'transcoder';
  readonly consumes = ['packets', 'rtp'] as const;
  state: TranscoderState = 'idle';
  restarts = 0;
  /** Runs killed by the stall watchdog (each also counts as a restart). */
  stalls = 0;
  droppedPackets = 0;
  /** Why the source's video is not copied as the top rendition (set once passthrough was refused). */
  passthroughRefusal?: PassthroughRefusal;
  readonly #o: TranscoderOptions;
  readonly #log: Logger;
  #run?: Run;
  #runSeq = 0;
  #plan?: PlannedRendition[];
  #grid?: PartGrid;
  #cadence?: KeyframeCadence;
  #hls?: HlsStream;
  readonly #gop = new GopCache(MAX_GOP_CACHE_BYTES);
  #failures: number[] = [];
  #restartTimer?: NodeJS.Timeout;
  #publishing = false;
  /** What the current publisher declared (kept through a crash restart). */
  #media?: PublisherMedia;
  #ended = false;
  /** When the last packet was written to (or dropped for) the running ffmpeg: is FLV input arriving? */
  #lastInputAt = 0;

  constructor(o: TranscoderOptions) {
    super();
    this.#o = o;
    this.#log = o.logger.child({ streamId: o.stream.id, component: 'transcoder' });
    this.onListenerError = (event, error) => this.#log.error({ err: error, event }, 'transcoder listener failed');
  }

  /** The renditions this stream is encoded into (after the first start). */
  get renditions(): PlannedRendition[] | undefined {
    return this.#plan;
  }

  /** 'passthrough': the top rendition is the source's video, copied; 'ladder': every rung encoded. */
  get mode(): 'passthrough' | 'ladder' | undefined {
    return this.#plan ? (isPassthrough(this.#plan) ? 'passthrough' : 'ladder') : undefined;
  }

  /** The pid of the running ffmpeg, if any (tests kill it to prove the restart). */
  get pid(): number | undefined {
    return this.#run?.proc.pid;
  }

  onPublisherStart(_stream: LiveStream, media: PublisherMedia): void {
    this.#publishing = true;
    this.#media = media;
    this.#failures = [];
    this.#gop.clear();
    if (this.state === 'failed') this.#setState('idle', 'publisher reconnected');
    // A takeover while a run is active: end it; the new publisher's keyframe starts the next run.
    const previous = this.#run ? this.#stopRun() : Promise.resolve();
    // RTP media sends no packets through the stream: start reading it now.
    if (media.form === 'rtp') void previous.then(() => this.#publishing && !this.#run && this.#startRun());
  }

  /** Writes a packet to ffmpeg's bounded stdin queue; false when dropped (queue full, or waiting for a keyframe). */
  onPacket(p: MediaPacket): boolean {
    if (p.sequenceHeader) return true; // kept on the stream; written at the start of every run
    this.#gop.push(p);
    if (this.#cadence && this.#run) this.#checkCadence(p);
    const run = this.#run;
    this.#lastInputAt = Date.now();
    if (!run) {
      if (p.kind === 'video' && p.keyframe && this.#publishing && !this.#restartTimer && this.state !== 'failed') this.#startRun();
      return true;
    }
    const r = run.proc.writePacket(p, this.#o.transcode.maxQueuedBytes);
    if (r === 'written') return true;
    this.droppedPackets++;
    if (r === 'overflow') this.#log.warn({ queuedBytes: run.proc.queuedBytes }, 'transcoder input queue full: dropping until next keyframe');
    return false;
  }

  onPublisherStop(): void {
    this.#publishing = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    void this.#stopRun();
  }

  onStreamEnd(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#publishing = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    void this.#stopRun().then(() => {
      this.#o.origin.end(this.#o.stream.id);
      this.#setState('stopped', reason);
    });
  }

  /**
   * Stops ffmpeg and waits for its outputs to flush, leaving the playlists open: the server is
   * stopping while the stream is live and the next process continues it (see LiveStream.interrupt).
   */
  async suspend(): Promise<void> {
    this.#ended = true;
    this.#publishing = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#stopRun();
    this.#setState('stopped', 'server stopping (stream interrupted)');
  }

  /** Stops ffmpeg and waits for its outputs to flush (server shutdown). */
  async close(): Promise<void> {
    this.onStreamEnd('server stopping');
    await this.#stopRun();
  }

  #setState(state: TranscoderState, reason: string): void {
    if (this.state === state) return;
    this.state = state;
    this.safeEmit('state', state, reason);
  }

  #ensurePlan(): { plan: PlannedRendition[]; hls: HlsStream; grid: PartGrid } {
    if (!this.#plan || !this.#hls || !this.#grid) {
      const stream = this.#o.stream;
      const info = stream.mediaInfo;
      this.#grid = partGrid(this.#o.hls, info.frameRate);
      // Passthrough needs H.264 whose keyframes we can watch: RTMP's FLV packets pass through here,
      // RTP (WebRTC) goes straight to ffmpeg, so it keeps the full ladder for now.
      const h264 = this.#media?.form === 'packets' && stream.videoConfig !== undefined && inspectFlvVideo(stream.videoConfig.payload).codecId === 7;
      const passthrough = this.#o.transcode.passthrough && h264 && this.passthroughRefusal === undefined;
      this.#plan = planLadder(this.#o.transcode.ladder, info.height, { passthrough });
      if (isPassthrough(this.#plan)) {
        this.#cadence = new KeyframeCadence({ segmentSeconds: this.#o.hls.segmentSeconds, frameRate: this.#grid.frameRate });
        // The run starts at the cached GOP's keyframe: the cadence counts from it.
        const head = this.#gop.packets[0];
        if (head) this.#cadence.observe(head);
      }
      this.#hls = this.#o.origin.getOrCreate(stream.id, this.#plan.map((r) => ({
        name: r.name,
        fallbackBandwidth: (r.videoBitrateKbps + this.#o.transcode.audioBitrateKbps) * 1000,
      })), { segmentSeconds: this.#o.hls.segmentSeconds, partSeconds: this.#grid.partSeconds, partHoldBackParts: this.#o.hls.partHoldBackParts });
      this.#log.info({ mode: this.mode, renditions: this.#plan.map((r) => `${r.name}${r.copy ? ' (copy)' : ''}`), partFrames: this.#grid.partFrames, frameRate: this.#grid.frameRate }, 'ladder planned');
      // A stream continued after a restart: run ids (init<run>.mp4) continue above the previous process's.
      this.#runSeq = Math.max(this.#runSeq, this.#hls.continuedFrom?.lastRunId ?? 0);
      // The transcoder publishes renditions: readers of them (the recorder) learn it from the stream.
      this.#o.stream.announceRenditions();
    }
    return { plan: this.#plan, hls: this.#hls, grid: this.#grid };
  }

  /**
   * The copied source must keep keyframes at most two segment targets apart and regular: otherwise
   * passthrough is refused for this stream and the run restarts (from the cached GOP) with every
   * rung encoded and keyframes forced, under the same rendition names.
   */
  #checkCadence(p: MediaPacket): void {
    const refusal = this.#cadence!.observe(p);
    if (!refusal || !this.#plan) return;
    this.#cadence = undefined;
    this.passthroughRefusal = refusal;
    this.#plan = encodedPlan(this.#plan);
    this.#log.warn({ code: refusal, segmentSeconds: this.#o.hls.segmentSeconds }, 'source keyframes unfit for passthrough: encoding the full ladder');
    this.safeEmit('passthrough', refusal);
    const run = this.#run;
    void this.#stopRun().then(() => {
      if (this.#publishing && !this.#ended && !this.#run && run) this.#startRun();
    });
  }

  #startRun(): void {
    const stream = this.#o.stream;
    const media = this.#media;
    const rtp = this.#rtp();
    if (!media || (!rtp && (!stream.videoConfig || this.#gop.packets.length === 0))) return;
    const { plan, hls, grid } = this.#ensurePlan();
    const runId = ++this.#runSeq;
    const first = this.#gop.packets[0];
    const wallEpochMs = first ? stream.wallClockOf(first.timestamp) : Date.now();
    const hasAudio = rtp ? media.tracks.some((t) => t.kind === 'audio') : stream.audioConfig !== undefined;
    const servers: net.Server[] = [];
    const flushed: Promise<void>[] = [];
    const urls: string[] = [];
    const shortId = stream.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 12);
    plan.forEach((r, i) => {
      const path = join(this.#o.socketDir, `${shortId}-${runId}-${i}.sock`);
      rmSync(path, { force: true });
      const tl = hls.timelines.get(r.name)!;
      let resolveFlushed!: () => void;
      flushed.push(new Promise<void>((res) => (resolveFlushed = res)));
      const server = net.createServer((sock) => {
        server.close(); // exactly one writer per rendition and run
        const splitter = new Fmp4Splitter();
        sock.on('data', (data: Buffer) => {
          try {
            for (const c of splitter.push(data)) {
              if (c.type === 'init') tl.startRun(runId, c.data, wallEpochMs);
              else {
                tl.addFragment(c.data);
                run.gotMedia = true;
                run.lastOutputAt = Date.now();
              }
            }
          } catch (err) {
            this.#log.error({ err, rendition: r.name }, 'bad fMP4 from ffmpeg: restarting the run');
            sock.destroy();
            run.proc.kill('SIGKILL');
          }
        });
        sock.on('close', () => resolveFlushed());
        sock.on('error', () => {});
      });
      server.on('close', () => rmSync(path, { force: true }));
      server.listen(path);
      servers.push(server);
      urls.push(`unix:${path}`);
    });
    const opts = { renditions: plan, outputs: urls, grid, audioBitrateKbps: this.#o.transcode.audioBitrateKbps, x264Preset: this.#o.transcode.x264Preset, sourceFrameRate: stream.mediaInfo.frameRate, hasAudio };
    const proc = new FfmpegProcess({
      ffmpegPath: this.#o.transcode.ffmpegPath,
      inputFormat: rtp ? 'sdp' : 'flv',
      // Small probe: the FLV we write starts with both codec configurations, nothing to search for.
      // RTP waits for a keyframe (requested below) and needs the RTP protocols whitelisted.
      // The decoder threads by slices only: frame threading holds one frame per extra thread before
      // the first comes out (60-95 ms more origin latency at 720p30 here, bench/origin-latency
      // --no-passthrough), for no CPU saved. A sliced source (x264 zerolatency, OBS's) still decodes
      // on several threads; a single-slice one on one, a few ms a frame at 720p.
      inputOptions: [...(rtp
        ? ['-protocol_whitelist', 'pipe,udp,rtp', '-probesize', '5000000', '-analyzeduration', '5000000', '-fflags', '+genpts', '-reorder_queue_size', '64']
        // +nobuffer loses the packets read while probing from a copied stream: not with passthrough.
        : ['-probesize', '65536', '-analyzeduration', '200000', ...(isPassthrough(plan) ? [] : ['-fflags', '+nobuffer'])]), '-thread_type', 'slice'],
      stdinDocument: rtp?.sdp,
      complexFilter: ladderFilterGraph(opts),
      outputs: [ladderOutput(opts)],
      killGraceMs: this.#o.transcode.killGraceMs,
      logger: this.#log,
    });
    const run: Run = { id: runId, proc, servers, flushed, gotMedia: false, lastOutputAt: Date.now() };
    this.#run = run;
    this.#watch(run);
    const restart = runId > 1;
    proc.on('spawn', (pid) => {
      this.#log.info({ runId, pid, renditions: plan.map((r) => r.name), restart, input: rtp ? 'rtp' : 'flv' }, 'transcoder run started');
      this.safeEmit('run', { runId, pid, restart });
      if (rtp) {
        // ffmpeg can only start decoding at a keyframe (with its SPS/PPS), and one sent before it
        // has bound its RTP ports is lost: ask now and again on a bounded schedule until media
        // comes out of this run.
        rtp.requestKeyFrame();
        let asks = 0;
        const timer = setInterval(() => {
          if (run !== this.#run || run.gotMedia || ++asks > 40) clearInterval(timer);
          else rtp.requestKeyFrame();
        }, 500);
        timer.unref();
      }
    });
    proc.on('exit', (info) => this.#onRunExit(run, info));
    proc.start();
    this.#setState('running', restart ? 'restarted' : 'started');
    if (rtp || !first || !stream.videoConfig) return;
    const head: Buffer[] = [flvHeader(hasAudio, true)];
    head.push(...flvTag(stream.videoConfig, first.timestamp));
    if (stream.audioConfig) head.push(...flvTag(stream.audioConfig, first.timestamp));
    for (const p of this.#gop.packets) head.push(...flvTag(p, p.timestamp));
    proc.write(head);
  }

  /**
   * The stall watchdog: a run that writes no media for stallTimeoutMs while its input keeps arriving
   * is hung (a wedged decoder, a blocked output, a stuck RTP demuxer): kill it, and the exit path
   * restarts it like a crash. Input that stopped (a publisher gone quiet) is not a stall.
   */
  #watch(run: Run): void {
    const limit = this.#o.transcode.stallTimeoutMs;
    const rtp = this.#rtp();
    let lastBytes = -1;
    let checking = false;
    run.watchdog = setInterval(() => {
      if (run !== this.#run || run.proc.exited) {
        clearInterval(run.watchdog);
        return;
      }
      // A run's first media comes after ffmpeg's start-up and probing (RTP: seconds): give it twice the time.
      const silentMs = Date.now() - run.lastOutputAt - (run.gotMedia ? 0 : limit);
      if (checking || !this.#publishing) return;
      if (rtp) {
        // RTP arrives without passing through us: once the run has been quiet a while, ask the
        // bridge (once a tick) whether bytes still flow.
        if (!rtp.sentBytes) return;
        if (silentMs < limit / 2) {
          lastBytes = -1;
          return;
        }
        checking = true;
        rtp.sentBytes().then((bytes) => {
          checking = false;
          const flowing = lastBytes >= 0 && bytes > lastBytes;
          lastBytes = bytes;
          if (flowing && Date.now() - run.lastOutputAt - (run.gotMedia ? 0 : limit) > limit) this.#stalled(run, Date.now() - run.lastOutputAt);
        }, () => { checking = false; });
        return;
      }
      if (silentMs > limit && Date.now() - this.#lastInputAt < Math.min(limit / 2, 2000)) this.#stalled(run, Date.now() - run.lastOutputAt);
    }, Math.min(1000, Math.max(100, Math.floor(limit / 4))));
    run.watchdog.unref();
  }

  #stalled(run: Run, silentMs: number): void {
    if (run !== this.#run || run.proc.exited) return;
    this.stalls++;
    run.stalled = silentMs;
    this.#log.warn({ code: 'SHOWCASE_ERR_TRANSCODER_STALLED', runId: run.id, pid: run.proc.pid, silentMs, input: this.#media?.form ?? 'none' }, 'ffmpeg wrote no media while its input kept arriving: killing it for a restart');
    run.proc.kill('SIGKILL');
  }

  /** The current publisher's RTP media, when it declared that form. */
  #rtp(): RtpMedia | undefined {
    const m = this.#media;
    return m?.form === 'rtp' ? m.rtp : undefined;
  }

  async #stopRun(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    await run.proc.stop();
    await this.#drain(run);
  }

  /** Waits (bounded) for a run's outputs to deliver their last bytes, then releases its sockets. */
  async #drain(run: Run): Promise<void> {
    const timeout = new Promise<void>((res) => setTimeout(res, 2000).unref());
    await Promise.race([Promise.all(run.flushed), timeout]);
    for (const s of run.servers) s.close();
    if (this.#run === run) this.#run = undefined;
  }

  #onRunExit(run: Run, info: { code: number | null; signal: string | null; expected: boolean; message: string }): void {
    clearInterval(run.watchdog);
    if (run.stalled !== undefined && !info.expected) info = { ...info, message: `stalled: no media for ${run.stalled} ms while input arrived` };
    if (info.expected) {
      this.#log.info({ runId: run.id, code: info.code }, 'transcoder run ended');
      return;
    }
    this.#log.warn({ runId: run.id, code: info.code, signal: info.signal, reason: info.message }, 'ffmpeg exited unexpectedly');
    void this.#drain(run).then(() => {
      if (this.#ended || !this.#publishing) return;
      const now = Date.now();
      this.#failures = this.#failures.filter((t) => now - t < this.#o.transcode.restartWindowMs);
      this.#failures.push(now);
      if (this.#failures.length > this.#o.transcode.maxRestarts) {
        this.#log.error({ code: 'SHOWCASE_ERR_TRANSCODER_FAILED', failures: this.#failures.length, windowMs: this.#o.transcode.restartWindowMs }, 'transcoder failed repeatedly: giving up until the publisher reconnects');
        this.#setState('failed', info.message);
        return;
      }
      const backoff = Math.min(this.#o.transcode.restartBackoffMs * 2 ** (this.#failures.length - 1), this.#o.transcode.restartBackoffMaxMs);
      this.#setState('restarting', info.message);
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = undefined;
        if (!this.#publishing || this.#ended) return;
        this.restarts++;
        // Restart from the cached GOP at once: no waiting for the publisher's next keyframe.
        this.#startRun();
      }, backoff);
      this.#restartTimer.unref();
    });
  }
}
