// Stream-key checks rate-limit failures only: a publisher with a valid key joins from an address
// that has just sent many bad keys (a shared NAT), while the bad keys from it get 429.
import t from 'tap';
import WebSocket from 'ws';
import { startServer } from '../helpers/server.js';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';

const skip = !resolveWorkerBinary() ? 'mediasoup-worker not found (bash native/mediasoup/build.sh)' : false;

/** Sends signaling requests on one socket and resolves with each reply (replies come in order). */
async function signal(url: string): Promise<{ req(type: string, fields: Record<string, unknown>): Promise<any>; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const waiting = new Map<number, (m: any) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (typeof m.id === 'number') waiting.get(m.id)?.(m);
  });
  let seq = 1;
  return {
    req: (type, fields) => new Promise((resolve, reject) => {
      const id = seq++;
      const timer = setTimeout(() => reject(new Error(`no reply to ${type}`)), 5000);
      waiting.set(id, (m) => { clearTimeout(timer); waiting.delete(id); resolve(m); });
      ws.send(JSON.stringify({ id, type, ...fields }));
    }),
    close: () => ws.terminate(),
  };
}

t.test('signaling: 60 bad stream keys from one address, then a valid key still joins', { skip }, async (t) => {
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 46500, rtcMaxPort: 46999, bridgeMinPort: 33500, bridgeMaxPort: 33999 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream('Shared NAT');
  const c = await signal(`${srv.base.replace('http', 'ws')}/v1/signal`);
  t.teardown(() => c.close());
  const codes: string[] = [];
  for (let i = 0; i < 60; i++) codes.push((await c.req('join', { role: 'publisher', streamKey: `sk_bad_${i}` })).error.code);
  t.equal(codes[0], 'SHOWCASE_ERR_RTMP_BAD_KEY');
  t.equal(codes[59], 'SHOWCASE_ERR_RATE_LIMITED', 'bad keys from the address are 429 after the budget');
  t.same([...new Set(codes)].sort(), ['SHOWCASE_ERR_RATE_LIMITED', 'SHOWCASE_ERR_RTMP_BAD_KEY']);
  const ok = await c.req('join', { role: 'publisher', streamKey });
  t.ok(ok.ok, `the valid key joins from the same address ${JSON.stringify(ok.error ?? '')}`);
  t.equal(ok.data?.streamId, id);
  t.ok((await c.req('leave', {})).ok);
  t.equal((await c.req('join', { role: 'publisher', streamKey: 'sk_bad_again' })).error.code, 'SHOWCASE_ERR_RATE_LIMITED', 'and a bad one is still refused');
});
