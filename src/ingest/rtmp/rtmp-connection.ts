import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ChunkParser, ChunkStreamError, type RtmpMessage } from './chunk-parser.js';
import { AmfError, decodeAmf0All, type AmfValue } from './amf0.js';
import { HandshakeError, ServerHandshake } from './rtmp-handshake.js';
import {
  MessageType, UserControlEvent, SERVER_CHUNK_SIZE, SERVER_WINDOW_ACK_SIZE, acknowledgementMessage, commandMessage,
  onStatusMessage, setChunkSizeMessage, setPeerBandwidthMessage, userControlMessage, windowAckSizeMessage,
} from './rtmp-messages.js';
import { findMetadata, mediaInfoFromMetadata } from './rtmp-metadata.js';
import { inspectFlvAudio, inspectFlvVideo } from '../../core/media.js';
import { secretPrefix, type Logger } from '../../core/logger.js';
import type { RtmpConnectionInfo, RtmpLimits, RtmpPublishDecision, RtmpPublishRequest, RtmpPublisherSink } from './rtmp-types.js';

/** Until a publish is requested, no message may be larger than this (commands are a few hundred bytes). */
const PRE_PUBLISH_MAX_MESSAGE = 64 * 1024;
/** A peer that stops reading while making us answer (pings, commands) is closed past this many unsent bytes. */
const MAX_WRITE_BACKLOG = 256 * 1024;
/** How long a refused connection gets to read its error status before the socket is destroyed. */
const CLOSE_FLUSH_MS = 1000;
const MAX_STREAMS_PER_CONNECTION = 8;
const MAX_KEY_LENGTH = 512;
const DEFAULT_MAX_PENDING_COMMANDS = 64;
const MIN_PEER_WINDOW = 4096;

/** What a connection needs from its server: limits, the publish decision, counters and logs. */
export interface RtmpConnectionHooks {
  limits: RtmpLimits;
  app: string;
  logger: Logger;
  onPublish(req: RtmpPublishRequest): RtmpPublishDecision | Promise<RtmpPublishDecision>;
  /** Counts a refusal (a connection closed for a limit, a protocol violation or a refused publish). */
  refuse(reason: string): void;
  /** A warn line that a remote peer can trigger: the server throttles it. */
  warn(fields: Record<string, unknown>, msg: string): void;
  onBytes(n: number): void;
  onPublishStart(conn: RtmpConnection, req: RtmpPublishRequest): void;
  onPublishEnd(conn: RtmpConnection, reason: string): void;
  onClose(conn: RtmpConnection): void;
  /** Called after each read while publishing: may stop the socket reading for a moment (ReadCoalescer). */
  holdReads?(socket: Socket): void;
  /** Called once when the connection closes, before the socket is destroyed. */
  releaseReads?(socket: Socket): void;
}

/** A command-level violation, with the refusal reason it is counted under. */
class RtmpProtocolError extends Error {
  override name = 'RtmpProtocolError';
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

type Phase = 'handshake' | 'chunks' | 'closing' | 'closed';
type PublishState = 'none' | 'pending' | 'publishing';

const REFUSAL_BY_CODE = {
  SHOWCASE_ERR_RTMP_BAD_KEY: 'bad-key',
  SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING: 'already-publishing',
  SHOWCASE_ERR_RTMP_LIMIT: 'limit',
} as const;

function isRecord(v: AmfValue): v is Record<string, AmfValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The application name from connect's app field: without a query string or surrounding slashes. */
function normalizeApp(app: AmfValue): string {
  return typeof app === 'string' ? app.split('?')[0]!.replace(/^\/+|\/+$/g, '') : '';
}

/**
 * One RTMP connection: handshake, chunk stream, the publish command set, and media handed to the
 * publisher sink. Any violation closes the socket with a counted reason; nothing here throws past it.
 */
export class RtmpConnection implements RtmpConnectionInfo {
  readonly id = randomBytes(6).toString('hex');
  readonly remoteAddress: string;
  #phase: Phase = 'handshake';
  #handshake: ServerHandshake | undefined = new ServerHandshake();
  readonly #parser: ChunkParser;
  readonly #maxPending: number;
  #out: Buffer[] = [];
  #received = 0;
  #lastAck = 0;
  #peerWindow = 2_500_000;
  #lastReceivedAt = Date.now();
  #handshakeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #refused = false;
  #appName = '';
  #streams = 0;
  #commandsWhileIdle = 0;
  #publishState: PublishState = 'none';
  #publishStreamId = 0;
  #cancelPending: string | undefined;
  #sink: RtmpPublisherSink | undefined;

  constructor(private readonly socket: Socket, private readonly hooks: RtmpConnectionHooks) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.#maxPending = hooks.limits.maxPendingConnectCommands ?? DEFAULT_MAX_PENDING_COMMANDS;
    this.#parser = new ChunkParser(hooks.limits, (m) => this.#onMessage(m));
    this.#parser.messageSizeLimit = Math.min(PRE_PUBLISH_MAX_MESSAGE, hooks.limits.maxMessageSize);
    socket.setNoDelay(true);
    this.#handshakeTimer = setTimeout(() => this.#fail('handshake-timeout', 'handshake not completed in time'), hooks.limits.handshakeTimeoutMs);
    this.#handshakeTimer.unref();
    this.#armIdle(hooks.limits.idleTimeoutMs);
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', () => {}); // 'close' follows; ECONNRESET from garbage senders is not news
    socket.on('close', () => {
      if (this.#phase === 'handshake' && !this.#refused) this.#count('handshake-aborted');
      this.#finish('socket closed');
    });
  }

  /** Date.now() when the last byte arrived. */
  lastReceivedAt(): number {
    return this.#lastReceivedAt;
  }

  /** True once the socket is closed or closing. */
  isClosed(): boolean {
    return this.#phase === 'closed' || this.#phase === 'closing';
  }

  /** Bytes received on this connection, handshake included. */
  bytesReceived(): number {
    return this.#received;
  }

  /** True while an accepted publisher is sending on this connection. */
  isPublishing(): boolean {
    return this.#publishState === 'publishing';
  }

  /** Closes the connection now (takeover, stream ended, server stopping); the sink gets onClose(reason). */
  close(reason: string): void {
    this.#finish(reason);
  }

  #armIdle(ms: number): void {
    // One timer re-armed from the last byte's time, instead of resetting a timer on every read.
    this.#idleTimer = setTimeout(() => {
      const quiet = Date.now() - this.#lastReceivedAt;
      if (quiet >= this.hooks.limits.idleTimeoutMs) this.#fail('idle-timeout', `no data for ${quiet} ms`);
      else this.#armIdle(this.hooks.limits.idleTimeoutMs - quiet);
    }, ms);
    this.#idleTimer.unref();
  }

  #onData(d: Buffer): void {
    if (this.#phase !== 'handshake' && this.#phase !== 'chunks') return;
    this.#lastReceivedAt = Date.now();
    this.#received += d.length;
    this.hooks.onBytes(d.length);
    try {
      if (this.#handshake) {
        const { reply, rest } = this.#handshake.push(d);
        if (reply) this.#out.push(reply);
        if (!this.#handshake.done) return this.#flush();
        this.#handshake = undefined;
        this.#phase = 'chunks';
        clearTimeout(this.#handshakeTimer);
        if (!rest) return this.#flush();
        d = rest;
      }
      this.#parser.push(d);
      if (this.#received - this.#lastAck >= this.#peerWindow && this.#phase === 'chunks') {
        this.#lastAck = this.#received;
        this.#out.push(acknowledgementMessage(this.#received));
      }
    } catch (err) {
      this.#onError(err);
    }
    this.#flush();
    // Only media is coalesced: the handshake and the command exchange run at full speed.
    if (this.#publishState === 'publishing' && this.#phase === 'chunks') this.hooks.holdReads?.(this.socket);
  }

  #onError(err: unknown): void {
    if (err instanceof ChunkStreamError || err instanceof RtmpProtocolError) this.#fail(err.reason, err.message);
    else if (err instanceof AmfError) this.#fail('protocol-error', `bad AMF0: ${err.message}`);
    else if (err instanceof HandshakeError) this.#fail('bad-handshake', err.message);
    else {
      this.hooks.logger.error({ err, connectionId: this.id }, 'RTMP connection failed');
      this.#fail('internal-error', 'internal error');
    }
  }

  #flush(): void {
    if (this.#out.length === 0 || this.#phase === 'closed') return;
    const out = this.#out;
    this.#out = [];
    this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (this.socket.writableLength > MAX_WRITE_BACKLOG) this.#fail('write-backlog', `peer left ${this.socket.writableLength} bytes unread`);
  }

  #onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MessageType.Video:
      case MessageType.Audio:
        return this.#onMedia(m);
      case MessageType.SetChunkSize:
        if (m.payload.length < 4) throw new RtmpProtocolError('protocol-error', 'short Set Chunk Size');
        return this.#parser.setChunkSize(m.payload.readUInt32BE(0));
      case MessageType.Abort:
        if (m.payload.length >= 4) this.#parser.abort(m.payload.readUInt32BE(0));
        return;
      case MessageType.WindowAckSize:
        if (m.payload.length >= 4) this.#peerWindow = Math.max(MIN_PEER_WINDOW, m.payload.readUInt32BE(0));
        return;
      case MessageType.UserControl:
        if (m.payload.length >= 6 && m.payload.readUInt16BE(0) === UserControlEvent.PingRequest) {
          this.#out.push(userControlMessage(UserControlEvent.PingResponse, m.payload.readUInt32BE(2)));
        }
        return;
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3: {
        if (this.#publishState !== 'publishing' && ++this.#commandsWhileIdle > this.#maxPending) {
          throw new RtmpProtocolError('too-many-commands', `more than ${this.#maxPending} commands without publishing`);
        }
        // AMF3 command/data messages start with a 0x00 format byte, then AMF0 (as every publisher sends them).
        const skip = (m.type === MessageType.CommandAmf3 || m.type === MessageType.DataAmf3) && m.payload[0] === 0 ? 1 : 0;
        const values = decodeAmf0All(m.payload, skip);
        if (m.type === MessageType.CommandAmf0 || m.type === MessageType.CommandAmf3) return this.#onCommand(m.streamId, values);
        return this.#onDataMessage(values);
      }
      default:
        return; // Acknowledgement, Set Peer Bandwidth, shared objects, aggregates: nothing a publisher needs from us
    }
  }

  #onCommand(streamId: number, args: AmfValue[]): void {
    const [name, txn] = args;
    const tid = typeof txn === 'number' ? txn : 0;
    if (typeof name !== 'string') throw new RtmpProtocolError('protocol-error', 'command without a name');
    if (name !== 'connect' && !this.#appName && name !== '_result' && name !== '_error') {
      throw new RtmpProtocolError('protocol-error', `${name.slice(0, 32)} before connect`);
    }
    switch (name) {
      case 'connect':
        return this.#onConnect(tid, args[2]);
      case 'releaseStream':
        this.#out.push(commandMessage(0, ['_result', tid, null, undefined]));
        return;
      case 'FCPublish':
        this.#out.push(commandMessage(0, ['onFCPublish', 0, null, { code: 'NetStream.Publish.Start', description: 'FCPublish' }]));
        return;
      case 'createStream':
        if (++this.#streams > MAX_STREAMS_PER_CONNECTION) throw new RtmpProtocolError('protocol-error', 'too many createStream');
        this.#out.push(commandMessage(0, ['_result', tid, null, this.#streams]));
        return;
      case 'publish':
        return this.#onPublishCommand(streamId || 1, args[3]);
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        return this.#stopPublishing(name === 'FCUnpublish' ? 'unpublish' : name);
      case 'getStreamLength':
        this.#out.push(commandMessage(0, ['_result', tid, null, 0]));
        return;
      case 'play':
      case 'play2':
        this.#out.push(onStatusMessage(streamId, 'error', 'NetStream.Play.Failed', 'this server only accepts publishers'));
        this.#count('play-unsupported');
        return this.#closeAfterFlush();
      default:
        return; // _checkbw, _result to onBWDone and the like
    }
  }

  #onConnect(tid: number, cmd: AmfValue): void {
    if (this.#appName) throw new RtmpProtocolError('protocol-error', 'connect sent twice');
    const app = normalizeApp(isRecord(cmd) ? cmd.app : undefined);
    if (app !== this.hooks.app) {
      this.#count('bad-app');
      this.hooks.warn({ connectionId: this.id, remoteAddress: this.remoteAddress, app: app.slice(0, 32), code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason: 'bad-app' }, 'RTMP connect refused: unknown application');
      this.#out.push(commandMessage(0, ['_error', tid, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'unknown application' }]));
      return this.#closeAfterFlush();
    }
    this.#appName = app;
    this.#out.push(
      windowAckSizeMessage(SERVER_WINDOW_ACK_SIZE),
      setPeerBandwidthMessage(SERVER_WINDOW_ACK_SIZE),
      setChunkSizeMessage(SERVER_CHUNK_SIZE),
      commandMessage(0, ['_result', tid, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
        { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 }]),
    );
  }

  #onPublishCommand(streamId: number, name: AmfValue): void {
    if (this.#publishState !== 'none') throw new RtmpProtocolError('protocol-error', 'publish while already publishing');
    const key = typeof name === 'string' ? name.split('?')[0]! : '';
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return this.#refusePublish(streamId, key, { ok: false, code: 'SHOWCASE_ERR_RTMP_BAD_KEY', reason: 'empty or oversized stream key' });
    }
    this.#publishState = 'pending';
    this.#publishStreamId = streamId;
    this.#cancelPending = undefined;
    // A publisher may send media as soon as it is accepted: from here on frames may be large.
    this.#parser.messageSizeLimit = this.hooks.limits.maxMessageSize;
    const req: RtmpPublishRequest = { connectionId: this.id, app: this.#appName, streamKey: key, remoteAddress: this.remoteAddress, connection: this };
    let decision: RtmpPublishDecision | Promise<RtmpPublishDecision>;
    try {
      decision = this.hooks.onPublish(req);
    } catch (err) {
      return this.#publishFailed(err);
    }
    if (decision instanceof Promise) {
      decision
        .then((d) => this.#decide(req, d), (err) => this.#publishFailed(err))
        .catch((err) => this.#onError(err))
        .finally(() => this.#flush());
    } else {
      this.#decide(req, decision);
    }
  }

  #publishFailed(err: unknown): void {
    this.hooks.logger.error({ err, connectionId: this.id }, 'RTMP onPublish failed');
    this.#publishState = 'none';
    if (!this.isClosed()) this.#fail('internal-error', 'publish decision failed');
  }

  #decide(req: RtmpPublishRequest, decision: RtmpPublishDecision): void {
    if (this.isClosed()) {
      this.#publishState = 'none';
      if (decision.ok) this.#safeSinkClose(decision.sink, this.#cancelPending ?? 'socket closed');
      return;
    }
    if (!decision.ok) {
      this.#publishState = 'none';
      return this.#refusePublish(this.#publishStreamId, req.streamKey, decision);
    }
    this.#sink = decision.sink;
    this.#publishState = 'publishing';
    this.#parser.allocateDeclared = true;
    this.#out.push(
      userControlMessage(UserControlEvent.StreamBegin, this.#publishStreamId),
      onStatusMessage(this.#publishStreamId, 'status', 'NetStream.Publish.Start', 'Publishing.'),
    );
    this.hooks.onPublishStart(this, req);
    if (this.#cancelPending) this.#stopPublishing(this.#cancelPending);
  }

  #refusePublish(streamId: number, key: string, d: Extract<RtmpPublishDecision, { ok: false }>): void {
    const reason = REFUSAL_BY_CODE[d.code];
    this.#count(reason);
    this.hooks.warn({ connectionId: this.id, remoteAddress: this.remoteAddress, keyPrefix: secretPrefix(key), code: d.code, reason: d.reason.slice(0, 200) }, 'RTMP publish refused');
    const status = d.code === 'SHOWCASE_ERR_RTMP_LIMIT' ? 'NetStream.Publish.Denied' : 'NetStream.Publish.BadName';
    this.#out.push(onStatusMessage(streamId, 'error', status, d.reason.slice(0, 200)));
    this.#closeAfterFlush();
  }

  #stopPublishing(reason: string): void {
    if (this.#publishState === 'pending') this.#cancelPending = reason;
    if (this.#publishState !== 'publishing') return;
    this.#out.push(onStatusMessage(this.#publishStreamId, 'status', 'NetStream.Unpublish.Success', 'Stopped publishing.'));
    this.#endPublish(reason);
  }

  #endPublish(reason: string): void {
    const sink = this.#sink!;
    this.#sink = undefined;
    this.#publishState = 'none';
    this.#parser.allocateDeclared = false;
    this.hooks.onPublishEnd(this, reason);
    this.#safeSinkClose(sink, reason);
  }

  #safeSinkClose(sink: RtmpPublisherSink, reason: string): void {
    try {
      sink.onClose(reason);
    } catch (err) {
      this.hooks.logger.error({ err, connectionId: this.id }, 'RTMP sink onClose threw');
    }
  }

  #onDataMessage(values: AmfValue[]): void {
    const sink = this.#sink;
    if (!sink) return;
    const raw = findMetadata(values);
    if (!raw) return;
    try {
      sink.onMetadata(mediaInfoFromMetadata(raw), raw);
    } catch (err) {
      this.#sinkThrew(err);
    }
  }

  #onMedia(m: RtmpMessage): void {
    const sink = this.#sink;
    if (!sink || m.payload.length === 0 || m.streamId !== this.#publishStreamId) return;
    try {
      if (m.type === MessageType.Video) {
        const v = inspectFlvVideo(m.payload);
        // An AVC end-of-sequence tag (AVCPacketType 2, which ffmpeg writes last) carries the keyframe
        // frame type but is no picture: passed on, never flagged as a keyframe.
        const keyframe = v.keyframe && !(v.codecId === 7 && m.payload[1] === 2);
        sink.onPacket({ kind: 'video', payload: m.payload, timestamp: m.timestamp, keyframe, sequenceHeader: v.sequenceHeader });
      } else {
        sink.onPacket({ kind: 'audio', payload: m.payload, timestamp: m.timestamp, keyframe: false, sequenceHeader: inspectFlvAudio(m.payload).sequenceHeader });
      }
    } catch (err) {
      this.#sinkThrew(err);
    }
  }

  #sinkThrew(err: unknown): void {
    this.hooks.logger.error({ err, connectionId: this.id }, 'RTMP publisher sink threw; closing the connection');
    this.#fail('internal-error', 'sink threw');
  }

  #count(reason: string): void {
    this.#refused = true;
    this.hooks.refuse(reason);
  }

  /** Sends what is queued (a final status), half-closes, and destroys the socket shortly after. */
  #closeAfterFlush(): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return;
    this.#flush();
    this.#phase = 'closing';
    this.#parser.stop();
    this.socket.end();
    setTimeout(() => this.#finish('refused'), CLOSE_FLUSH_MS).unref();
  }

  #fail(reason: string, detail: string): void {
    if (this.#phase === 'closed') return;
    this.#count(reason);
    const code = reason === 'internal-error' ? 'SHOWCASE_ERR_INTERNAL'
      : reason === 'protocol-error' || reason === 'bad-handshake' ? 'SHOWCASE_ERR_RTMP_PROTOCOL' : 'SHOWCASE_ERR_RTMP_LIMIT';
    this.hooks.warn({ connectionId: this.id, remoteAddress: this.remoteAddress, reason, code, detail: detail.slice(0, 200) }, 'RTMP connection closed');
    this.#finish(reason);
  }

  #finish(reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#out = [];
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#idleTimer);
    this.#parser.stop();
    this.hooks.releaseReads?.(this.socket);
    this.socket.destroy();
    if (this.#publishState === 'publishing') this.#endPublish(reason);
    this.hooks.onClose(this);
  }
}
