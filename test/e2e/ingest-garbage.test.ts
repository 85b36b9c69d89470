import t from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startServer, waitFor, getText } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';

/** Opens a connection, runs fn on it, and resolves when the server has closed it (or after 3 s). */
function garbage(port: number, fn: (s: net.Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 3000);
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => fn(s));
  });
}

/** A valid C0/C1, then (after S0/S1/S2) C2 and 64 KiB of random bytes: a malformed chunk stream. */
function afterHandshake(s: net.Socket): void {
  const c1 = randomBytes(1536);
  s.write(Buffer.concat([Buffer.from([3]), c1]));
  let got = 0;
  s.on('data', (d) => {
    got += d.length;
    if (got >= 1 + 1536 * 2 && got - d.length < 1 + 1536 * 2) {
      s.write(randomBytes(1536));
      s.write(randomBytes(64 * 1024));
    }
  });
}

t.test('garbage on the RTMP port leaves the server up, a live publisher undisturbed and memory bounded', async (t) => {
  const srv = await startServer({ rtmp: { handshakeTimeoutMs: 1000, maxConnectionsPerIp: 200 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 40);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(() => srv.app.origin.get(id)?.ready(), 'live stream');
  const live = srv.app.registry.get(id)!;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const framesBefore = live.ingest.videoFrames;
  const port = srv.app.rtmpPort;
  const started = Date.now();
  for (let round = 0; round < 100; round++) {
    await Promise.all([
      garbage(port, (s) => s.write(randomBytes(64 * 1024))),
      garbage(port, (s) => s.end(Buffer.concat([Buffer.from([3]), randomBytes(700)]))),
      garbage(port, afterHandshake),
    ]);
    // Spread the rounds over several seconds so the publisher's flow is measured alongside.
    await new Promise((r) => setTimeout(r, 40));
  }
  const elapsed = (Date.now() - started) / 1000;
  const refusals = srv.app.rtmp.stats().refusals;
  t.ok(Object.values(refusals).reduce((a, b) => a + b, 0) >= 200, `garbage refused and counted: ${JSON.stringify(refusals)}`);
  // The publisher kept flowing at about real time throughout.
  const frames = live.ingest.videoFrames - framesBefore;
  t.ok(frames >= elapsed * 30 * 0.8, `publisher undisturbed: ${frames} frames in ${elapsed.toFixed(1)} s`);
  t.equal(live.state, 'live');
  t.ok(live.publisher, 'still publishing');
  const pl = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
  t.equal(pl.status, 200);
  t.notMatch(pl.text, /#EXT-X-DISCONTINUITY\n/, 'no transcoder restart');
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const rssAfter = process.memoryUsage().rss;
  t.ok(rssAfter - rssBefore < 100 * 1024 * 1024, `RSS ${Math.round(rssBefore / 1e6)} MB -> ${Math.round(rssAfter / 1e6)} MB`);
  t.equal(srv.app.rtmp.stats().connections, 1, 'only the real publisher is still connected');
});

t.test('RTMP limits: wrong app, handshake timeout, connections per IP', async (t) => {
  const srv = await startServer({ rtmp: { handshakeTimeoutMs: 300, maxConnectionsPerIp: 3 } });
  t.teardown(() => srv.close());
  const { streamKey } = await srv.createStream();
  const wrongApp = publishRtmp(`rtmp://127.0.0.1:${srv.app.rtmpPort}/other/${streamKey}`, 2);
  t.not(await wrongApp.done, 0, 'wrong application refused');
  t.ok((srv.app.rtmp.stats().refusals['bad-app'] ?? 0) >= 1);
  const t0 = Date.now();
  await garbage(srv.app.rtmpPort, () => {});
  t.ok(Date.now() - t0 < 2000, 'a silent connection is closed at the handshake timeout');
  t.ok((srv.app.rtmp.stats().refusals['handshake-timeout'] ?? 0) >= 1);
  const socks = await Promise.all(Array.from({ length: 4 }, () => new Promise<net.Socket>((r) => {
    const s = net.connect(srv.app.rtmpPort, '127.0.0.1', () => r(s));
    s.on('error', () => {});
  })));
  await waitFor(() => (srv.app.rtmp.stats().refusals['limit-per-ip'] ?? 0) >= 1, 'per-IP cap');
  for (const s of socks) s.destroy();
});
