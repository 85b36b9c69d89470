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
  /**
   * Command and data messages a connection may send while it is not publishing (connect,
   * releaseStream, createStream...; a real publisher needs about 6). Default 64.
   */
  maxPendingConnectCommands?: number;
}

/** The connection behind a publish request, so the caller can judge whether an older publisher is dead. */
export interface RtmpConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  /** Date.now() when the last byte arrived. */
  lastReceivedAt(): number;
  isClosed(): boolean;
  /** Closes the socket; a publishing connection's sink gets onClose(reason). */
  close(reason: string): void;
  bytesReceived(): number;
}

/** What the server asks the application before a publisher may send media. */
export interface RtmpPublishRequest {
  connectionId: string;
  app: string;
  streamKey: string;
  remoteAddress: string;
  /** Lets the caller decide whether an existing publisher is dead (OBS reconnect). */
  connection: RtmpConnectionInfo;
}

/** Where an accepted publisher's media goes. onClose is called exactly once. */
export interface RtmpPublisherSink {
  /** From @setDataFrame/onMetaData. */
  onMetadata(info: MediaInfo, raw: Record<string, unknown>): void;
  /** Every audio and video message, in arrival order; the payload is not reused by the server. */
  onPacket(packet: MediaPacket): void;
  /** Reason 'unpublish' / 'deleteStream' / 'closeStream' is an explicit stop; anything else a drop. */
  onClose(reason: string): void;
}

/** The application's answer to a publish: a sink for the media, or a refusal with its code. */
export type RtmpPublishDecision =
  | { ok: true; sink: RtmpPublisherSink }
  | { ok: false; code: 'SHOWCASE_ERR_RTMP_BAD_KEY' | 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' | 'SHOWCASE_ERR_RTMP_LIMIT'; reason: string };
