/**
 * One client process of bench/room.ts (forked by it, driven over IPC): opens its share of the room
 * sockets from its own source addresses, posts its share of the chat on the sockets of the
 * shopper tokens it is given, sends its share of the reactions round-robin over its sockets, and
 * reports, for each chat message, how many of its sockets received it and the first and last
 * receive time on the machine clock (performance.timeOrigin + now, comparable across processes).
 * Everything is bounded: sockets by the parent's count, messages by rate x seconds, time by deadlines.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

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

const sockets: WebSocket[] = [];
/** Authenticated sockets (chat senders), one per shopper token. */
const senders: WebSocket[] = [];
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

function openOne(url: string, localAddress: string, token: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: 15_000 });
    ws.once('open', () => {
      ws.on('message', (d: Buffer) => onFrame(d));
      ws.on('close', () => { if (running) closedDuringRun++; });
      if (!token) return resolve(ws);
      ws.send(JSON.stringify({ type: 'auth', token }));
      const t = setTimeout(() => reject(new Error('no auth.ok in 15 s')), 15_000);
      const onAuth = (d: Buffer): void => {
        const s = d.toString();
        if (s.startsWith('{"type":"auth.ok"')) {
          clearTimeout(t);
          ws.off('message', onAuth);
          resolve(ws);
        } else if (s.startsWith('{"type":"error"')) {
          clearTimeout(t);
          reject(new Error(`auth refused: ${s}`));
        }
      };
      ws.on('message', onAuth);
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
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
        ws.on('error', () => {});
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
        if (ws && ws.readyState === ws.OPEN) {
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
      if (ws.readyState === ws.OPEN) ws.send(kinds[rr % kinds.length]!);
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
    openAtEnd: sockets.filter((ws) => ws.readyState === ws.OPEN).length,
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
