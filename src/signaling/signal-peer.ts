import type { RawData, WebSocket } from 'ws';
import { ShowcaseError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AuthFailureLimiter } from '../core/auth-failure-limiter.js';
import { parseSignalRequest, SignalFrameError, type SignalNotice, type SignalReply, type SignalRequest } from './signal-messages.js';
import { SignalPublisher } from './signal-publisher.js';
import { SignalViewer } from './signal-viewer.js';
import type { TransportTimeouts } from '../webrtc/transport-watchdog.js';
import type { WhepPlayback } from '../playback/whep/whep-playback.js';
import type { WhipIngest } from '../ingest/whip/whip-ingest.js';

/** Per-socket limits (config webrtc.signaling*). */
export interface SignalPeerLimits {
  /** A text frame larger than this gets SHOWCASE_ERR_SIGNAL_TOO_LARGE (ws maxPayload, the hard cap, is 4x). */
  maxMessageBytes: number;
  /** Sustained requests per second (a burst of twice this is allowed). */
  messagesPerSecond: number;
  /** A socket must join within this long of opening (or of its role ending). */
  joinTimeoutMs: number;
  /** A publisher must go live within this long of joining. */
  negotiateTimeoutMs: number;
}

/** What every peer shares: the media side and the limits. */
export interface SignalPeerContext {
  ingest: WhipIngest;
  playback?: WhepPlayback;
  limiter?: AuthFailureLimiter;
  limits: SignalPeerLimits;
  viewerTimeouts: TransportTimeouts;
  logger: Logger;
  onClosed(peer: SignalPeer): void;
}

// Requests waiting behind the one being handled; more is a client not waiting for its replies.
const MAX_QUEUED = 16;
// Replies a client leaves unread before it is cut off (it is not reading its socket).
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * One signaling socket: parses and validates frames, answers each request in order (one at a
 * time, so a client cannot race its own produce calls), rate-limits, and holds at most one role,
 * a SignalPublisher or a SignalViewer, which it closes when the socket closes. A bad frame gets a
 * coded error and the socket stays usable.
 */
export class SignalPeer {
  readonly ws: WebSocket;
  readonly remoteAddress: string;
  readonly #c: SignalPeerContext;
  readonly #log: Logger;
  #role?: SignalPublisher | SignalViewer;
  #joining = false;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #tokens: number;
  #refilledAt = Date.now();
  #joinTimer?: NodeJS.Timeout;
  #closed = false;

  constructor(ws: WebSocket, remoteAddress: string, c: SignalPeerContext) {
    this.ws = ws;
    this.remoteAddress = remoteAddress;
    this.#c = c;
    this.#log = c.logger.child({ remoteAddress });
    this.#tokens = c.limits.messagesPerSecond * 2;
    this.#armJoinTimer();
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('error', (err) => this.#log.debug({ err }, 'signaling socket error'));
    // The client vanished or hung up without unpublishing: a live stream waits the reconnect grace.
    ws.on('close', (code) => this.close(`signaling socket closed (${code})`, { graceful: false }));
  }

  /** The role this socket holds now, if any. */
  get role(): 'publisher' | 'viewer' | undefined {
    return this.#role?.role as 'publisher' | 'viewer' | undefined;
  }

  /** Sends a frame if the socket is open; a client that stops reading is cut off. */
  send(frame: SignalReply | SignalNotice): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#log.warn({ buffered: this.ws.bufferedAmount }, 'signaling client not reading: cut off');
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  /** Closes the role (graceful: a publisher's stream ends) and forgets the socket. Idempotent. */
  close(reason: string, o: { graceful: boolean }): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearJoinTimer();
    this.#dropRole(reason, o.graceful);
    this.#c.onClosed(this);
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const guessId = (): number | null => {
      const m = /"id"\s*:\s*(\d{1,10})/.exec(buf.subarray(0, 256).toString('utf8'));
      return m && Number(m[1]) < 2 ** 31 ? Number(m[1]) : null;
    };
    if (isBinary) return this.#fail(null, new ShowcaseError('SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'signaling messages are JSON text frames'));
    if (buf.length > this.#c.limits.maxMessageBytes) {
      return this.#fail(guessId(), new ShowcaseError('SHOWCASE_ERR_SIGNAL_TOO_LARGE', `signaling messages are at most ${this.#c.limits.maxMessageBytes} bytes`, { bytes: buf.length, limit: this.#c.limits.maxMessageBytes }));
    }
    if (!this.#take() || this.#queued >= MAX_QUEUED) {
      return this.#fail(guessId(), new ShowcaseError('SHOWCASE_ERR_RATE_LIMITED', 'too many signaling messages; wait for the replies', { messagesPerSecond: this.#c.limits.messagesPerSecond }));
    }
    let req: SignalRequest;
    try {
      req = parseSignalRequest(buf.toString('utf8'));
    } catch (err) {
      const e = err as SignalFrameError;
      return this.#fail(e.requestId, e);
    }
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      try {
        const data = await this.#handle(req);
        this.send({ id: req.id, ok: true, data });
      } catch (err) {
        this.#fail(req.id, err);
      } finally {
        this.#queued--;
      }
    });
  }

  /** A token bucket: messagesPerSecond sustained, twice that in a burst. */
  #take(): boolean {
    const now = Date.now();
    const rate = this.#c.limits.messagesPerSecond;
    this.#tokens = Math.min(rate * 2, this.#tokens + ((now - this.#refilledAt) / 1000) * rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  #fail(id: number | null, err: unknown): void {
    let e: ShowcaseError;
    if (err instanceof ShowcaseError) e = err;
    else {
      this.#log.error({ err }, 'signaling request failed');
      e = new ShowcaseError('SHOWCASE_ERR_INTERNAL', 'internal error');
    }
    this.send({ id, ok: false, error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  }

  async #handle(req: SignalRequest): Promise<Record<string, unknown>> {
    if (this.#closed) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the socket is closing');
    switch (req.type) {
      case 'join':
        return this.#join(req);
      case 'unpublish':
      case 'leave': {
        if (!this.#role) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'this socket has not joined');
        if (req.type === 'unpublish' && this.#role.role !== 'publisher') throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'unpublish is for publishers');
        const streamId = this.#role.streamId;
        // An explicit goodbye: a publisher's stream ends now (no reconnect grace).
        this.#dropRole(`${req.type} (signaling)`, true);
        this.#armJoinTimer();
        return { streamId };
      }
      default:
        if (!this.#role) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'join first (as a publisher with a stream key, or as a viewer of a stream id)');
        return this.#role.handle(req);
    }
  }

  async #join(req: Extract<SignalRequest, { type: 'join' }>): Promise<Record<string, unknown>> {
    if (this.#role || this.#joining) throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', `this socket already joined as a ${this.#role?.role ?? 'peer'} (leave first)`);
    this.#joining = true;
    try {
      const onEnded = (code: ErrorCode, reason: string): void => {
        this.#role = undefined;
        this.send({ notice: 'closed', code, reason });
        if (!this.#closed) this.#armJoinTimer();
      };
      let role: SignalPublisher | SignalViewer;
      if (req.role === 'publisher') {
        let reservation;
        try {
          reservation = await this.#c.ingest.reserve({ streamKey: req.streamKey, remoteAddress: this.remoteAddress });
        } catch (err) {
          // Only bad keys are rate-limited (a valid key always joins): 429 once the address failed too often.
          if (err instanceof ShowcaseError && err.code === 'SHOWCASE_ERR_RTMP_BAD_KEY') this.#c.limiter?.failure(this.remoteAddress);
          throw err;
        }
        const kinds = req.kinds ?? ['audio', 'video'];
        if (!kinds.includes('video')) {
          reservation.router.close();
          reservation.release();
          throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'a stream needs a video track (kinds must include "video")');
        }
        role = new SignalPublisher({ ingest: this.#c.ingest, reservation, streamKey: req.streamKey, remoteAddress: this.remoteAddress, kinds, negotiateTimeoutMs: this.#c.limits.negotiateTimeoutMs, logger: this.#log, onEnded });
      } else {
        if (!this.#c.playback) throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'WebRTC playback is not enabled on this server');
        const placement = await this.#c.playback.placeViewer({ streamId: req.streamId, remoteAddress: this.remoteAddress });
        role = new SignalViewer({ placement, timeouts: this.#c.viewerTimeouts, logger: this.#log, onEnded });
      }
      if (this.#closed) {
        role.close('the socket closed while joining', { graceful: false });
        throw new ShowcaseError('SHOWCASE_ERR_SIGNAL_STATE', 'the socket is closing');
      }
      this.#role = role;
      this.#clearJoinTimer();
      return { role: role.role, streamId: role.streamId, kinds: role.kinds };
    } finally {
      this.#joining = false;
    }
  }

  #dropRole(reason: string, graceful: boolean): void {
    const role = this.#role;
    this.#role = undefined;
    role?.close(reason, { graceful });
  }

  #armJoinTimer(): void {
    this.#clearJoinTimer();
    this.#joinTimer = setTimeout(() => {
      this.#log.info({ joinTimeoutMs: this.#c.limits.joinTimeoutMs }, 'signaling socket did not join in time: closed');
      this.send({ notice: 'closed', code: 'SHOWCASE_ERR_SIGNAL_TIMEOUT', reason: `join within ${this.#c.limits.joinTimeoutMs} ms` });
      this.ws.close(4408, 'join timeout');
      // A client that ignores the close handshake is dropped by the heartbeat; this is the bound.
      setTimeout(() => this.ws.terminate(), 2000).unref();
    }, this.#c.limits.joinTimeoutMs);
    this.#joinTimer.unref();
  }

  #clearJoinTimer(): void {
    if (this.#joinTimer) clearTimeout(this.#joinTimer);
    this.#joinTimer = undefined;
  }
}
