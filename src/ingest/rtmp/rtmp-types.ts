import type { MediaInfo, MediaPacket } from '../../core/media.js';

/** Guards that hold before memory is spent on a connection. */
export interface RtmpLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** The handshake must complete within this. */
  handshakeTimeoutMs: number;
  /** No bytes received for this long closes the connection (before and after publish). */
  idleTimeoutMs: number;
  /** A peer's Set Chunk Size above this is a protocol error. */
  maxChunkSize: number;
  /** A chunk header declaring a longer message closes the connection before anything is allocated. */
  maxMessageSize: number;
  /** Unparsed plus partly assembled bytes per connection. */
  maxBufferedBytes: number;
  /** Distinct chunk stream ids per connection. */
  maxChunkStreams: number;
}

/** The connection behind a publish request, so the caller can judge whether an older publisher is dead. */
export interface RtmpConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  lastReceivedAt(): number;
  isClosed(): boolean;
  close(reason: string): void;
  bytesReceived(): number;
}

export interface RtmpPublishRequest {
  connectionId: string;
  app: string;
  streamKey: string;
  remoteAddress: string;
  connection: RtmpConnectionInfo;
}

/** Where an accepted publisher's media goes. onClose is called exactly once. */
export interface RtmpPublisherSink {
  onMetadata(info: MediaInfo, raw: Record<string, unknown>): void;
  onPacket(packet: MediaPacket): void;
  /** Reason 'unpublish' / 'deleteStream' / 'closeStream' is an explicit stop; anything else a drop. */
  onClose(reason: string): void;
}

export type RtmpPublishDecision =
  | { ok: true; sink: RtmpPublisherSink }
  | { ok: false; code: 'SHOWCASE_ERR_RTMP_BAD_KEY' | 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' | 'SHOWCASE_ERR_RTMP_LIMIT'; reason: string };
