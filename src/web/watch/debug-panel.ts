/// <reference lib="dom" />
import type { PlayerStats } from './player.js';
import { formatBitrate } from './quality-menu.js';

const f = (n: number | null | undefined, digits = 2): string => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

/** The ?debug=1 overlay: live latency (hls.latency), buffer, rendition, bitrates, errors. */
export function renderDebug(el: HTMLElement, s: PlayerStats | undefined, extra: { mode: string; state: string; errors: number; firstFrameMs: number | null }): void {
  const lines = [`mode     ${extra.mode}  state ${extra.state}`];
  if (s) {
    lines.push(
      `latency  ${f(s.latency)} s (target ${f(s.targetLatency)})  behind ingest ${f(s.wallLatency)} s`,
      `buffer   ${f(s.buffer)} s  rate ${f(s.playbackRate, 2)}x  joined +${f(s.joinedS)} s`,
      `level    ${s.level}${s.autoLevel ? ' (auto)' : ''}  ${s.height ? `${s.height}p` : '–'}  ${s.bitrate ? formatBitrate(s.bitrate) : '–'}`,
      `est. bw  ${s.bandwidthEstimate ? formatBitrate(s.bandwidthEstimate) : '–'}`,
      `dropped  ${s.droppedFrames} frames`,
    );
  }
  lines.push(`errors   ${extra.errors}  first frame ${extra.firstFrameMs === null ? '–' : `${Math.round(extra.firstFrameMs)} ms`}`);
  el.textContent = lines.join('\n');
}
