// The mediasoup worker pool on real workers: least-loaded placement, a worker killed with SIGKILL is
// detected, logged, its router's owner told, and replaced; closing a router closes what it owns;
// close() stops every worker process.
import t from 'tap';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';
import { WorkerPool } from '../../src/webrtc/worker-pool.js';
import { WHIP_MEDIA_CODECS } from '../../src/webrtc/sdp.js';
import { createLogger } from '../../src/core/logger.js';
import { LogSink } from '../helpers/server.js';

const bin = resolveWorkerBinary();
if (!bin) {
  t.plan(0, 'mediasoup-worker not found (set MEDIASOUP_WORKER_BIN or run bash native/mediasoup/build.sh)');
} else {
  const logs = new LogSink();
  const pool = await WorkerPool.create({ size: 2, logger: createLogger('info', logs), replaceDelayMs: 100, rtcMinPort: 41000, rtcMaxPort: 41999 });
  t.teardown(() => pool.close());

  const waitFor = async <T>(fn: () => T | undefined | false, what: string, ms = 10000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  t.test('placement, ownership and load counts', async (t) => {
    t.equal(pool.size, 2);
    const pids = pool.load().map((l) => l.pid);
    t.ok(pids.every((p) => typeof p === 'number' && p > 0) && pids[0] !== pids[1], `two worker processes ${pids.join(', ')}`);
    const a = await pool.createRouter('stream-a', WHIP_MEDIA_CODECS);
    const ta = await a.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    await a.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
    const b = await pool.createRouter('stream-b', WHIP_MEDIA_CODECS);
    const load = pool.load();
    t.same(load.map((l) => l.routers).sort(), [1, 1], 'second router goes to the idle worker');
    t.equal(load.reduce((n, l) => n + l.transports, 0), 2, 'transports counted');
    const c = await pool.createRouter('stream-c', WHIP_MEDIA_CODECS);
    const slotOf = (id: string) => pool.load().find((l) => l.routers > 0 && l.transports === (id === a.id ? 2 : 0));
    t.ok(slotOf(a.id), 'stream-a worker still has its two transports');
    t.same(pool.load().map((l) => l.routers).sort(), [1, 2], 'third router goes to the worker without transports');
    a.close();
    t.ok(ta.closed, 'closing the router closed its transports');
    t.equal(pool.load().reduce((n, l) => n + l.transports, 0), 0, 'transport count back to 0');
    b.close();
    c.close();
    t.same(pool.load().map((l) => l.routers), [0, 0]);
  });

  t.test('a worker that dies is reported to its routers\' owners and replaced', async (t) => {
    const r = await pool.createRouter('stream-x', WHIP_MEDIA_CODECS);
    const transport = await r.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    const slot = pool.load().find((l) => l.routers === 1)!;
    const lost: Array<[string, string, string]> = [];
    const died: Array<{ owners: string[]; pid: number }> = [];
    pool.on('routerlost', (owner, id, reason) => lost.push([owner, id, reason]));
    pool.on('workerdied', (info) => died.push(info));
    const replaced = new Promise<{ slot: number; pid: number }>((res) => pool.once('workerreplaced', res));
    process.kill(slot.pid!, 'SIGKILL');
    await waitFor(() => lost.length > 0, 'routerlost');
    t.same(lost[0]!.slice(0, 2), ['stream-x', r.id], 'the owner is told which router it lost');
    t.match(lost[0]![2], /died/);
    t.same(died[0]!.owners, ['stream-x']);
    t.equal(died[0]!.pid, slot.pid);
    t.ok(r.closed && transport.closed, 'router and transport closed with the worker');
    t.ok(logs.find((l) => l.msg === 'mediasoup worker died: replacing it' && l.pid === slot.pid), 'death logged with pino');
    const info = await replaced;
    t.equal(info.slot, slot.slot);
    t.not(info.pid, slot.pid, `replacement worker ${info.pid} in slot ${info.slot}`);
    t.ok(pool.load().every((l) => l.pid && l.routers === 0), 'both slots alive, nothing left on the dead one');
    const again = await pool.createRouter('stream-y', WHIP_MEDIA_CODECS);
    t.ok(again.id, 'routers can be created after the replacement');
    again.close();
  });

  t.test('close() ends every worker process', async (t) => {
    const pids = pool.load().map((l) => l.pid!);
    pool.close();
    pool.close();
    await waitFor(() => pids.every((p) => { try { process.kill(p, 0); return false; } catch { return true; } }), 'worker processes to exit', 5000);
    t.pass(`workers ${pids.join(', ')} exited`);
    await t.rejects(pool.createRouter('late', WHIP_MEDIA_CODECS), /closed/);
  });
}
