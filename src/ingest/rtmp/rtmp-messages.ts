/**
 * RTMP message type ids, and the chunked bytes of each message the server sends: protocol control
 * messages, user control events, and AMF0 command replies.
 */
import { encodeAmf0, type AmfValue } from './amf0.js';
import { encodeMessage, uint32 } from './chunk-writer.js';

export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  SetBufferLength: 3,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** The chunk size the server announces and writes with. */
export const SERVER_CHUNK_SIZE = 4096;
/** The acknowledgement window the server asks of the peer (it only reads the peer's acks, never waits on them). */
export const SERVER_WINDOW_ACK_SIZE = 5_000_000;

/** Chunk stream ids as servers conventionally use them. */
const CSID_CONTROL = 2;
const CSID_COMMAND = 3;
const CSID_STREAM_COMMAND = 5;

function control(type: number, payload: Buffer): Buffer {
  return encodeMessage(CSID_CONTROL, type, 0, 0, payload, SERVER_CHUNK_SIZE);
}

/** Window Acknowledgement Size (the peer acknowledges every `size` bytes it receives). */
export function windowAckSizeMessage(size: number): Buffer {
  return control(MessageType.WindowAckSize, uint32(size));
}

/** Set Peer Bandwidth with limit type dynamic (2). */
export function setPeerBandwidthMessage(size: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(size >>> 0, 0);
  b[4] = 2;
  return control(MessageType.SetPeerBandwidth, b);
}

/** Set Chunk Size for the chunks this server writes. */
export function setChunkSizeMessage(size: number): Buffer {
  return control(MessageType.SetChunkSize, uint32(size));
}

/** Acknowledgement of `sequence` bytes received so far (mod 2^32). */
export function acknowledgementMessage(sequence: number): Buffer {
  return control(MessageType.Acknowledgement, uint32(sequence % 0x1_0000_0000));
}

/** A user control event with a 4-byte argument (StreamBegin with a stream id, PingResponse with a timestamp). */
export function userControlMessage(event: number, value: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(event, 0);
  b.writeUInt32BE(value >>> 0, 2);
  return control(MessageType.UserControl, b);
}

/** An AMF0 command on the connection (stream 0) or on a message stream. */
export function commandMessage(streamId: number, values: AmfValue[]): Buffer {
  return encodeMessage(streamId === 0 ? CSID_COMMAND : CSID_STREAM_COMMAND, MessageType.CommandAmf0, streamId, 0, encodeAmf0(...values), SERVER_CHUNK_SIZE);
}

/** An onStatus command (NetStream.Publish.Start, NetStream.Publish.BadName, ...). */
export function onStatusMessage(streamId: number, level: 'status' | 'error', code: string, description: string): Buffer {
  return commandMessage(streamId, ['onStatus', 0, null, { level, code, description }]);
}
