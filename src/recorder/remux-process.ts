import ffmpeg from 'fluent-ffmpeg';
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../core/logger.js';

export interface RemuxOptions {
  ffmpegPath: string;
  /** Working directory: relative names in the input resolve against it. */
  cwd: string;
  input: string;
  inputFormat: string;
  inputOptions: string[];
  output: string;
  outputOptions: string[];
  /** Killed (SIGKILL) after this long; the promise rejects. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * One supervised ffmpeg remux (fluent-ffmpeg, the project's ffmpeg driver): owned by whoever holds
 * it, killed on timeout or by kill(), its last stderr lines kept for the error it rejects with.
 * The owner keeps the set of running remuxes and kills them on shutdown.
 */
export class RemuxProcess {
  readonly done: Promise<void>;
  #proc?: ChildProcess;
  #killed = false;
  #exited = false;
  readonly #lastLines: string[] = [];

  constructor(o: RemuxOptions) {
    this.done = new Promise<void>((resolve, reject) => {
      const cmd = ffmpeg({ cwd: o.cwd, stdoutLines: 0 })
        .setFfmpegPath(o.ffmpegPath)
        .input(o.input)
        .inputFormat(o.inputFormat)
        .inputOptions(o.inputOptions)
        .output(o.output)
        .outputOptions(o.outputOptions)
        .addOption('-nostats')
        .addOption('-loglevel', 'warning');
      const timer = setTimeout(() => {
        o.logger.warn({ timeoutMs: o.timeoutMs }, 'remux timed out: killing ffmpeg');
        this.kill();
      }, o.timeoutMs);
      timer.unref();
      cmd.on('start', (line: string) => {
        this.#proc = (cmd as unknown as { ffmpegProc: ChildProcess }).ffmpegProc;
        o.logger.debug({ cmd: line }, 'remux started');
        if (this.#killed) this.#proc.kill('SIGKILL');
      });
      cmd.on('stderr', (line: string) => {
        this.#lastLines.push(line.slice(0, 300));
        if (this.#lastLines.length > 5) this.#lastLines.shift();
      });
      cmd.on('error', (err: Error) => {
        clearTimeout(timer);
        this.#exited = true;
        const why = this.#killed ? 'remux killed' : err.message.split('\n')[0];
        reject(new Error(`${why}${this.#lastLines.length ? `; ffmpeg: ${this.#lastLines.join(' | ')}` : ''}`));
      });
      cmd.on('end', () => {
        clearTimeout(timer);
        this.#exited = true;
        resolve();
      });
      cmd.run();
    });
  }

  /** The ffmpeg pid once spawned. */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Kills ffmpeg now (shutdown, timeout); done rejects. */
  kill(): void {
    this.#killed = true;
    if (!this.#exited) this.#proc?.kill('SIGKILL');
  }
}
