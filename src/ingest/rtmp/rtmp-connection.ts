import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ChunkParser, ChunkStreamError, type RtmpMessage } from './chunk-parser.js';
import { encodeMessage, uint32 } from './chunk-writer.js';
import { AmfError, decodeAmf0All, encodeAmf0, type AmfValue } from './amf0.js';
import { inspectFlvAudio, inspectFlvVideo, type MediaInfo } from '../../core/media.js';
import type { Logger } from '../../core/logger.js';
import { secretPrefix } from '../../core/logger.js';
import type { RtmpConnectionInfo, RtmpLimits, RtmpPublishDecision, RtmpPublishRequest, RtmpPublisherSink } from './rtmp-types.js';

const HANDSHAKE_SIZE = 1536;
const OUT_CHUNK_SIZE = 4096;
const WINDOW_ACK_SIZE = 5_000_000;

const MSG_SET_CHUNK_SIZE = 1;
const MSG_ABORT = 2;
const MSG_ACK = 3;
const MSG_USER_CONTROL = 4;
const MSG_WINDOW_ACK_SIZE = 5;
const MSG_SET_PEER_BW = 6;
const MSG_AUDIO = 8;
const MSG_VIDEO = 9;
const MSG_DATA_AMF3 = 15;
const MSG_COMMAND_AMF3 = 17;
const MSG_DATA_AMF0 = 18;
const MSG_COMMAND_AMF0 = 20;

export interface RtmpConnectionHooks {
  limits: RtmpLimits;
  app: string;
  logger: Logger;
  onPublish(req: RtmpPublishRequest): RtmpPublishDecision | Promise<RtmpPublishDecision>;
  /** Counts a refusal or a close for a limit/protocol reason. */
  refuse(reason: string): void;
  onBytes(n: number): void;
  onPublishing(active: boolean): void;
  onClose(conn: RtmpConnection): void;
}

type Phase = 'c0c1' | 'c2' | 'chunks' | 'closed';

/**
 * One RTMP connection: handshake, chunk stream, the publish command set, and media handed to the
 * publisher sink. Any violation closes the socket with a reason; nothing here can throw past it.
 */
export class RtmpConnection implements RtmpConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  #phase: Phase = 'c0c1';
  #hs: Buffer = Buffer.alloc(0);
  readonly #parser: ChunkParser;
  #received = 0;
  #lastAck = 0;
  #peerWindow = 2_500_000;
  #lastReceivedAt = Date.now();
  #handshakeTimer?: NodeJS.Timeout;
  #sink?: RtmpPublisherSink;
  #publishStreamId = 0;
  #appName = '';
  #publishing = false;
  #closeReason?: string;

  constructor(readonly socket: Socket, private readonly hooks: RtmpConnectionHooks) {
    this.id = randomBytes(6).toString('hex');
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.#parser = new ChunkParser(hooks.limits, (m) => this.#onMessage(m));
    socket.setNoDelay(true);
    socket.setTimeout(hooks.limits.idleTimeoutMs, () => this.#fail('idle-timeout', 'no data received'));
    this.#handshakeTimer = setTimeout(() => this.#fail('handshake-timeout', 'handshake not completed in time'), hooks.limits.handshakeTimeoutMs);
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', () => {});
    socket.on('close', () => this.#closed('socket closed'));
  }

  lastReceivedAt(): number {
    return this.#lastReceivedAt;
  }

  isClosed(): boolean {
    return this.#phase === 'closed';
  }

  bytesReceived(): number {
    return this.#received;
  }

  /** Closes the connection (takeover, stream ended, server stopping). */
  close(reason: string): void {
    if (this.#phase === 'closed') return;
    this.#closeReason ??= reason;
    this.socket.destroy();
    this.#closed(reason);
  }

  #onData(d: Buffer): void {
    if (this.#phase === 'closed') return;
    this.#lastReceivedAt = Date.now();
    this.#received += d.length;
    this.hooks.onBytes(d.length);
    try {
      if (this.#phase !== 'chunks') d = this.#handshake(d);
      if (this.#phase === 'chunks' && d.length) {
        this.#parser.push(d);
        if (this.#received - this.#lastAck >= this.#peerWindow) {
          this.#lastAck = this.#received;
          this.#send(2, MSG_ACK, 0, uint32(this.#received));
        }
      }
    } catch (err) {
      if (err instanceof ChunkStreamError) this.#fail(err.reason, err.message);
      else if (err instanceof AmfError) this.#fail('protocol-error', `bad AMF0: ${err.message}`);
      else this.#fail('protocol-error', (err as Error).message);
    }
  }

  /** Consumes handshake bytes; returns whatever follows the handshake. */
  #handshake(d: Buffer): Buffer {
    this.#hs = this.#hs.length ? Buffer.concat([this.#hs, d]) : d;
    if (this.#phase === 'c0c1') {
      if (this.#hs.length < 1 + HANDSHAKE_SIZE) return Buffer.alloc(0);
      if (this.#hs[0] !== 3) throw new ChunkStreamError('protocol-error', `unsupported RTMP version ${this.#hs[0]}`);
      const c1 = this.#hs.subarray(1, 1 + HANDSHAKE_SIZE);
      const s1 = Buffer.alloc(HANDSHAKE_SIZE);
      s1.writeUInt32BE(Math.floor(process.uptime() * 1000) >>> 0, 0);
      randomBytes(HANDSHAKE_SIZE - 8).copy(s1, 8);
      // S2 echoes C1: accepted by OBS, ffmpeg and librtmp whether they sent a simple or digest C1.
      this.socket.write(Buffer.concat([Buffer.from([3]), s1, c1]));
      this.#hs = this.#hs.subarray(1 + HANDSHAKE_SIZE);
      this.#phase = 'c2';
    }
    if (this.#phase === 'c2') {
      if (this.#hs.length < HANDSHAKE_SIZE) return Buffer.alloc(0);
      const rest = this.#hs.subarray(HANDSHAKE_SIZE);
      this.#hs = Buffer.alloc(0);
      this.#phase = 'chunks';
      if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
      return rest;
    }
    return Buffer.alloc(0);
  }

  #send(csid: number, type: number, streamId: number, payload: Buffer, timestamp = 0): void {
    if (this.#phase === 'closed') return;
    this.socket.write(encodeMessage(csid, type, streamId, timestamp, payload, OUT_CHUNK_SIZE));
  }

  #command(streamId: number, ...values: AmfValue[]): void {
    this.#send(streamId === 0 ? 3 : 5, MSG_COMMAND_AMF0, streamId, encodeAmf0(...values));
  }

  #onStatus(streamId: number, level: 'status' | 'error', code: string, description: string): void {
    this.#command(streamId, 'onStatus', 0, null, { level, code, description });
  }

  #onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MSG_SET_CHUNK_SIZE:
        if (m.payload.length < 4) throw new ChunkStreamError('protocol-error', 'short Set Chunk Size');
        this.#parser.setChunkSize(m.payload.readUInt32BE(0) & 0x7fffffff);
        return;
      case MSG_ABORT:
        if (m.payload.length >= 4) this.#parser.abort(m.payload.readUInt32BE(0));
        return;
      case MSG_WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) this.#peerWindow = Math.max(1024, m.payload.readUInt32BE(0));
        return;
      case MSG_USER_CONTROL:
        // PingRequest (6) -> PingResponse (7) with the same timestamp.
        if (m.payload.length >= 6 && m.payload.readUInt16BE(0) === 6) {
          const r = Buffer.alloc(6);
          r.writeUInt16BE(7, 0);
          m.payload.copy(r, 2, 2, 6);
          this.#send(2, MSG_USER_CONTROL, 0, r);
        }
        return;
      case MSG_ACK:
      case MSG_SET_PEER_BW:
        return;
      case MSG_COMMAND_AMF0:
      case MSG_COMMAND_AMF3:
        this.#onCommand(m, decodeAmf0All(m.payload, m.type === MSG_COMMAND_AMF3 ? 1 : 0));
        return;
      case MSG_DATA_AMF0:
      case MSG_DATA_AMF3:
        this.#onData0(decodeAmf0All(m.payload, m.type === MSG_DATA_AMF3 ? 1 : 0));
        return;
      case MSG_AUDIO:
      case MSG_VIDEO:
        this.#onMedia(m);
        return;
      default:
        return; // shared objects, aggregates and the like: not used by publishers we support
    }
  }

  #onCommand(m: RtmpMessage, args: AmfValue[]): void {
    const [name, txn] = args;
    const tid = typeof txn === 'number' ? txn : 0;
    switch (name) {
      case 'connect': {
        const cmd = (args[2] ?? {}) as Record<string, AmfValue>;
        const app = String(cmd.app ?? '').split('?')[0]!.replace(/\/+$/, '');
        this.#appName = app;
        if (app !== this.hooks.app) {
          this.hooks.refuse('bad-app');
          this.hooks.logger.warn({ connectionId: this.id, remoteAddress: this.remoteAddress, app: app.slice(0, 64), code: 'SHOWCASE_ERR_RTMP_BAD_KEY' }, 'RTMP connect refused: unknown application');
          this.#command(0, '_error', tid, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: `unknown application ${app.slice(0, 64)}` });
          this.#closeSoon('bad app');
          return;
        }
        this.#send(2, MSG_WINDOW_ACK_SIZE, 0, uint32(WINDOW_ACK_SIZE));
        const bw = Buffer.alloc(5);
        bw.writeUInt32BE(WINDOW_ACK_SIZE);
        bw[4] = 2;
        this.#send(2, MSG_SET_PEER_BW, 0, bw);
        this.#send(2, MSG_SET_CHUNK_SIZE, 0, uint32(OUT_CHUNK_SIZE));
        this.#command(0, '_result', tid, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 });
        return;
      }
      case 'releaseStream':
      case 'FCPublish':
        this.#command(0, '_result', tid, null, undefined);
        return;
      case 'createStream':
        this.#command(0, '_result', tid, null, 1);
        return;
      case 'publish':
        void this.#publish(m.streamId || 1, tid, args);
        return;
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.#publishing) this.#endPublish(name === 'FCUnpublish' ? 'unpublish' : name);
        return;
      case 'getStreamLength':
        this.#command(0, '_result', tid, null, 0);
        return;
      default:
        return;
    }
  }

  async #publish(streamId: number, tid: number, args: AmfValue[]): Promise<void> {
    if (this.#publishing || !this.#appName) {
      this.#onStatus(streamId, 'error', 'NetStream.Publish.BadConnection', 'publish out of sequence');
      return;
    }
    const key = String(args[3] ?? '').split('?')[0]!;
    this.#publishStreamId = streamId;
    const decision = await this.hooks.onPublish({ connectionId: this.id, app: this.#appName, streamKey: key, remoteAddress: this.remoteAddress, connection: this });
    if (this.#phase === 'closed') {
      if (decision.ok) decision.sink.onClose('socket closed during publish');
      return;
    }
    if (!decision.ok) {
      const reason = decision.code === 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' ? 'already-publishing' : decision.code === 'SHOWCASE_ERR_RTMP_BAD_KEY' ? 'bad-key' : 'limit';
      this.hooks.refuse(reason);
      this.hooks.logger.warn({ connectionId: this.id, remoteAddress: this.remoteAddress, keyPrefix: secretPrefix(key), code: decision.code, reason: decision.reason }, 'RTMP publish refused');
      this.#onStatus(streamId, 'error', decision.code === 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' ? 'NetStream.Publish.BadName' : 'NetStream.Publish.BadName', decision.reason);
      this.#closeSoon(reason);
      return;
    }
    this.#sink = decision.sink;
    this.#publishing = true;
    this.hooks.onPublishing(true);
    const begin = Buffer.alloc(6);
    begin.writeUInt16BE(0, 0);
    begin.writeUInt32BE(streamId, 2);
    this.#send(2, MSG_USER_CONTROL, 0, begin);
    this.#onStatus(streamId, 'status', 'NetStream.Publish.Start', `${key.slice(0, 4)}… is now published`);
    void tid;
  }

  #onData0(values: AmfValue[]): void {
    if (!this.#sink) return;
    let i = 0;
    if (values[0] === '@setDataFrame') i = 1;
    if (values[i] !== 'onMetaData') return;
    const raw = (values[i + 1] ?? {}) as Record<string, AmfValue>;
    if (typeof raw !== 'object' || raw === null) return;
    const num = (k: string) => (typeof raw[k] === 'number' ? (raw[k] as number) : undefined);
    const info: MediaInfo = {
      width: num('width'),
      height: num('height'),
      frameRate: num('framerate') ?? num('fps'),
      videoCodec: raw.videocodecid !== undefined ? String(raw.videocodecid) : undefined,
      audioCodec: raw.audiocodecid !== undefined ? String(raw.audiocodecid) : undefined,
      videoBitrateKbps: num('videodatarate'),
      audioBitrateKbps: num('audiodatarate'),
      encoder: typeof raw.encoder === 'string' ? raw.encoder.slice(0, 100) : undefined,
    };
    this.#sink.onMetadata(info, raw as Record<string, unknown>);
  }

  #onMedia(m: RtmpMessage): void {
    const sink = this.#sink;
    if (!sink || m.payload.length < 2) return;
    if (m.type === MSG_VIDEO) {
      const v = inspectFlvVideo(m.payload);
      sink.onPacket({ kind: 'video', payload: m.payload, timestamp: m.timestamp, keyframe: v.keyframe, sequenceHeader: v.sequenceHeader });
    } else {
      const a = inspectFlvAudio(m.payload);
      sink.onPacket({ kind: 'audio', payload: m.payload, timestamp: m.timestamp, keyframe: false, sequenceHeader: a.sequenceHeader });
    }
  }

  #endPublish(reason: string): void {
    if (!this.#publishing) return;
    this.#publishing = false;
    this.hooks.onPublishing(false);
    const sink = this.#sink;
    this.#sink = undefined;
    if (reason === 'unpublish' || reason === 'deleteStream' || reason === 'closeStream') this.#onStatus(this.#publishStreamId, 'status', 'NetStream.Unpublish.Success', 'stopped');
    sink?.onClose(reason);
  }

  /** Lets a final status message flush, then closes. */
  #closeSoon(reason: string): void {
    this.#closeReason ??= reason;
    this.socket.end();
    setTimeout(() => this.close(reason), 500).unref();
  }

  #fail(reason: string, message: string): void {
    if (this.#phase === 'closed') return;
    this.hooks.refuse(reason);
    this.hooks.logger.warn({ connectionId: this.id, remoteAddress: this.remoteAddress, reason, code: reason.includes('timeout') || reason.includes('large') || reason.includes('overflow') || reason.includes('many') ? 'SHOWCASE_ERR_RTMP_LIMIT' : 'SHOWCASE_ERR_RTMP_PROTOCOL', detail: message.slice(0, 200) }, 'RTMP connection closed');
    this.close(reason);
  }

  #closed(reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#endPublish(this.#closeReason ?? reason);
    this.hooks.onClose(this);
  }
}
