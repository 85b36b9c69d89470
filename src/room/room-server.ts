import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ShowcaseError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { rejectUpgrade, type UpgradeTarget } from '../http/upgrade-router.js';
import { SocketHeartbeat, closeSockets } from '../http/socket-heartbeat.js';
import { roomAuthor } from './room-author.js';
import type { RoomPrincipal } from '../http/auth.js';
import type { RoomMessageRecord, Store } from '../store/types.js';
import type { RoomConfig } from './room-config.js';
import { type ReactionKind, type RoomAuthor, type RoomEvent, type RoomFanout } from './room-fanout.js';
import { TokenBucket, chatEvent, parseClientFrame, rawText } from './room-frames.js';

export { chatEvent } from './room-frames.js';
import { BlockedWordMatcher } from './blocked-words.js';
import { admitChat, newChatPolicyState, type ChatPolicyState } from './room-chat-policy.js';
import { RoomCounts } from './room-counts.js';
import { RoomOutbox } from './room-outbox.js';
import { guardSocket, loadNativeFanout, type FlightGuard, type NativeFanout } from './native-fanout.js';
import { roomSettingsFromExtra, type RoomSettings } from './room-settings.js';

/** The room socket's path: /v1/streams/:id/room. */
export const ROOM_PATH = /^\/v1\/streams\/([A-Za-z0-9_-]{1,64})\/room$/;

export interface RoomServerOptions {
  config: Readonly<RoomConfig>;
  store: Store;
  fanout: RoomFanout;
  /** Resolves an auth frame's token (the authenticator's resolveToken). */
  resolveToken: (token: string, address: string) => Promise<RoomPrincipal>;
  /** The PDT (ms) of the stream's live edge now; the wall clock when it has no live media. */
  mediaTime: (streamId: string) => number;
  /** The viewer count a room's sockets are shown, given this node's sockets of it (clustered: summed across nodes); default: this node's. */
  viewerCount?: (streamId: string, local: number) => number;
  logger: Logger;
}

/** What a room's sockets are sent in batches: its events, and the viewer count (every node's when clustered). */
type SocketEvent = RoomEvent | { type: 'viewers'; count: number };

/** One open room socket. */
interface RoomSocket {
  ws: WebSocket;
  /** The upgraded TCP socket under ws: batched frames are written to it directly (see #flush). */
  socket: Duplex;
  ip: string;
  room: Room;
  openedAt: number;
  author?: RoomAuthor;
  /** Client frames seen (the auth frame must be the first). */
  frames: number;
  frameBucket: TokenBucket;
  reactionBucket: TokenBucket;
  reactionDropNoticeAt: number;
  /** Client frames waiting for the previous one (auth and chat await the store). */
  chain: Promise<void>;
  pending: number;
  /** A shopper's time-out in this room ends at this time (ms); 0: none, Infinity: until lifted. */
  bannedUntil: number;
  /** The room's outbox index this socket receives from (events queued before it joined are not its own). */
  from: number;
  /** Events held while the socket's history is read (sent after it, without repeats); null once sent. */
  held: SocketEvent[] | null;
  /** The event of the batch being flushed this socket is written from (0 unless it joined mid-batch). */
  batchFrom: number;
  /**
   * The socket's fd for native flushes, held open while one writes to it (guard.busy); null: the
   * JavaScript path. While busy, anything else the socket would be written waits in deferred.
   */
  guard: FlightGuard | null;
  deferred: Array<() => void> | null;
}

/** The sockets of one stream on this node, and what it aggregates per tick. */
interface Room {
  streamId: string;
  ownerId: string | null;
  sockets: Set<RoomSocket>;
  reactions: Partial<Record<ReactionKind, number>>;
  reactionTotal: number;
  viewersSent: number;
  unsubscribe: () => void;
  /** Settings, blocked words and per-author limits (bounded by the socket cap). */
  policy: ChatPolicyState;
  /** Resolves once the owner's blocked words are read (chat waits for it). */
  ready: Promise<void>;
  /** The last mediaTime given: each message gets a later one, so order and replay pages never tie. */
  lastMediaTime: number;
  /** Events since the last flush, framed once for every socket. */
  outbox: RoomOutbox<SocketEvent>;
  flushTimer?: NodeJS.Timeout;
  /** The history read the sockets joining now will share (see #history). */
  historyRead?: Promise<{ frame: Buffer; ids: ReadonlySet<string> }>;
  /** A flush is writing its batch (slice by slice); the next waits for it. */
  flushing: boolean;
  /** The next flush may not start before this (ms): room.batchMs, or the last flush's CPU time. */
  nextFlushAt: number;
}

/**
 * A flush written from the event loop is followed by at least this many times its CPU time before
 * the next: fan-out takes at most about half of the loop, which the media path (ingest, the
 * transcoder's pipes) shares. 3 (a quarter) held a 10,000-socket room to 1.3 flushes a second, last
 * receiver p50/p99 745/1208 ms; 1 gives 3 a second, 380/731 ms, origin latency within 20 ms of an
 * idle room (bench/room, quiet 2-core box, before native flushes).
 */
const FLUSH_SPACING_JS = 1;
/**
 * A native flush leaves the event loop free, so only room.batchMs spaces them. bench/room (10,000
 * sockets, quiet 2-core box, the transcoder and the clients on it too): spacing 1 gave 5 flushes a
 * second, last receiver p50/p99 210/366 ms; 0.5: 8.4 a second, 146/250 ms; 0: 9.9 a second,
 * 132/194 ms, origin latency 126 -> 142 ms (within 50 ms of an idle room at every spacing).
 */
const FLUSH_SPACING_NATIVE = 0;
/** Sockets joining within this many ms share one history read. */
const HISTORY_WINDOW_MS = 25;
/** Sockets written per turn of the event loop during a flush. */
const FLUSH_SLICE = 500;

/**
 * The main thread's CPU time: a native flush's threads are counted apart (they report their own).
 * process.threadCpuUsage is Node 23.9+; before it, the process's (a flush's CPU then counts the pool's too).
 */
const threadCpu = (prev?: NodeJS.CpuUsage): NodeJS.CpuUsage => (typeof process.threadCpuUsage === 'function' ? process.threadCpuUsage(prev) : process.cpuUsage(prev));
const cpuMsSince = (c0: NodeJS.CpuUsage): number => {
  const c = threadCpu(c0);
  return (c.user + c.system) / 1000;
};

/** The bytes of a flush's batch one socket is written: all of it, or from the event it joined at. */
const batchFor = (batch: { data: Buffer; offsets: number[] }, s: RoomSocket): Buffer => (s.batchFrom === 0 ? batch.data : batch.data.subarray(batch.offsets[s.batchFrom]));

/** Client frames one socket may have queued unanswered. */
const MAX_PENDING = 16;

/**
 * The room WebSocket server (/v1/streams/:id/room): chat, aggregated reactions, viewer counts and
 * the stream's live events, one socket per watching shopper. Handed its upgrades by the
 * UpgradeRouter; every limit is a coded error frame on a socket that stays open, except a frame over
 * room.maxFrameBytes (ws closes with 1009) and a socket that cannot keep up (closed).
 */
export class RoomServer implements UpgradeTarget {
  readonly #o: RoomServerOptions;
  readonly #log: Logger;
  readonly #wss: WebSocketServer;
  readonly #rooms = new Map<string, Room>();
  readonly #perIp = new Map<string, number>();
  #sockets = 0;
  /** Upgrades accepted but still looking their stream up: counted against the caps too. */
  #joining = 0;
  #tick?: NodeJS.Timeout;
  readonly #heartbeat: SocketHeartbeat;
  #closed = false;
  /** Reactions dropped over a socket's per-second limit (metrics). */
  reactionsDropped = 0;
  /** Sockets closed because their send buffer went over the bound. */
  slowClosed = 0;
  /** Batched flushes to rooms, socket writes they made, and the CPU they took (ms, this process). */
  fanoutFlushes = 0;
  fanoutWrites = 0;
  fanoutCpuMs = 0;
  /** Native writes the kernel took only part of (the rest went through libuv). */
  fanoutShortWrites = 0;
  /** Wall time from a flush's start to its last write, summed (ms). */
  fanoutWallMs = 0;
  readonly #counts = new RoomCounts();
  #countsTimer?: NodeJS.Timeout;
  /** The fan-out addon (null: flushes are written from the event loop), and the threads a flush writes with. */
  readonly #native: NativeFanout | null;
  readonly #threads: number;

  constructor(o: RoomServerOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'room' });
    this.#heartbeat = new SocketHeartbeat(o.config.heartbeatMs);
    // Pongs go through #defer like every other write (a native flush may be writing to the socket).
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: o.config.maxFrameBytes, perMessageDeflate: false, clientTracking: false, autoPong: false });
    const native = o.config.nativeFanout ? loadNativeFanout() : { addon: null, why: 'room.nativeFanout is false' };
    this.#native = native.addon;
    this.#threads = o.config.fanoutThreads || Math.min(4, availableParallelism());
    if (this.#native) this.#log.debug({ threads: this.#threads }, 'room fan-out: native threads');
    else this.#log.info({ why: native.why }, 'room fan-out: from the event loop');
  }

  /** How flushes are written: 'native' (threads of the addon) or 'js' (the event loop). */
  get fanoutMode(): 'native' | 'js' {
    return this.#native ? 'native' : 'js';
  }

  /** Open room sockets on this node. */
  get size(): number {
    return this.#sockets;
  }

  /** Room sockets of one stream on this node. */
  viewers(streamId: string): number {
    return this.#rooms.get(streamId)?.sockets.size ?? 0;
  }

  /** Room sockets per stream on this node (rooms with at least one). */
  socketCounts(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const r of this.#rooms.values()) if (r.sockets.size > 0) out.push([r.streamId, r.sockets.size]);
    return out;
  }

  /** Takes an upgrade on /v1/streams/:id/room within the server, address and stream caps. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string): void {
    const id = ROOM_PATH.exec(pathname)?.[1];
    const c = this.#o.config;
    const ip = req.socket.remoteAddress ?? 'unknown';
    if (!id) return rejectUpgrade(socket, 404, 'Not Found');
    if (this.#closed) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (this.#sockets + this.#joining >= c.maxSockets) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if ((this.#perIp.get(ip) ?? 0) >= c.maxSocketsPerIp) return rejectUpgrade(socket, 429, 'Too Many Requests');
    if ((this.#rooms.get(id)?.sockets.size ?? 0) >= c.maxSocketsPerStream) return rejectUpgrade(socket, 503, 'Service Unavailable');
    this.#addIp(ip, 1);
    this.#joining++;
    void this.#o.store.getStream(id).then((rec) => {
      this.#joining--;
      if (!rec || this.#closed || socket.destroyed) {
        this.#addIp(ip, -1);
        return rejectUpgrade(socket, rec ? 503 : 404, rec ? 'Service Unavailable' : 'Not Found');
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => void this.#join(ws, socket, ip, id, rec.ownerId, roomSettingsFromExtra(rec.extra)));
    }, (err: unknown) => {
      this.#joining--;
      this.#addIp(ip, -1);
      this.#log.error({ err }, 'room upgrade: stream lookup failed');
      rejectUpgrade(socket, 503, 'Service Unavailable');
    });
  }

  /** Publishes a stream's state change to its room. */
  streamState(streamId: string, state: string): void {
    this.#o.fanout.publish(streamId, { type: 'state', state });
  }

  /** Publishes a deleted message's id to its room (moderation). */
  messageDeleted(streamId: string, id: string): void {
    this.#o.fanout.publish(streamId, { type: 'chat.deleted', id });
  }

  #addIp(ip: string, d: number): void {
    const n = (this.#perIp.get(ip) ?? 0) + d;
    if (n <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
  }

  #room(streamId: string, ownerId: string | null, settings: RoomSettings): Room {
    let room = this.#rooms.get(streamId);
    if (room) return room;
    const r: Room = {
      streamId, ownerId, sockets: new Set(), reactions: {}, reactionTotal: 0, viewersSent: -1,
      unsubscribe: () => {}, policy: newChatPolicyState(settings), ready: Promise.resolve(), lastMediaTime: 0,
      outbox: new RoomOutbox(), nextFlushAt: 0, flushing: false,
    };
    if (ownerId) {
      r.ready = this.#o.store.getBlockedWords(ownerId).then((words) => {
        r.policy.blocked ??= new BlockedWordMatcher(words);
      }, (err: unknown) => this.#log.error({ err, streamId }, 'room blocked words read failed'));
    }
    r.unsubscribe = this.#o.fanout.subscribe(streamId, (e) => this.#deliver(r, e));
    this.#rooms.set(streamId, (room = r));
    this.#ensureTimers();
    return room;
  }

  async #join(ws: WebSocket, socket: Duplex, ip: string, streamId: string, ownerId: string | null, settings: RoomSettings): Promise<void> {
    if (this.#closed) {
      this.#addIp(ip, -1);
      ws.close(1001, 'server stopping');
      return;
    }
    const c = this.#o.config;
    const now = Date.now();
    const room = this.#room(streamId, ownerId, settings);
    // Live events from now on are held while history is read, then sent after it without repeats.
    const s: RoomSocket = {
      ws, socket, ip, room, openedAt: now, frames: 0, pending: 0, chain: Promise.resolve(), reactionDropNoticeAt: 0, bannedUntil: 0,
      from: room.outbox.length, held: [], batchFrom: 0, guard: this.#native ? guardSocket(socket) : null, deferred: null,
      frameBucket: new TokenBucket(c.framesPerSecond, c.framesPerSecond * 2, now),
      reactionBucket: new TokenBucket(c.reactionsPerSecond, c.reactionsPerSecond, now),
    };
    room.sockets.add(s);
    this.#sockets++;
    this.#heartbeat.add(ws, () => this.#leave(s), () => this.#defer(s, () => ws.ping()));
    ws.on('ping', (data) => this.#defer(s, () => ws.pong(data)));
    ws.on('error', (err) => this.#log.debug({ err, streamId }, 'room socket error'));
    ws.on('close', () => this.#leave(s));
    ws.on('message', (data, isBinary) => this.#onFrame(s, data, isBinary));
    const history = await this.#history(room);
    // Events queued but not flushed yet are held too; the socket takes the next flushes from here.
    const held = [...(s.held ?? []), ...room.outbox.eventsFrom(s.from)];
    s.held = null;
    s.from = room.outbox.length;
    const seen = history.ids;
    this.#defer(s, () => { if (this.#writable(s)) s.ws.send(history.frame, { binary: false }); });
    this.#send(s, JSON.stringify({ type: 'room', ...room.policy.settings }));
    for (const e of held) {
      if (e.type === 'chat' && seen.has(e.id)) continue;
      this.#send(s, JSON.stringify(e));
    }
  }

  /**
   * The room's last messages for a joining socket, read once for every socket that joined in the
   * HISTORY_WINDOW_MS before the read starts (a join storm costs one read and one serialization per
   * window, not one per socket; a join waits that much longer for its history). Sharing is sound
   * because a socket holds every event from its join on, and the read starts after its join: what
   * the read misses, the socket holds.
   */
  #history(room: Room): Promise<{ frame: Buffer; ids: ReadonlySet<string> }> {
    if (room.historyRead) return room.historyRead;
    const c = this.#o.config;
    const read = new Promise<void>((resolve) => setTimeout(resolve, HISTORY_WINDOW_MS)).then(async () => {
      room.historyRead = undefined;
      let items: RoomMessageRecord[] = [];
      try {
        items = c.historyMessages > 0 ? await this.#o.store.recentRoomMessages(room.streamId, c.historyMessages) : [];
      } catch (err) {
        this.#log.error({ err, streamId: room.streamId }, 'room history read failed');
      }
      return { frame: Buffer.from(JSON.stringify({ type: 'history', items: items.map(chatEvent) })), ids: new Set(items.map((m) => m.id)) };
    });
    room.historyRead = read;
    return read;
  }

  #leave(s: RoomSocket): void {
    const room = s.room;
    if (!room.sockets.delete(s)) return;
    s.held = null;
    s.deferred = null;
    this.#sockets--;
    this.#addIp(s.ip, -1);
    if (room.sockets.size === 0) {
      room.unsubscribe();
      clearTimeout(room.flushTimer);
      this.#rooms.delete(room.streamId);
    }
  }

  /** Sends text to one socket (its own frames: history, auth, errors). */
  #send(s: RoomSocket, text: string): void {
    this.#defer(s, () => { if (this.#writable(s)) s.ws.send(text); });
  }

  /**
   * Runs a write to one socket now, or after the native flush writing to it is done: the flush's
   * threads write beside libuv, which is sound only while nothing else is written to the socket
   * (a short write's remainder goes through libuv first when the flush is done).
   */
  #defer(s: RoomSocket, write: () => void): void {
    if (!s.guard?.busy) return write();
    if (s.room.sockets.has(s)) (s.deferred ??= []).push(write);
  }

  /** Whether the socket is open and keeping up; one whose send buffer is over the bound is closed. */
  #writable(s: RoomSocket): boolean {
    if (s.ws.readyState !== s.ws.OPEN) return false;
    if (s.ws.bufferedAmount > this.#o.config.maxBufferedBytes) {
      this.slowClosed++;
      this.#log.info({ streamId: s.room.streamId, remoteAddress: s.ip, buffered: s.ws.bufferedAmount }, 'room socket cannot keep up: closed');
      s.ws.terminate();
      this.#leave(s);
      return false;
    }
    return true;
  }

  /** Queues an event for every socket of the room; it goes out with the room's next flush. */
  #enqueue(room: Room, e: SocketEvent): void {
    room.outbox.push(e, JSON.stringify(e));
    this.#scheduleFlush(room);
  }

  #scheduleFlush(room: Room): void {
    if (room.flushTimer || room.flushing || this.#closed || room.outbox.length === 0) return;
    room.flushTimer = setTimeout(() => this.#flush(room), Math.max(0, room.nextFlushAt - Date.now()));
    room.flushTimer.unref();
  }

  /**
   * Writes the events queued since the last flush to every socket: the same bytes, one write per
   * socket, straight to the TCP socket under ws. That is safe because ws writes each of its own
   * frames whole and synchronously (permessage-deflate is off), and it keeps the bytes counted in
   * ws.bufferedAmount, so the slow-socket bound holds. Sockets still reading their history hold
   * the events instead. With the addon the writes go from native threads (#flushNative); without,
   * FLUSH_SLICE sockets per turn of the event loop, so a large room never holds the media path
   * (ingest, the transcoder's pipes) for more than a slice.
   */
  #flush(room: Room): void {
    room.flushTimer = undefined;
    room.flushing = true;
    const start = performance.now();
    const cpu0 = threadCpu();
    const batch = room.outbox.take();
    // Who gets what is settled now: a socket that joins from here on takes the next batch.
    const targets: RoomSocket[] = [];
    for (const s of room.sockets) {
      const from = s.from;
      s.from = 0;
      if (s.held) {
        for (let i = from; i < batch.events.length; i++) s.held.push(batch.events[i]!);
      } else if (from < batch.events.length) {
        s.batchFrom = from;
        targets.push(s);
      }
    }
    if (this.#native) return this.#flushNative(this.#native, room, batch, targets, start, cpu0);
    let cpuMs = 0;
    const slice = (at: number): void => {
      const c0 = at === 0 ? cpu0 : threadCpu();
      const gone = this.#closed || this.#rooms.get(room.streamId) !== room;
      const end = gone ? targets.length : Math.min(targets.length, at + FLUSH_SLICE);
      for (let i = gone ? end : at; i < end; i++) {
        const s = targets[i]!;
        if (!room.sockets.has(s) || !this.#writable(s)) continue;
        s.socket.write(batchFor(batch, s));
        this.fanoutWrites++;
      }
      cpuMs += cpuMsSince(c0);
      if (end < targets.length) {
        setImmediate(() => slice(end));
        return;
      }
      this.#flushed(room, start, cpuMs);
    };
    slice(0);
  }

  /**
   * A flush written by the addon's threads, while the event loop goes on. What makes writing
   * beside libuv sound: no socket in the flight closes its fd before the flight is done (its
   * FlightGuard holds the close, so no other connection can get the number meanwhile); only
   * sockets with nothing queued in libuv go native (the others are written through it now); and
   * until the flight is done nothing else is written to a socket in it (#defer holds its frames,
   * pings and pongs). Then a short write's remainder goes through libuv, before what was held.
   * (ws writes a close frame of its own when a client's close or protocol error comes: whole, and
   * between whole writes; only a socket whose buffers are full could see it land inside a frame.)
   */
  #flushNative(native: NativeFanout, room: Room, batch: { data: Buffer; offsets: number[] }, targets: RoomSocket[], start: number, cpu0: NodeJS.CpuUsage): void {
    const inFlight: RoomSocket[] = [];
    for (const s of targets) {
      if (!this.#writable(s)) continue;
      if (s.guard && s.socket.writableLength === 0) {
        s.guard.busy = true;
        inFlight.push(s);
      } else {
        s.socket.write(batchFor(batch, s));
        this.fanoutWrites++;
      }
    }
    const n = inFlight.length;
    const fds = new Int32Array(n);
    const offsets = new Int32Array(n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = inFlight[i]!;
      fds[i] = s.guard!.fd;
      offsets[i] = batch.offsets[s.batchFrom]!;
    }
    let cpuMs = cpuMsSince(cpu0);
    const done = (threadsUs: number): void => {
      const c0 = threadCpu();
      for (let i = 0; i < n; i++) {
        const s = inFlight[i]!;
        const guard = s.guard!;
        // Not busy from here: the remainder and the held writes go straight through libuv.
        guard.busy = false;
        const sent = out[i]!;
        // sent < 0: the peer is gone (EPIPE, ECONNRESET); the socket's read side sees the close.
        if (sent >= 0 && !s.socket.destroyed) {
          this.fanoutWrites++;
          const rest = offsets[i]! + sent;
          if (rest < batch.data.length) {
            this.fanoutShortWrites++;
            s.socket.write(batch.data.subarray(rest));
          }
        }
        const held = s.deferred;
        s.deferred = null;
        if (held && room.sockets.has(s)) for (const write of held) write();
        // A close asked for during the flight happens now.
        guard.land();
      }
      cpuMs += threadsUs / 1000 + cpuMsSince(c0);
      this.#flushed(room, start, cpuMs);
    };
    if (n === 0) return done(0);
    let written: Promise<number>;
    try {
      written = native.write(fds, offsets, batch.data, out, this.#threads);
    } catch (err) {
      // out is all zeros: every socket gets the whole batch through libuv.
      this.#log.error({ err }, 'room native flush failed: written from the event loop');
      return done(0);
    }
    written.then(done, (err: unknown) => {
      this.#log.error({ err }, 'room native flush failed: written from the event loop');
      out.fill(0);
      done(0);
    });
  }

  /** A flush is done: the next may start after the spacing. */
  #flushed(room: Room, start: number, cpuMs: number): void {
    room.flushing = false;
    this.fanoutFlushes++;
    this.fanoutCpuMs += cpuMs;
    this.fanoutWallMs += performance.now() - start;
    // Spaced by the CPU the flush took, not its wall time: on a machine short of CPU the wall time
    // counts the waits for a core too, and spacing by it would hold chat back for nothing.
    room.nextFlushAt = Date.now() + Math.max(this.#o.config.batchMs - (performance.now() - start), (this.#native ? FLUSH_SPACING_NATIVE : FLUSH_SPACING_JS) * cpuMs);
    if (!this.#closed && this.#rooms.get(room.streamId) === room) this.#scheduleFlush(room);
  }

  #error(s: RoomSocket, code: ErrorCode, message: string): void {
    this.#send(s, JSON.stringify({ type: 'error', code, message }));
  }

  #deliver(room: Room, e: RoomEvent): void {
    // Settings travel as an event, so every node's copy of the room follows them.
    if (e.type === 'room') room.policy.settings = { slowModeSeconds: e.slowModeSeconds, open: e.open };
    if (e.type === 'bans.changed') {
      this.#rereadBans(e.shopperId, e.scope, e.scopeId).catch((err: unknown) => this.#log.warn({ err, streamId: room.streamId }, 'room bans re-read failed'));
      return;
    }
    this.#enqueue(room, e);
  }

  #onFrame(s: RoomSocket, data: RawData, isBinary: boolean): void {
    const now = Date.now();
    if (!s.frameBucket.take(now) || s.pending >= MAX_PENDING) return this.#error(s, 'SHOWCASE_ERR_RATE_LIMITED', 'too many frames');
    if (isBinary) return this.#error(s, 'SHOWCASE_ERR_ROOM_BAD_FRAME', 'binary frames are not read');
    const frame = parseClientFrame(rawText(data));
    s.frames++;
    if (typeof frame === 'string') return this.#error(s, 'SHOWCASE_ERR_ROOM_BAD_FRAME', frame);
    if (frame.type === 'reaction') return this.#reaction(s, frame.kind, now);
    s.pending++;
    const first = s.frames === 1;
    s.chain = s.chain.then(() => (frame.type === 'auth' ? this.#auth(s, frame.token, first) : this.#chat(s, frame.text)))
      .catch((err: unknown) => {
        if (err instanceof ShowcaseError) this.#error(s, err.code, err.message);
        else {
          this.#log.error({ err }, 'room frame failed');
          this.#error(s, 'SHOWCASE_ERR_INTERNAL', 'internal error');
        }
      })
      .finally(() => { s.pending--; });
  }

  async #auth(s: RoomSocket, token: string, first: boolean): Promise<void> {
    if (!first || s.author) throw new ShowcaseError('SHOWCASE_ERR_ROOM_BAD_FRAME', 'auth must be the first frame');
    if (Date.now() - s.openedAt > this.#o.config.authTimeoutMs) throw new ShowcaseError('SHOWCASE_ERR_ROOM_AUTH_TIMEOUT', `auth must come within ${this.#o.config.authTimeoutMs} ms of opening`);
    const author = roomAuthor(await this.#o.resolveToken(token, s.ip), s.room.ownerId);
    s.author = author;
    if (author.role === 'shopper') await this.#readBan(s);
    this.#send(s, JSON.stringify({ type: 'auth.ok', author }));
  }

  async #chat(s: RoomSocket, raw: string): Promise<void> {
    const author = s.author;
    if (!author) throw new ShowcaseError('SHOWCASE_ERR_ROOM_AUTH_REQUIRED', 'send {"type":"auth","token"} first');
    const room = s.room;
    await room.ready;
    // The store is the truth across nodes: a ban made elsewhere holds even if its event never came.
    if (author.role === 'shopper') await this.#readBan(s);
    const now = Date.now();
    if (s.bannedUntil > now) {
      throw new ShowcaseError('SHOWCASE_ERR_ROOM_BANNED', 'you are timed out of this room', s.bannedUntil === Infinity ? {} : { until: new Date(s.bannedUntil).toISOString() });
    }
    const text = admitChat(room.policy, this.#o.config, author, raw, now);
    room.lastMediaTime = Math.max(Math.round(this.#o.mediaTime(room.streamId)), room.lastMediaTime + 1);
    const rec: RoomMessageRecord = {
      id: `m_${randomBytes(9).toString('base64url')}`, streamId: room.streamId, authorId: author.id, authorRole: author.role,
      authorName: author.displayName, text, at: now, mediaTime: room.lastMediaTime, deletedAt: null,
    };
    try {
      await this.#o.store.addRoomMessage(rec);
    } catch (err) {
      this.#log.error({ err, streamId: room.streamId }, 'room message not stored');
      throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'the message could not be kept; try again');
    }
    this.#counts.add(room.streamId, 'messages', now);
    this.#o.fanout.publish(room.streamId, chatEvent(rec));
  }

  /** Reads the shopper's bans in force on this room (its stream's and its creator's). */
  async #readBan(s: RoomSocket): Promise<void> {
    const now = Date.now();
    const bans = await this.#o.store.listRoomBans({ streamId: s.room.streamId, creatorId: s.room.ownerId, now, shopperId: s.author!.id });
    s.bannedUntil = bans.reduce((m, b) => Math.max(m, b.until ?? Infinity), 0);
  }

  /**
   * Tells every node (this one included) watching the stream a ban was made or lifted on to re-read
   * the shopper's bans; a node that misses it (another stream of the creator, a Redis blip) still
   * refuses, since chat re-reads the bans from the store before it is admitted.
   */
  bansChanged(streamId: string, shopperId: string, scope: 'stream' | 'creator', scopeId: string): void {
    this.#o.fanout.publish(streamId, { type: 'bans.changed', shopperId, scope, scopeId });
  }

  /** Re-reads a shopper's bans on this node's sockets in the rooms a ban scope covers. */
  async #rereadBans(shopperId: string, scope: 'stream' | 'creator', scopeId: string): Promise<void> {
    const sockets = [...this.#rooms.values()]
      .filter((r) => (scope === 'stream' ? r.streamId === scopeId : r.ownerId === scopeId))
      .flatMap((r) => [...r.sockets].filter((s) => s.author?.role === 'shopper' && s.author.id === shopperId));
    await Promise.all(sockets.map((s) => this.#readBan(s)));
  }

  /** Publishes a room's new settings to its sockets (and every node's copy of the room). */
  settingsChanged(streamId: string, settings: RoomSettings): void {
    this.#o.fanout.publish(streamId, { type: 'room', ...settings });
  }

  /** Applies a creator's new blocked-words list to their open rooms on this node. */
  blockedWordsChanged(creatorId: string, words: readonly string[]): void {
    const matcher = new BlockedWordMatcher(words);
    for (const r of this.#rooms.values()) if (r.ownerId === creatorId) r.policy.blocked = matcher;
  }

  /** Writes the per-minute message and reaction counts gathered since the last flush (analytics). */
  flushCounts(): Promise<void> {
    return this.#counts.flush(this.#o.store, (streamId, err) => this.#log.warn({ err, streamId }, 'room counts not stored'));
  }

  #reaction(s: RoomSocket, kind: ReactionKind, now: number): void {
    if (!s.reactionBucket.take(now)) {
      this.reactionsDropped++;
      // One notice a second at most: the answer must not cost more than the flood.
      if (now - s.reactionDropNoticeAt >= 1000) {
        s.reactionDropNoticeAt = now;
        this.#error(s, 'SHOWCASE_ERR_ROOM_REACTIONS_DROPPED', `at most ${this.#o.config.reactionsPerSecond} reactions a second`);
      }
      return;
    }
    s.room.reactions[kind] = (s.room.reactions[kind] ?? 0) + 1;
    s.room.reactionTotal++;
    this.#counts.add(s.room.streamId, 'reactions', now);
  }

  /** One frame per room per tick: the reactions since the last tick, and the viewer count when it changed. */
  #onTick(): void {
    for (const room of this.#rooms.values()) {
      if (room.reactionTotal > 0) {
        const counts = room.reactions;
        room.reactions = {};
        room.reactionTotal = 0;
        this.#o.fanout.publish(room.streamId, { type: 'reactions', counts });
      }
      const n = this.#o.viewerCount ? this.#o.viewerCount(room.streamId, room.sockets.size) : room.sockets.size;
      if (n !== room.viewersSent) {
        room.viewersSent = n;
        this.#enqueue(room, { type: 'viewers', count: n });
      }
    }
  }

  #ensureTimers(): void {
    if (!this.#tick) {
      this.#tick = setInterval(() => this.#onTick(), this.#o.config.tickMs);
      this.#tick.unref();
    }
    if (!this.#countsTimer) {
      this.#countsTimer = setInterval(() => void this.flushCounts(), this.#o.config.countsFlushMs);
      this.#countsTimer.unref();
    }
  }

  /** Stops accepting and closes every socket (1001); sockets that do not finish in a second are terminated. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick) clearInterval(this.#tick);
    this.#heartbeat.close();
    if (this.#countsTimer) clearInterval(this.#countsTimer);
    const all = [...this.#rooms.values()].flatMap((r) => [...r.sockets]);
    await closeSockets(all.map((s) => s.ws));
    for (const r of this.#rooms.values()) {
      r.unsubscribe();
      clearTimeout(r.flushTimer);
    }
    this.#rooms.clear();
    this.#wss.close();
    await this.flushCounts();
  }
}
