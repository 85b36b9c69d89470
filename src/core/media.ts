/**
 * Media as it travels from an ingest adapter to the outputs. Payloads are FLV tag bodies (the bytes
 * RTMP carries in audio/video messages), so an output that needs FLV (the transcoder's ffmpeg stdin)
 * only adds tag headers, and an ingest that is not FLV-shaped (WebRTC) goes through ffmpeg instead.
 */
export type MediaKind = 'video' | 'audio';

export interface MediaPacket {
  readonly kind: MediaKind;
  /** FLV tag body: for video the VideoTagHeader + AVCPacketType + CTS + data; for audio AudioTagHeader + AACPacketType + data. */
  readonly payload: Buffer;
  /** Decode timestamp in milliseconds on the publisher's clock (RTMP timestamp, extended past 2^24). */
  readonly timestamp: number;
  /** Video: this access unit is a keyframe (IDR). Audio: always false. */
  readonly keyframe: boolean;
  /** AVC decoder configuration record or AAC AudioSpecificConfig, not a frame. */
  readonly sequenceHeader: boolean;
}

/** What an ingest adapter reports about the publisher's media (from onMetaData and sequence headers). */
export interface MediaInfo {
  width?: number;
  height?: number;
  frameRate?: number;
  videoCodec?: string;
  audioCodec?: string;
  videoBitrateKbps?: number;
  audioBitrateKbps?: number;
  encoder?: string;
}

/** Parses the fields of an FLV video tag body that routing needs. */
export function inspectFlvVideo(payload: Buffer): { keyframe: boolean; sequenceHeader: boolean; codecId: number } {
  if (payload.length < 2) return { keyframe: false, sequenceHeader: false, codecId: 0 };
  const frameType = payload[0]! >> 4;
  const codecId = payload[0]! & 0x0f;
  return { keyframe: frameType === 1, sequenceHeader: codecId === 7 && payload[1] === 0, codecId };
}

/** Parses the fields of an FLV audio tag body that routing needs. */
export function inspectFlvAudio(payload: Buffer): { sequenceHeader: boolean; soundFormat: number } {
  if (payload.length < 2) return { sequenceHeader: false, soundFormat: 0 };
  const soundFormat = payload[0]! >> 4;
  return { sequenceHeader: soundFormat === 10 && payload[1] === 0, soundFormat };
}
