import ffmpeg from 'fluent-ffmpeg';
import type { ChildProcess } from 'node:child_process';
import { TypedEmitter } from '../core/typed-emitter.js';
import type { Logger } from '../core/logger.js';
import type { MediaPacket } from '../core/media.js';
import { flvTag } from './flv-writer.js';

export interface FfmpegProcessOptions {
  ffmpegPath: string;
  inputFormat: string;
  inputOptions: string[];
  complexFilter?: string;
  outputs: Array<{ url: string; options: string[] }>;
  /** Grace between closing stdin / SIGTERM and SIGKILL. */
  killGraceMs: number;
  /**
   * Written to stdin and then stdin is closed (an SDP description); stop() then uses SIGTERM, which
   * ffmpeg answers by flushing its outputs. Without it, the owner streams stdin and stop() ends it.
   */
  stdinDocument?: string;
  logger: Logger;
}

export type FfmpegProcessEvents = {
  /** The process is running (pid known). */
  spawn: [pid: number];
  /** The process is gone. expected: we asked it to stop. */
  exit: [info: { code: number | null; signal: string | null; expected: boolean; message: string }];
};

/**
 * One ffmpeg run driven by fluent-ffmpeg: stdin is fed by the owner through write() (straight to the
 * child's pipe, corked so a packet's pieces leave in one writev), stderr goes to
 * pino (warnings and errors only, rate-limited), and stop() ends input, then SIGKILLs after a grace.
 * Restarts are the owner's business (Transcoder); this class only reports how the run ended.
 */
export class FfmpegProcess extends TypedEmitter<FfmpegProcessEvents> {
  #proc?: ChildProcess;
  /** Writes made before the process was spawned (fluent-ffmpeg spawns asynchronously). */
  #early: Buffer[] = [];
  #corked = false;
  #stopping = false;
  #exited = false;
  #killTimer?: NodeJS.Timeout;
  readonly #opts: FfmpegProcessOptions;
  readonly #log: Logger;
  /** Dropping input until a video keyframe (stdin was backed up past the bound). */
  #dropping = false;
  #stderrLines = 0;
  readonly #lastLines: string[] = [];

  constructor(opts: FfmpegProcessOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger;
  }

  /** Spawns ffmpeg. */
  start(): void {
    const o = this.#opts;
    const cmd = ffmpeg({ stdoutLines: 0 })
      .setFfmpegPath(o.ffmpegPath)
      .input('pipe:0')
      .inputFormat(o.inputFormat)
      .inputOptions(o.inputOptions);
    if (o.complexFilter) cmd.complexFilter(o.complexFilter);
    for (const out of o.outputs) cmd.output(out.url).outputOptions(out.options);
    cmd.addOption('-nostats').addOption('-loglevel', 'warning');
    cmd.on('start', (line: string) => {
      this.#proc = (cmd as unknown as { ffmpegProc: ChildProcess }).ffmpegProc;
      this.#proc.stdin?.on('error', () => {});
      this.#log.debug({ cmd: line }, 'ffmpeg started');
      if (this.#opts.stdinDocument !== undefined) {
        this.#proc.stdin?.end(this.#opts.stdinDocument);
        if (this.#stopping) this.#proc.kill('SIGTERM');
      } else {
        const early = this.#early;
        this.#early = [];
        if (early.length) this.write(early);
        if (this.#stopping) this.#proc.stdin?.end();
      }
      if (this.#proc?.pid) this.safeEmit('spawn', this.#proc.pid);
    });
    cmd.on('stderr', (line: string) => this.#onStderr(line));
    cmd.on('error', (err: Error) => this.#onExit(err.message));
    cmd.on('end', () => this.#onExit('exited with code 0'));
    cmd.run();
  }

  /** The process id, once running. */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Bytes queued towards ffmpeg's stdin and not yet taken by it. */
  get queuedBytes(): number {
    let n = this.#proc?.stdin?.writableLength ?? 0;
    for (const b of this.#early) n += b.length;
    return n;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Writes to ffmpeg's stdin (never blocks; the caller bounds queuedBytes). */
  write(chunks: Buffer[]): void {
    if (this.#stopping || this.#exited) return;
    const stdin = this.#proc?.stdin;
    if (!stdin) {
      this.#early.push(...chunks);
      return;
    }
    if (!this.#corked) {
      this.#corked = true;
      stdin.cork();
      process.nextTick(() => {
        this.#corked = false;
        stdin.uncork();
      });
    }
    for (const c of chunks) stdin.write(c);
  }

  /**
   * Writes one media packet as an FLV tag, bounded: once more than maxQueuedBytes wait on stdin
   * (ffmpeg cannot keep up) packets are dropped until a video keyframe finds the queue under half
   * of it, rather than queued without bound. 'overflow' is the packet that started a drop period.
   */
  writePacket(p: MediaPacket, maxQueuedBytes: number): 'written' | 'dropped' | 'overflow' {
    if (this.#dropping) {
      if (!(p.kind === 'video' && p.keyframe && this.queuedBytes < maxQueuedBytes / 2)) return 'dropped';
      this.#dropping = false;
    }
    if (this.queuedBytes > maxQueuedBytes) {
      this.#dropping = true;
      return 'overflow';
    }
    this.write(flvTag(p, p.timestamp));
    return 'written';
  }

  /** Ends input so ffmpeg flushes its outputs and exits; SIGKILL if it has not after the grace. */
  stop(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    if (!this.#stopping) {
      this.#stopping = true;
      if (this.#opts.stdinDocument !== undefined) this.#proc?.kill('SIGTERM');
      else this.#proc?.stdin?.end();
      this.#killTimer = setTimeout(() => this.kill('SIGKILL'), this.#opts.killGraceMs);
      this.#killTimer.unref();
    }
    return done;
  }

  /** Sends a signal now (tests use it to simulate a crash; stop() uses it after the grace). */
  kill(signal: NodeJS.Signals): void {
    if (!this.#exited) this.#proc?.kill(signal);
  }

  #onStderr(line: string): void {
    this.#lastLines.push(line);
    if (this.#lastLines.length > 10) this.#lastLines.shift();
    // ffmpeg can print a line per frame when input is broken: log the first lines, then sample.
    this.#stderrLines++;
    if (this.#stderrLines <= 20 || this.#stderrLines % 500 === 0) this.#log.warn({ ffmpeg: line.slice(0, 500) }, 'ffmpeg says');
  }

  #onExit(message: string): void {
    if (this.#exited) return;
    this.#exited = true;
    if (this.#killTimer) clearTimeout(this.#killTimer);
    this.#early = [];
    const proc = this.#proc;
    const code = proc?.exitCode ?? null;
    const signal = proc?.signalCode ?? null;
    this.safeEmit('exit', { code, signal, expected: this.#stopping, message: `${message}${this.#lastLines.length ? `; last output: ${this.#lastLines.slice(-3).join(' | ')}` : ''}` });
  }
}
