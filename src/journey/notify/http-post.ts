import http from 'node:http';
import https from 'node:https';

/**
 * One POST with node:http(s) over keep-alive agents, answering the status code. Not fetch: undici
 * keeps a connection open after a request to an endpoint that never answers is aborted, so a dead
 * endpoint retried for 24 h would pile up sockets; here a timeout or an abort destroys the socket.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' }),
};

/** Why a POST got no answer, for the row's lastError. */
export class PostError extends Error {
  constructor(message: string, readonly timedOut: boolean) {
    super(message);
  }
}

/** POSTs body to url; resolves with the status once the (discarded) response body ends, rejects with PostError. */
export function post(url: string, o: { headers: Record<string, string>; body: string | Uint8Array; timeoutMs: number; signal?: AbortSignal }): Promise<number> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
  if (!lib) return Promise.reject(new PostError(`unsupported protocol ${u.protocol}`, false));
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method: 'POST', agent: agents[u.protocol as 'http:' | 'https:'], signal,
      headers: { ...o.headers, 'content-length': String(body.byteLength) },
    }, (res) => {
      // The body is discarded as it comes (never held); the timeout covers it too (an endless body is cut off).
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (err) => reject(new PostError(`response failed: ${err.message}`, timeout.aborted)));
      res.on('close', () => {
        if (!res.complete) reject(new PostError(timeout.aborted ? `no complete answer within ${o.timeoutMs} ms` : 'response cut off', timeout.aborted));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (timeout.aborted) reject(new PostError(`no answer within ${o.timeoutMs} ms`, true));
      else reject(new PostError(`request failed: ${err.code ?? err.message}`, false));
    });
    req.end(body);
  });
}
