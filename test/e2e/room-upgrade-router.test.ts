// The one upgrade router with both socket servers running (signaling needs the mediasoup worker):
// an unknown path is refused, each server's own path opens.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { upgradeStatus } from '../helpers/room-client.js';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';

if (!resolveWorkerBinary()) {
  t.comment('mediasoup-worker not built: the signaling server does not start');
  t.pass('skipped: no mediasoup-worker');
} else {
  const srv = await startServer({ webrtc: { enabled: true, workers: 1 } });
  t.teardown(() => srv.close());
  const s = await srv.createStream('router');

  t.test('both socket servers behind one router; anything else is 404', async (t) => {
    t.ok(srv.app.signaling, 'the signaling server runs');
    t.same(srv.app.upgrades.routes.sort(), ['room', 'signaling']);
    t.equal(srv.app.http.server.listenerCount('upgrade'), 1, 'the router is the only upgrade listener');
    t.equal(await upgradeStatus(srv.base, '/v1/signal'), 101);
    t.equal(await upgradeStatus(srv.base, `/v1/streams/${s.id}/room`), 101);
    for (const p of ['/', '/v1/signal/x', '/v1/signalx', `/v1/streams/${s.id}/room/extra`, '/hls/x', `/${'a'.repeat(3000)}`]) {
      t.equal(await upgradeStatus(srv.base, p), 404, p.slice(0, 40));
    }
    t.ok(srv.app.upgrades.refused >= 6, 'counted');
  });
}
