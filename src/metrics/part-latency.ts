import type { HlsStream } from '../playback/hls/hls-stream.js';

/**
 * Follows one stream's first rendition and reports each part's publish latency: from the wall
 * clock of its last frame at ingest (the segment's program date time plus the media before the
 * part's end) to the moment the part became available.
 */
export function followPartLatency(hls: HlsStream, observe: (streamId: string, seconds: number) => void): void {
  const first = [...hls.timelines.values()][0];
  if (!first) return;
  let segStart = 0;
  first.on('part', (part, seg) => {
    if (part.index === 0) segStart = 0;
    segStart += part.duration;
    const endWall = seg.programDateTimeMs + segStart * 1000;
    observe(hls.streamId, (part.availableAt - endWall) / 1000);
  });
}
