import type { LiveStream, PublisherMedia, StreamReader } from '../core/live-stream.js';
import type { MediaPacket } from '../core/media.js';
import type { HlsStream } from '../playback/hls/hls-stream.js';

/** The reader's name on every stream. */
export const LIVE_EDGE_READER = 'commerce-live-edge';

/**
 * Where a stream's ingest is right now, on the playlists' clock: the newest video frame's
 * timestamp, which the stream's IngestClock turns into the EXT-X-PROGRAM-DATE-TIME the segments
 * holding that frame carry. A highlight is stamped here: with the frame the creator is on, not
 * with the wall clock of the request (which runs ahead of the video by the encoder's delay).
 * O(1) per packet, no allocation.
 */
export class LiveEdgeReader implements StreamReader {
  readonly name = LIVE_EDGE_READER;
  readonly consumes = ['packets', 'rtp'] as const;
  #stream?: LiveStream;
  #lastTimestamp?: number;

  /** A publisher started: the edge is unknown until its first frame. */
  onPublisherStart(stream: LiveStream, _media: PublisherMedia): void {
    this.#stream = stream;
    this.#lastTimestamp = undefined;
  }

  /** Keeps the newest video frame's timestamp. */
  onPacket(p: MediaPacket): boolean {
    if (p.kind === 'video' && !p.sequenceHeader && (this.#lastTimestamp === undefined || p.timestamp > this.#lastTimestamp)) this.#lastTimestamp = p.timestamp;
    return true;
  }

  /** The publisher left: the last edge stays (a highlight ending at the stream's end uses it). */
  onPublisherStop(): void {}

  /** The stream ended. */
  onStreamEnd(): void {}

  /**
   * The program date (ms) of the media at the ingest edge. RTP publishers (WHIP) pass no packets
   * through Node: their transcoder stamps its runs with the wall clock at start, so the wall clock
   * is the edge for them.
   */
  programDate(now = Date.now()): number {
    const s = this.#stream;
    if (!s || this.#lastTimestamp === undefined || !s.clock) return now;
    return s.wallClockOf(this.#lastTimestamp);
  }
}

/**
 * A program date (ms) in seconds of the recording: the newest transcoder run's start on the media
 * clock plus the time since that run's first program date (the recording holds every segment since
 * the stream's first, so its seconds are the stream's media seconds). Before the first output:
 * seconds since the ingest's first frame, which is where the first run starts.
 */
export function mediaTimeOf(programDate: number, hls: HlsStream | undefined, stream: LiveStream | undefined): number {
  const tl = hls ? [...hls.timelines.values()][0] : undefined;
  let run: { wallEpochMs: number; streamOffset: number } | undefined;
  if (tl) for (const r of tl.runs.values()) if (!run || r.wallEpochMs >= run.wallEpochMs) run = r;
  if (run) return round3(Math.max(0, run.streamOffset + (programDate - run.wallEpochMs) / 1000));
  const first = stream?.clock?.wallAtFirstMs;
  return first === undefined ? 0 : round3(Math.max(0, (programDate - first) / 1000));
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
