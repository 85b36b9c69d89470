import type { RenditionConfig } from '../config/schema.js';

/** A rung of the ladder as it will be produced for one stream. */
export interface PlannedRendition {
  name: string;
  height: number;
  videoBitrateKbps: number;
  maxFrameRate: number;
  /** The source's own video, copied (source passthrough), not re-encoded. */
  copy?: boolean;
}

/**
 * Chooses the rungs for a source: rungs taller than the source are dropped (upscaling wastes bits),
 * and if none is left the lowest rung is kept, capped at the source height.
 *
 * With passthrough (the source is H.264 and no taller than the top rung), the rung the source fills
 * (the shortest one at least as tall) becomes the source itself, copied at its own height, and the
 * rungs below the source are encoded from it.
 */
export function planLadder(ladder: readonly RenditionConfig[], sourceHeight: number | undefined, opts: { passthrough?: boolean } = {}): PlannedRendition[] {
  const sorted = [...ladder].sort((a, b) => b.height - a.height);
  if (!sourceHeight) return sorted.map((r) => ({ ...r }));
  if (opts.passthrough && sourceHeight <= sorted[0]!.height) {
    const filled = [...sorted].reverse().find((r) => r.height >= sourceHeight)!;
    const below = sorted.filter((r) => r.height < sourceHeight);
    return [{ ...filled, height: sourceHeight, copy: true }, ...below.map((r) => ({ ...r }))];
  }
  const fit = sorted.filter((r) => r.height <= sourceHeight);
  if (fit.length > 0) return fit.map((r) => ({ ...r }));
  const lowest = sorted[sorted.length - 1]!;
  return [{ ...lowest, height: sourceHeight - (sourceHeight % 2) }];
}

/** The same renditions (names, heights) all encoded: the fallback when passthrough is refused mid-stream. */
export function encodedPlan(plan: readonly PlannedRendition[]): PlannedRendition[] {
  return plan.map(({ copy: _copy, ...r }) => ({ ...r }));
}

/** Whether a plan copies the source. */
export function isPassthrough(plan: readonly PlannedRendition[]): boolean {
  return plan.some((r) => r.copy);
}

/**
 * The LL-HLS part grid of a stream: parts are a whole number of frames at the source's rate (10 at
 * 30 fps), segments a whole number of parts, so no segment ends in a runt part.
 */
export interface PartGrid {
  /** Frame rate the grid is built on (the source's, or 30 when unknown). */
  frameRate: number;
  partFrames: number;
  /** Exact part duration (partFrames / frameRate); PART-TARGET announces it rounded up to the ms. */
  partSeconds: number;
  /** Keyframe interval of encoded rungs in ladder mode: a whole number of parts. */
  segmentSeconds: number;
  /** ffmpeg's -frag_duration (see fragThresholdMicros). */
  fragMicros: number;
}

/** Builds the part grid from the configured targets and the source's frame rate. */
export function partGrid(hls: { segmentSeconds: number; partSeconds: number }, frameRate?: number): PartGrid {
  const fps = frameRate !== undefined && Number.isFinite(frameRate) && frameRate >= 5 && frameRate <= 120 ? frameRate : 30;
  const partFrames = Math.max(1, Math.round(hls.partSeconds * fps));
  const segmentParts = Math.max(1, Math.round((hls.segmentSeconds * fps) / partFrames));
  return {
    frameRate: fps,
    partFrames,
    partSeconds: partFrames / fps,
    segmentSeconds: (segmentParts * partFrames) / fps,
    fragMicros: fragThresholdMicros(partFrames, fps),
  };
}

/** AAC frame: 1024 samples at the 48 kHz the ladder encodes audio at. */
const AAC_FRAME_SAMPLES = 1024;
const AAC_FRAME_SECONDS = AAC_FRAME_SAMPLES / 48000;

/**
 * The mp4 muxer starts a new fragment before the first packet OF ANY TRACK at least -frag_duration
 * past that track's first packet in the fragment. Video must cut at exactly partFrames frames
 * (threshold above partFrames-1 frames, a millisecond of timestamp jitter under partFrames), and
 * audio, whose own cadence is a whole number of AAC frames, must never cut before that: its
 * cadence has to reach the part (16 AAC frames = 341 ms for a 333 ms part). An audio-triggered cut
 * then always falls between the part's last frame and the next one. The middle of that window.
 */
export function fragThresholdMicros(partFrames: number, frameRate: number): number {
  const frame = 1 / frameRate;
  const part = partFrames * frame;
  const audioFrames = Math.ceil(part / AAC_FRAME_SECONDS - 1e-9);
  const lo = Math.max((partFrames - 1) * frame, (audioFrames - 1) * AAC_FRAME_SECONDS);
  const hi = part - 0.001;
  const threshold = lo < hi ? (lo + hi) / 2 : part - frame / 2;
  return Math.round(threshold * 1e6);
}

export interface LadderArgsOptions {
  renditions: PlannedRendition[];
  /** Output URL per rendition, same order. */
  outputs: string[];
  grid: PartGrid;
  audioBitrateKbps: number;
  x264Preset: string;
  /** Source frame rate if known: rungs capped below it get an fps filter. */
  sourceFrameRate?: number;
  hasAudio: boolean;
}

/** The shared filter graph: one decode, split once per encoded rendition, scaled (and frame-rate capped). */
export function ladderFilterGraph(o: LadderArgsOptions): string | undefined {
  const encoded = o.renditions.map((r, i) => ({ r, i })).filter((x) => !x.r.copy);
  if (encoded.length === 0) return undefined;
  const labels = encoded.map(({ i }) => `[s${i}]`);
  const parts = [encoded.length > 1 ? `[0:v]split=${encoded.length}${labels.join('')}` : `[0:v]null${labels[0]}`];
  for (const { r, i } of encoded) {
    const fps = o.sourceFrameRate && o.sourceFrameRate > r.maxFrameRate + 0.5 ? `,fps=${r.maxFrameRate}` : '';
    parts.push(`[s${i}]scale=-2:${r.height}:flags=bilinear${fps}[v${i}]`);
  }
  return parts.join(';');
}

const MOVFLAGS = 'empty_moov+default_base_moof+frag_keyframe+skip_trailer';

/**
 * ffmpeg's ONE output for the whole ladder: every video stream (copied or x264) and a single AAC
 * encode go to the tee muxer, which writes one fragmented MP4 (CMAF) per rendition holding that
 * rendition's video and the shared audio. So audio is encoded once per stream, not once per
 * rendition, while every rendition stays a self-contained muxed stream for every player.
 *
 * Keyframes: in ladder mode forced on the part grid's segment interval in every rung; with
 * passthrough the encoded rungs take theirs where the source has them (-force_key_frames source),
 * so segments start together in every rendition either way.
 */
export function ladderOutput(o: LadderArgsOptions): { url: string; options: string[] } {
  const passthrough = isPassthrough(o.renditions);
  const args: string[] = [];
  o.renditions.forEach((r, i) => args.push('-map', r.copy ? '0:v:0' : `[v${i}]`));
  if (o.hasAudio) args.push('-map', '0:a:0?');
  o.renditions.forEach((r, i) => {
    const s = `:v:${i}`;
    if (r.copy) {
      args.push(`-c${s}`, 'copy');
      return;
    }
    const fps = Math.min(o.sourceFrameRate ?? r.maxFrameRate, r.maxFrameRate);
    const gop = Math.max(1, Math.round(fps * o.grid.segmentSeconds));
    args.push(
      `-c${s}`, 'libx264',
      `-preset${s}`, o.x264Preset,
      `-tune${s}`, 'zerolatency',
      `-profile${s}`, 'high',
      `-pix_fmt${s}`, 'yuv420p',
      `-b${s}`, `${r.videoBitrateKbps}k`,
      `-maxrate${s}`, `${Math.round(r.videoBitrateKbps * 1.2)}k`,
      `-bufsize${s}`, `${r.videoBitrateKbps * 2}k`,
      // Passthrough: the source decides; the GOP limits only guard against a source gone silent.
      `-g${s}`, String(passthrough ? gop * 4 : gop * 2),
      `-keyint_min${s}`, String(passthrough ? 1 : gop),
      `-sc_threshold${s}`, '0',
      `-force_key_frames${s}`, passthrough ? 'source' : `expr:gte(t,n_forced*${round6(o.grid.segmentSeconds)})`,
    );
  });
  // Millisecond timestamps, the source's own, in every video stream: copied and encoded rungs
  // then cut at the same instants (a guessed 1/framerate clock drifts from the copy's).
  args.push('-fps_mode', 'passthrough', '-enc_time_base:v', '1/1000');
  // The tee muxer has no global-header flag of its own; MP4 needs the codec configuration in moov.
  args.push('-flags:v', '+global_header');
  if (o.hasAudio) {
    // AAC's 1024-sample priming dates its first packet 21 ms before the audio, hence before the
    // video: the mp4 muxer would then stretch the first video sample by that much and the run's
    // first part would overrun PART-TARGET. Starting audio packets at the audio itself keeps video
    // first (the priming plays 21 ms late, far inside lip-sync tolerance).
    args.push('-af', `asetpts=PTS+${AAC_FRAME_SAMPLES}/SR/TB`);
    args.push('-c:a', 'aac', '-b:a', `${o.audioBitrateKbps}k`, '-ac', '2', '-ar', '48000', '-flags:a', '+global_header');
  }
  args.push('-flush_packets', '1', '-f', 'tee');
  const slaves = o.outputs.map((url, i) => {
    const select = o.hasAudio ? `\\'v:${i},a\\'` : `\\'v:${i}\\'`;
    return `[f=mp4:select=${select}:movflags=${MOVFLAGS}:frag_duration=${o.grid.fragMicros}:flush_packets=1]${url}`;
  });
  return { url: slaves.join('|'), options: args };
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
