/**
 * One client process of bench/room.ts (forked by it, driven over IPC): opens its share of the room
 * sockets from its own source addresses, posts its share of the chat on the sockets of the
 * shopper tokens it is given, sends its share of the reactions round-robin over its sockets, and
 * reports, for each chat message, how many of its sockets received it and the first and last
 * receive time on the machine clock (performance.timeOrigin + now, comparable across processes).
 * Everything is bounded: sockets by the parent's count, messages by rate x seconds, time by deadlines.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The parent's orders. */
export type ToClients =
  | { type: 'open'; url: string; count: number; addresses: string[]; perAddress: number; tokens: string[]; deadlineMs: number }
  /** drainMs: after the last send, how long at most to wait for chat still on its way (the wait ends after 5 s without any). */
  | { type: 'run'; startAt: number; seconds: number; drainMs: number; chatPerSecond: number; reactionsPerSecond: number; worker: number; workers: number }
  | { type: 'close' };

/** What a client process reports. */
export type FromClients =
  | { type: 'opened'; open: number; failed: number; authed: number; ms: number; firstError?: string }
  | {
    type: 'report';
    /** Per chat sequence number this process sent: the send time (ms, machine clock); NaN where refused. */
    sent: Array<[seq: number, sentAt: number]>;
    /** Per sequence number received: sockets that got it, first and last receive time. */
    received: Array<[seq: number, count: number, first: number, last: number]>;
    refused: Record<string, number>;
    reactionsSent: number;
    framesReceived: number;
    /** Sockets that closed during the run (the server closes one that cannot keep up). */
    closedDuringRun: number;
    openAtEnd: number;
    loopDelayP99Ms: number;
    cpuSeconds: number;
    /** From the start of the sends to the end of the drain. */
    elapsedSeconds: number;
  };

const now = (): number => performance.timeOrigin + performance.now();
const send = (m: FromClients): void => void process.send!(m);

const sockets: LeanSocket[] = [];
/** Authenticated sockets (chat senders), one per shopper token. */
const senders: LeanSocket[] = [];
let running = false;
let closedDuringRun = 0;
let framesReceived = 0;
let lastChatAt = 0;
const refused: Record<string, number> = {};
// Receive records by chat sequence number (bounded: allocated for the run's messages).
let count = new Uint32Array(0);
let first = new Float64Array(0);
let last = new Float64Array(0);
const CHAT_PREFIX = Buffer.from('{"type":"chat",');
const TEXT_MARK = Buffer.from('"text":"rb ');

const ERROR_PREFIX = Buffer.from('{"type":"error",');

/** Reads a chat frame's sequence number from its text ("rb <seq> <sentAt>") without parsing the JSON; counts error frames by code. */
function onFrame(data: Buffer): void {
  framesReceived++;
  if (!running || data.length < 40) return;
  if (data.compare(ERROR_PREFIX, 0, ERROR_PREFIX.length, 0, ERROR_PREFIX.length) === 0) {
    const code = (JSON.parse(data.toString()) as { code: string }).code;
    refused[code] = (refused[code] ?? 0) + 1;
    return;
  }
  if (data.compare(CHAT_PREFIX, 0, CHAT_PREFIX.length, 0, CHAT_PREFIX.length) !== 0) return;
  const at = now();
  lastChatAt = at;
  const i = data.indexOf(TEXT_MARK);
  if (i < 0) return;
  let seq = 0;
  for (let j = i + TEXT_MARK.length; j < data.length && data[j]! >= 48 && data[j]! <= 57; j++) seq = seq * 10 + data[j]! - 48;
  if (seq >= count.length) return;
  if (count[seq]++ === 0) first[seq] = at;
  last[seq] = at;
}

/**
 * A lean RFC 6455 client over a raw TCP socket: the HTTP upgrade (its Sec-WebSocket-Accept checked),
 * then the server's frames parsed as they come (unmasked; a frame split over reads is joined) and
 * the client's sent masked. Ten thousand of them share this box's two cores with the server, so a
 * receive costs one read and a header parse: no per-socket stream machinery (ws's Receiver is a
 * Writable per socket and costs about twice the CPU per frame here). Pings are answered; a close
 * frame is answered and the socket ended.
 */
class LeanSocket {
  open = false;
  onMessage: (payload: Buffer) => void = onFrame;
  readonly #socket: Socket;
  #pending: Buffer | null = null;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Sends one masked text frame (payloads under 64 KiB: the bench's frames are tiny). */
  send(text: string): void {
    if (!this.open) return;
    this.#write(0x1, Buffer.from(text));
  }

  terminate(): void {
    this.open = false;
    this.#socket.destroy();
  }

  #write(opcode: number, payload: Buffer): void {
    const n = payload.length;
    const head = n < 126 ? 6 : 8;
    const frame = Buffer.allocUnsafe(head + n);
    frame[0] = 0x80 | opcode;
    if (n < 126) frame[1] = 0x80 | n;
    else {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, head - 4);
    for (let i = 0; i < n; i++) frame[head + i] = payload[i]! ^ mask[i & 3]!;
    this.#socket.write(frame);
  }

  /** Parses what came: whole frames go to onMessage, a partial one waits for the next read. */
  data(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = null;
    let at = 0;
    while (buf.length - at >= 2) {
      const op = buf[at]! & 0x0f;
      let len = buf[at + 1]! & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        head = 10;
      }
      if (buf.length - at < head + len) break;
      const payload = buf.subarray(at + head, at + head + len);
      at += head + len;
      if (op === 0x1 || op === 0x2) this.onMessage(payload);
      else if (op === 0x9) this.#write(0xa, Buffer.from(payload));
      else if (op === 0x8) {
        if (this.open) this.#write(0x8, Buffer.from(payload.subarray(0, 2)));
        this.open = false;
        this.#socket.end();
      }
    }
    if (at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
  }
}

const READ_BUFFER = Buffer.allocUnsafe(65_536);

/** Opens one room socket: the upgrade request, the 101 answer checked, then frames. */
function openOne(url: string, localAddress: string, token: string | undefined): Promise<LeanSocket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    // Reads land in one buffer shared by every socket of the process (parsed before the next read:
    // a frame split over reads is copied out), not in a fresh 64 KiB allocation per read.
    const socket = connect({ host: u.hostname, port: Number(u.port), localAddress, onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => { onData(Buffer.from(buf.buffer, buf.byteOffset, n)); return true; } } });
    socket.setNoDelay(true);
    const ws = new LeanSocket(socket);
    let head: Buffer | null = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('no upgrade or auth.ok in 15 s')), 15_000);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const ready = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.onMessage = onFrame;
      resolve(ws);
    };
    socket.once('error', fail);
    socket.on('close', () => {
      if (!settled) fail(new Error('closed before the upgrade'));
      if (settled && running) closedDuringRun++;
      ws.open = false;
    });
    socket.once('connect', () => {
      socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const onData = (chunk: Buffer): void => {
      if (!head) return ws.data(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) fail(new Error('upgrade answer too long'));
        return;
      }
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const rest = head.subarray(end + 4);
      head = null;
      if (!/^HTTP\/1\.1 101 /.test(lines[0]!)) return fail(new Error(`upgrade answered ${lines[0]}`));
      const got = lines.find((l) => /^sec-websocket-accept:/i.test(l))?.split(':')[1]?.trim();
      if (got !== accept) return fail(new Error('wrong Sec-WebSocket-Accept'));
      ws.open = true;
      if (!token) {
        ready();
      } else {
        ws.onMessage = (d) => {
          if (d.toString('latin1', 0, 17) === '{"type":"auth.ok"') ready();
          else if (d.toString('latin1', 0, 15) === '{"type":"error"') fail(new Error(`auth refused: ${d.toString()}`));
        };
        ws.send(JSON.stringify({ type: 'auth', token }));
      }
      if (rest.length) ws.data(rest);
    };
  });
}

/** Opens `count` sockets, `perAddress` per source address, 64 handshakes in flight at most. */
async function open(m: Extract<ToClients, { type: 'open' }>): Promise<void> {
  const t0 = Date.now();
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < m.count && Date.now() - t0 < m.deadlineMs) {
      const i = next++;
      const token = i < m.tokens.length ? m.tokens[i] : undefined;
      try {
        const ws = await openOne(m.url, m.addresses[Math.floor(i / m.perAddress)]!, token);
        sockets.push(ws);
        if (token) senders.push(ws);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  send({ type: 'opened', open: sockets.length, failed, authed: senders.length, ms: Date.now() - t0, firstError });
}

/** Posts chat and reactions from startAt for `seconds`, then waits drainMs and reports. */
async function run(m: Extract<ToClients, { type: 'run' }>): Promise<void> {
  const total = Math.ceil(m.chatPerSecond * m.seconds) + 1;
  count = new Uint32Array(total);
  first = new Float64Array(total);
  last = new Float64Array(total);
  const sent: Array<[number, number]> = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const cpu0 = process.cpuUsage();
  running = true;
  await new Promise((r) => setTimeout(r, Math.max(0, m.startAt - Date.now())));
  loop.enable();
  const t0 = m.startAt;
  const end = t0 + m.seconds * 1000;
  // Chat: message seq is due at t0 + seq / rate; this process sends the seqs with seq % workers == worker.
  let seq = m.worker;
  let author = 0;
  const chat = new Promise<void>((resolve) => {
    const tick = (): void => {
      while (seq < total && t0 + (seq * 1000) / m.chatPerSecond <= Date.now() && Date.now() < end) {
        const ws = senders[author++ % senders.length];
        const at = now();
        if (ws && ws.open) {
          ws.send(`{"type":"chat","text":"rb ${seq} ${at.toFixed(3)}"}`);
          sent.push([seq, at]);
        }
        seq += m.workers;
      }
      if (seq >= total || Date.now() >= end || senders.length === 0) return resolve();
      setTimeout(tick, Math.max(0, t0 + (seq * 1000) / m.chatPerSecond - Date.now()));
    };
    tick();
  });
  // Reactions: every 50 ms this process's share, round-robin over its sockets (each far under 10 a second).
  let reactionsSent = 0;
  let rr = 0;
  const kinds = ['heart', 'fire', 'clap', 'laugh', 'wow'].map((k) => JSON.stringify({ type: 'reaction', kind: k }));
  const reactions = setInterval(() => {
    const due = Math.floor(((Math.min(Date.now(), end) - t0) / 1000) * m.reactionsPerSecond) - reactionsSent;
    for (let k = 0; k < due && sockets.length > 0; k++) {
      const ws = sockets[rr++ % sockets.length]!;
      if (ws.open) ws.send(kinds[rr % kinds.length]!);
      reactionsSent++;
    }
  }, 50);
  await chat;
  await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())));
  clearInterval(reactions);
  // Chat still on its way: wait until none came for 5 s (a starved server flushes seconds apart), bounded by drainMs.
  for (const drainEnd = Date.now() + m.drainMs; Date.now() < drainEnd && now() - lastChatAt < 5000;) await new Promise((r) => setTimeout(r, 100));
  running = false;
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const received: Array<[number, number, number, number]> = [];
  for (let s = 0; s < total; s++) if (count[s]! > 0) received.push([s, count[s]!, first[s]!, last[s]!]);
  send({
    type: 'report', sent, received, refused, reactionsSent, framesReceived, closedDuringRun,
    openAtEnd: sockets.filter((ws) => ws.open).length,
    loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    elapsedSeconds: (Date.now() - t0) / 1000,
  });
}

process.on('message', (m: ToClients) => {
  if (m.type === 'open') void open(m);
  else if (m.type === 'run') void run(m);
  else {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
// The parent gone: nothing to report to.
process.on('disconnect', () => process.exit(0));
