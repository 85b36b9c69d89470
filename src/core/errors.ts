/**
 * One registry of every error the server can report, each with a stable code and an HTTP status.
 * Codes are part of the public API (clients and log queries match on them): never rename one.
 * test/unit/errors.test.ts fails when a code here is not documented in README.md.
 */
export const ErrorCodes = {
  SHOWCASE_ERR_BAD_REQUEST: { status: 400, message: 'Bad request' },
  SHOWCASE_ERR_VALIDATION: { status: 400, message: 'Request failed validation' },
  SHOWCASE_ERR_UNAUTHORIZED: { status: 401, message: 'Missing or invalid token' },
  SHOWCASE_ERR_FORBIDDEN: { status: 403, message: 'Forbidden' },
  SHOWCASE_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  SHOWCASE_ERR_CONFLICT: { status: 409, message: 'Conflict' },
  SHOWCASE_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'Payload too large' },
  SHOWCASE_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  SHOWCASE_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  SHOWCASE_ERR_UNAVAILABLE: { status: 503, message: 'Service unavailable' },
  SHOWCASE_ERR_HLS_BAD_PARAMS: { status: 400, message: 'Invalid LL-HLS delivery directive' },
  SHOWCASE_ERR_HLS_TOO_FAR_AHEAD: { status: 400, message: 'Requested part is too far in the future' },
  SHOWCASE_ERR_HLS_TIMEOUT: { status: 503, message: 'Requested part did not arrive in time' },
  SHOWCASE_ERR_CONFIG_INVALID: { status: 500, message: 'Configuration is invalid' },
  SHOWCASE_ERR_RTMP_BAD_KEY: { status: 403, message: 'Unknown or disabled stream key' },
  SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING: { status: 409, message: 'Stream key is already publishing' },
  SHOWCASE_ERR_RTMP_PROTOCOL: { status: 400, message: 'RTMP protocol violation' },
  SHOWCASE_ERR_RTMP_LIMIT: { status: 400, message: 'RTMP connection exceeded a limit' },
  SHOWCASE_ERR_TRANSCODER_FAILED: { status: 500, message: 'Transcoder failed repeatedly' },
  SHOWCASE_ERR_TRANSCODER_STALLED: { status: 500, message: 'Transcoder wrote no media while its input arrived' },
  SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_SPARSE: { status: 500, message: 'Source keyframes more than two segment targets apart: full ladder encoded' },
  SHOWCASE_ERR_PASSTHROUGH_KEYFRAMES_IRREGULAR: { status: 500, message: 'Source keyframes irregular: full ladder encoded' },
  SHOWCASE_ERR_STREAM_ENDED: { status: 409, message: 'Stream has ended' },
  SHOWCASE_ERR_RECORDING_FAILED: { status: 500, message: 'Recording failed' },
  SHOWCASE_ERR_WHEP_NOT_LIVE: { status: 409, message: 'Stream is not live over WebRTC' },
  SHOWCASE_ERR_WHEP_FULL: { status: 503, message: 'No room for another WebRTC viewer' },
  SHOWCASE_ERR_WHEP_VIEWER_LIMIT: { status: 429, message: 'Too many WebRTC viewers from this address' },
  SHOWCASE_ERR_WEBRTC_LOOPBACK_ONLY: { status: 503, message: 'WebRTC announces only loopback addresses: other hosts cannot connect' },
  SHOWCASE_ERR_SIGNAL_BAD_MESSAGE: { status: 400, message: 'Signaling message is not valid' },
  SHOWCASE_ERR_SIGNAL_TOO_LARGE: { status: 413, message: 'Signaling message is too large' },
  SHOWCASE_ERR_SIGNAL_STATE: { status: 409, message: 'Signaling message is not valid in this state' },
  SHOWCASE_ERR_SIGNAL_TIMEOUT: { status: 408, message: 'Signaling step took too long' },
  SHOWCASE_ERR_RECORDING_DISK_FULL: { status: 507, message: 'Recording stopped: disk space floor reached' },
  SHOWCASE_ERR_STORE_WRITE_FAILED: { status: 500, message: 'A queued store write failed' },
  SHOWCASE_ERR_STREAM_LEASE_LOST: { status: 409, message: 'Another node took over the stream' },
  // The room (issue 14): error frames on a room socket that stays open.
  SHOWCASE_ERR_ROOM_BAD_FRAME: { status: 400, message: 'Room frame is not valid' },
  SHOWCASE_ERR_ROOM_AUTH_REQUIRED: { status: 401, message: 'Posting in the room needs an auth frame first' },
  SHOWCASE_ERR_ROOM_AUTH_TIMEOUT: { status: 408, message: 'Room auth frame came too late' },
  SHOWCASE_ERR_ROOM_TEXT_INVALID: { status: 400, message: 'Chat text is empty or too long' },
  SHOWCASE_ERR_ROOM_TOO_FAST: { status: 429, message: 'Too many chat messages from this author' },
  SHOWCASE_ERR_ROOM_DUPLICATE: { status: 409, message: 'The same chat text was sent moments ago' },
  SHOWCASE_ERR_ROOM_REACTIONS_DROPPED: { status: 429, message: 'Reactions over the per-second limit were dropped' },
  // Commerce (issue 13: shoppable streams).
  SHOWCASE_ERR_COMMERCE_BAD_URL: { status: 400, message: 'A product URL must be an absolute http(s) URL' },
  SHOWCASE_ERR_COMMERCE_PRODUCT_LIMIT: { status: 409, message: 'The stream holds the most products allowed' },
  SHOWCASE_ERR_COMMERCE_NOT_LIVE: { status: 409, message: 'The stream is not live' },
  SHOWCASE_ERR_COMMERCE_HIGHLIGHT_RATE: { status: 429, message: 'Too many highlights for this stream' },
  SHOWCASE_ERR_ROOM_BANNED: { status: 403, message: 'This shopper is timed out of the room' },
  SHOWCASE_ERR_ROOM_CLOSED: { status: 403, message: 'The room is closed to chat' },
  SHOWCASE_ERR_ROOM_SLOW_MODE: { status: 429, message: 'Slow mode: wait before the next message' },
  SHOWCASE_ERR_ROOM_BLOCKED_WORD: { status: 400, message: 'The text holds a blocked word' },
  // The cluster (issue 17): Redis membership and the HLS proxy to the node holding a stream.
  SHOWCASE_ERR_CLUSTER_REDIS_UNAVAILABLE: { status: 503, message: 'Cluster Redis unreachable: heartbeat not written' },
  SHOWCASE_ERR_CLUSTER_PROXY_BUSY: { status: 503, message: 'Too many HLS requests proxied to other nodes' },
  SHOWCASE_ERR_CLUSTER_PROXY_FAILED: { status: 502, message: 'The node holding the stream did not answer' },
  // The WebRTC pipe between nodes (src/cluster/pipe-*.ts).
  SHOWCASE_ERR_CLUSTER_UNAUTHORIZED: { status: 401, message: 'Node-to-node request without the cluster secret' },
  SHOWCASE_ERR_CLUSTER_PIPE_FAILED: { status: 502, message: 'The node holding the stream could not pipe it here' },
  SHOWCASE_ERR_CLUSTER_PIPE_HOLDER_GONE: { status: 503, message: 'The node holding the stream is gone' },
  // Notifications (issue 15): push subscriptions, webhook and push deliveries from the outbox.
  SHOWCASE_ERR_PUSH_SUBSCRIPTION_INVALID: { status: 400, message: 'Push subscription refused' },
  SHOWCASE_ERR_PUSH_SUBSCRIPTION_LIMIT: { status: 409, message: 'Too many push subscriptions for this shopper' },
  SHOWCASE_ERR_PUSH_FAILED: { status: 502, message: 'The push service refused a message' },
  SHOWCASE_ERR_WEBHOOK_FAILED: { status: 502, message: 'A webhook delivery failed' },
  SHOWCASE_ERR_NOTIFY_DROPPED: { status: 503, message: 'A notification event was dropped: the outbox write queue is full' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error with a stable code; the HTTP layer turns it into {error:{code,message}} without a stack. */
export class ShowcaseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ErrorCodes[code].message);
    this.name = 'ShowcaseError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.details = details;
  }

  /** The body sent to clients: code, message and optional details, never a stack. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}
