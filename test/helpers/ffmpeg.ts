import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const execFileP = promisify(execFile);

/** A test pattern with a tone, as small as the suite can afford. */
export const TEST_SOURCE = ['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];

/** Encodes a real fragmented MP4 (as the transcoder would) and returns its bytes. */
export async function makeFragmentedMp4(seconds: number, opts: { fragMicros?: number; segmentSeconds?: number } = {}): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'showcase-test-'));
  const file = join(dir, 'out.mp4');
  await execFileP('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...TEST_SOURCE, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-sc_threshold', '0',
    '-force_key_frames', `expr:gte(t,n_forced*${opts.segmentSeconds ?? 2})`, '-c:a', 'aac', '-b:a', '64k',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe+skip_trailer', '-frag_duration', String(opts.fragMicros ?? 300000), file]);
  return readFileSync(file);
}

/** Starts a real RTMP publisher (ffmpeg) of the test pattern; -re keeps it real time. */
export function publishRtmp(url: string, seconds: number, extra: string[] = []): ChildProcess & { done: Promise<number | null> } {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', ...TEST_SOURCE, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', ...extra, '-f', 'flv', url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return Object.assign(child, { done, get stderrText() { return stderr; } });
}

/** ffprobe's view of a file or URL: streams and format as JSON. */
export async function ffprobe(target: string): Promise<{ streams: Array<Record<string, unknown>>; format: Record<string, unknown> }> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', target], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout);
}

/** Decodes every frame of a file with ffmpeg (a real decoder) and returns the decoded video frame count. */
export async function decodeFrames(file: string): Promise<number> {
  const { stderr } = await execFileP('ffmpeg', ['-hide_banner', '-v', 'error', '-stats', '-i', file, '-map', '0:v:0', '-f', 'null', '-'], { maxBuffer: 16 * 1024 * 1024 });
  const m = [...stderr.matchAll(/frame=\s*(\d+)/g)].pop();
  return m ? Number(m[1]) : 0;
}

/** Whether a process (an ffmpeg child, a worker) still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
