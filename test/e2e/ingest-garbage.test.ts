import t from 'tap';
import { startServer, waitFor, getText } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { ingestMeterOf } from '../../src/metrics/ingest-meter.js';
import { garbage, garbageAfterHandshake, randomFlood, truncatedHandshake } from '../helpers/rtmp-garbage.js';

// The whole server (transcoder and LL-HLS included); rtmp-garbage.test.ts holds the RTMP layer's own details.
t.test('garbage on the RTMP port leaves the server up, a live publisher undisturbed and memory bounded', async (t) => {
  const srv = await startServer({ rtmp: { handshakeTimeoutMs: 1000, maxConnectionsPerIp: 200 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 40);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(() => srv.app.origin.get(id)?.ready(), 'live stream');
  const live = srv.app.registry.get(id)!;
  const meter = ingestMeterOf(live)!;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const framesBefore = meter.videoFrames;
  const port = srv.app.rtmpPort;
  const started = Date.now();
  for (let round = 0; round < 100; round++) {
    await Promise.all([
      garbage(port, randomFlood),
      garbage(port, truncatedHandshake),
      garbage(port, garbageAfterHandshake),
    ]);
    // Spread the rounds over several seconds so the publisher's flow is measured alongside.
    await new Promise((r) => setTimeout(r, 40));
  }
  const elapsed = (Date.now() - started) / 1000;
  const refusals = srv.app.rtmp.stats().refusals;
  t.ok(Object.values(refusals).reduce((a, b) => a + b, 0) >= 200, `garbage refused and counted: ${JSON.stringify(refusals)}`);
  // The publisher kept flowing at about real time throughout.
  const frames = meter.videoFrames - framesBefore;
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
