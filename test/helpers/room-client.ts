import WebSocket from 'ws';

/** A room socket for tests: every frame received is kept; next() awaits one matching a test. */
export interface RoomClient {
  ws: WebSocket;
  frames: any[];
  /** Resolves with the first frame (from `from` on) matching pred; rejects after timeoutMs. */
  next(pred: (f: any) => boolean, timeoutMs?: number, from?: number): Promise<any>;
  send(frame: unknown): void;
  /** Resolves with the close code. */
  closed: Promise<number>;
}

/** Opens /v1/streams/:id/room on base (http://host:port); resolves once open. */
export async function openRoom(base: string, streamId: string, path = `/v1/streams/${streamId}/room`): Promise<RoomClient> {
  const ws = new WebSocket(base.replace(/^http/, 'ws') + path);
  const frames: any[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()));
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
  ws.on('error', () => {});
  return {
    ws, frames, closed,
    send: (f) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
    next(pred, timeoutMs = 5000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const f = frames.slice(from).find(pred);
          if (f === undefined) return false;
          waiters.delete(onFrame);
          clearTimeout(timer);
          resolve(f);
          return true;
        };
        const onFrame = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(onFrame);
          reject(new Error(`no matching room frame in ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 600)}`));
        }, timeoutMs);
        waiters.add(onFrame);
        check();
      });
    },
  };
}

/** The HTTP status an upgrade on path is answered with (101 when it opened). */
export function upgradeStatus(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + path);
    ws.once('open', () => { ws.terminate(); resolve(101); });
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('error', (err) => reject(err));
  });
}
