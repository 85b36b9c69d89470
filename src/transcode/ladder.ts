import type { RenditionConfig } from '../config/schema.js';

/** A rung of the ladder as it will be encoded for one stream. */
export interface PlannedRendition {
  name: string;
  height: number;
  videoBitrateKbps: number;
  maxFrameRate: number;
}

/**
 * Chooses the rungs for a source: rungs taller than the source are dropped (upscaling wastes bits),
 * and if none is left the lowest rung is kept, capped at the source height.
 */
export function planLadder(ladder: readonly RenditionConfig[], sourceHeight: number | undefined): PlannedRendition[] {
  const sorted = [...ladder].sort((a, b) => b.height - a.height);
  if (!sourceHeight) return sorted.map((r) => ({ ...r }));
  const fit = sorted.filter((r) => r.height <= sourceHeight);
  if (fit.length > 0) return fit.map((r) => ({ ...r }));
  const lowest = sorted[sorted.length - 1]!;
  return [{ ...lowest, height: sourceHeight - (sourceHeight % 2) }];
}

export interface LadderArgsOptions {
  renditions: PlannedRendition[];
  /** Output URL per rendition, same order. */
  outputs: string[];
  segmentSeconds: number;
  partSeconds: number;
  audioBitrateKbps: number;
  x264Preset: string;
  /** Source frame rate if known: used for a fixed GOP length alongside the forced keyframes. */
  sourceFrameRate?: number;
  hasAudio: boolean;
}

/** The shared filter graph: one decode, split once per rendition, scaled (and frame-rate capped). */
export function ladderFilterGraph(o: LadderArgsOptions): string {
  const n = o.renditions.length;
  const labels = o.renditions.map((_, i) => `[s${i}]`);
  const parts = [n > 1 ? `[0:v]split=${n}${labels.join('')}` : `[0:v]null${labels[0]}`];
  o.renditions.forEach((r, i) => {
    const fps = o.sourceFrameRate && o.sourceFrameRate > r.maxFrameRate + 0.5 ? `,fps=${r.maxFrameRate}` : '';
    parts.push(`[s${i}]scale=-2:${r.height}:flags=bilinear${fps}[v${i}]`);
  });
  return parts.join(';');
}

/**
 * Output options per rendition: x264 with zerolatency, keyframes forced at every segment boundary
 * (so segments of every rendition start at the same presentation time), AAC audio, fragmented MP4
 * (CMAF) cut into fragments of a little under the part target so no part exceeds PART-TARGET.
 */
export function renditionOutputOptions(o: LadderArgsOptions, i: number): string[] {
  const r = o.renditions[i]!;
  const fps = Math.min(o.sourceFrameRate ?? r.maxFrameRate, r.maxFrameRate);
  const gop = Math.max(1, Math.round(fps * o.segmentSeconds));
  const fragMicros = Math.round(o.partSeconds * 0.9 * 1e6);
  const args = [
    '-map', `[v${i}]`,
    ...(o.hasAudio ? ['-map', '0:a:0?'] : []),
    '-c:v', 'libx264',
    '-preset', o.x264Preset,
    '-tune', 'zerolatency',
    '-profile:v', 'high',
    '-pix_fmt', 'yuv420p',
    '-b:v', `${r.videoBitrateKbps}k`,
    '-maxrate', `${Math.round(r.videoBitrateKbps * 1.2)}k`,
    '-bufsize', `${r.videoBitrateKbps * 2}k`,
    '-g', String(gop * 2),
    '-keyint_min', String(gop),
    '-sc_threshold', '0',
    '-force_key_frames', `expr:gte(t,n_forced*${o.segmentSeconds})`,
  ];
  if (o.hasAudio) args.push('-c:a', 'aac', '-b:a', `${o.audioBitrateKbps}k`, '-ac', '2', '-ar', '48000');
  args.push(
    '-f', 'mp4',
    '-movflags', 'empty_moov+default_base_moof+frag_keyframe+skip_trailer',
    '-frag_duration', String(fragMicros),
    '-flush_packets', '1',
  );
  return args;
}
