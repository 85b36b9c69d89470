/** One LL-HLS partial segment: a whole moof+mdat fragment from the transcoder. */
export interface Part {
  readonly msn: number;
  readonly index: number;
  readonly data: Buffer;
  /** Seconds. */
  readonly duration: number;
  /** Starts with a video keyframe (EXT-X-PART INDEPENDENT=YES). */
  readonly independent: boolean;
  /** Wall-clock ms when the part became available (for latency metrics). */
  readonly availableAt: number;
  /** Media time (seconds, since this stream's first part) at which the part ends. */
  readonly mediaEnd: number;
}

/** One media segment: the parts between two keyframes. */
export interface Segment {
  readonly msn: number;
  readonly parts: Part[];
  /** Seconds; grows while the segment is open. */
  duration: number;
  /** EXT-X-PROGRAM-DATE-TIME of the first sample, ms since epoch. */
  readonly programDateTimeMs: number;
  /** First segment of a new transcoder run after an earlier one: EXT-X-DISCONTINUITY. */
  readonly discontinuity: boolean;
  /** Which init segment (EXT-X-MAP) applies. */
  readonly runId: number;
  complete: boolean;
  bytes: number;
  /** The parts concatenated, built on first download of the whole segment. */
  joined?: Buffer;
}

/** Parsed LL-HLS delivery directives from a media playlist request. */
export interface DeliveryDirectives {
  msn?: number;
  part?: number;
  skip: boolean;
}

/** What a playlist or media request resolves to, independent of the HTTP framework. */
export type HlsResponse =
  | { status: 200; contentType: string; body: Buffer | string; cache: 'playlist' | 'immutable' | 'short' | 'private'; lastModified?: number }
  | { status: 400 | 404 | 503; code: string; message: string };
