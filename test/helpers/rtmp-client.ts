/**
 * A scripted RTMP client for tests: handshake, commands and raw chunks, and the server's replies
 * decoded. It exists to drive the server into states a real encoder never reaches (limits, garbage).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { ChunkParser, type RtmpMessage } from '../../src/ingest/rtmp/chunk-parser.js';
import { encodeMessage } from '../../src/ingest/rtmp/chunk-writer.js';
import { decodeAmf0All, encodeAmf0, type AmfValue } from '../../src/ingest/rtmp/amf0.js';

const HS = 1536;

/** One decoded message from the server. */
export interface ServerMessage extends RtmpMessage {
  /** AMF0 values for command messages. */
  values?: AmfValue[];
}

/** A raw RTMP client over a real socket. */
export class RtmpTestClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  chunkSize = 128;
  #handshakeBytes: Buffer[] = [];
  #handshakeLen = 0;
  #handshakeDone?: (s: Buffer) => void;
  #inChunks = false;
  readonly #parser = new ChunkParser({ maxChunkSize: 1 << 24, maxMessageSize: 1 << 24, maxBufferedBytes: 1 << 26, maxChunkStreams: 1000 }, (m) => this.#onMessage(m));
  #waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((r) => socket.on('close', () => {
      this.isClosed = true;
      this.#wake();
      r();
    }));
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => this.#onData(d));
  }

  /** Opens a TCP connection to 127.0.0.1:port. */
  static connect(port: number): Promise<RtmpTestClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RtmpTestClient(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #onData(d: Buffer): void {
    if (!this.#inChunks) {
      this.#handshakeBytes.push(d);
      this.#handshakeLen += d.length;
      if (this.#handshakeLen < 1 + 2 * HS || !this.#handshakeDone) return;
      const all = Buffer.concat(this.#handshakeBytes);
      this.#inChunks = true;
      this.#handshakeDone(all.subarray(0, 1 + 2 * HS));
      d = all.subarray(1 + 2 * HS);
      if (d.length === 0) return;
    }
    this.#parser.push(d);
  }

  #onMessage(m: RtmpMessage): void {
    const msg: ServerMessage = { ...m };
    if (m.type === 1) this.#parser.setChunkSize(m.payload.readUInt32BE(0));
    if (m.type === 20) msg.values = decodeAmf0All(m.payload);
    this.messages.push(msg);
    this.#wake();
  }

  /** Sends C0+C1, waits for S0+S1+S2, sends C2; resolves with S0+S1+S2. */
  handshake(c1: Buffer = randomBytes(HS)): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('handshake timed out')), 3000);
      this.#handshakeDone = (s) => {
        clearTimeout(timer);
        this.socket.write(s.subarray(1, 1 + HS)); // C2 echoes S1
        resolve(s);
      };
      this.socket.write(Buffer.concat([Buffer.from([3]), c1]));
      if (this.#handshakeLen >= 1 + 2 * HS) this.#onData(Buffer.alloc(0));
    });
  }

  /** Writes raw bytes. */
  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Sends one message as chunks (type-0 header then type-3), at this client's chunk size. */
  send(csid: number, type: number, streamId: number, timestamp: number, payload: Buffer): void {
    this.socket.write(encodeMessage(csid, type, streamId, timestamp, payload, this.chunkSize));
  }

  /** Tells the server our chunk size (and uses it). */
  setChunkSize(size: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(size >>> 0);
    this.send(2, 1, 0, 0, b);
    this.chunkSize = size;
  }

  /** Sends an AMF0 command. */
  command(streamId: number, ...values: AmfValue[]): void {
    this.send(streamId === 0 ? 3 : 8, 20, streamId, 0, encodeAmf0(...values));
  }

  /** Resolves with the first message (already received or coming) that matches, else rejects on close/timeout. */
  async waitFor(pred: (m: ServerMessage) => boolean, what: string, timeoutMs = 3000): Promise<ServerMessage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (this.isClosed) throw new Error(`connection closed while waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Waits for an AMF0 command whose name and (optional) info code match. */
  waitForCommand(name: string, code?: string, timeoutMs?: number): Promise<ServerMessage> {
    return this.waitFor((m) => m.values?.[0] === name && (code === undefined || (m.values?.[3] as Record<string, AmfValue> | undefined)?.code === code), `${name} ${code ?? ''}`, timeoutMs);
  }

  /** Handshake + connect(app); resolves with the _result or _error command. */
  async connectApp(app: string): Promise<ServerMessage> {
    await this.handshake();
    this.command(0, 'connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; test)', tcUrl: `rtmp://127.0.0.1/${app}` });
    return this.waitFor((m) => m.values?.[1] === 1 && (m.values[0] === '_result' || m.values[0] === '_error'), 'connect reply');
  }

  /** releaseStream, FCPublish, createStream, publish(key) as OBS does; resolves with the onStatus. */
  async publish(key: string): Promise<ServerMessage> {
    this.command(0, 'releaseStream', 2, null, key);
    this.command(0, 'FCPublish', 3, null, key);
    this.command(0, 'createStream', 4, null);
    const created = await this.waitFor((m) => m.values?.[0] === '_result' && m.values[1] === 4, 'createStream result');
    const streamId = created.values![3] as number;
    this.command(streamId, 'publish', 5, null, key, 'live');
    return this.waitFor((m) => m.values?.[0] === 'onStatus', 'publish onStatus');
  }

  /** Destroys the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}
