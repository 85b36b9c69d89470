import t from 'tap';
import { collectGarbage, startTestServer, waitUntil } from '../helpers/rtmp-harness.js';
import { spawnPublisher } from '../helpers/rtmp-ffmpeg.js';
import { RtmpTestClient } from '../helpers/rtmp-client.js';
import { garbage, garbageAfterHandshake, randomFlood, truncatedHandshake } from '../helpers/rtmp-garbage.js';

const KEY = 'sk_live_garbage_0123';
const ROUNDS = 100;

t.test('garbage x100 of each kind while ffmpeg publishes: server up, publisher undisturbed, memory bounded', async (t) => {
  const srv = await startTestServer({ keys: [KEY], limits: { handshakeTimeoutMs: 1000 } });
  t.teardown(() => srv.close());
  const pub = spawnPublisher(`rtmp://127.0.0.1:${srv.port}/live/${KEY}`, 40);
  t.teardown(() => pub.kill());
  await waitUntil(() => (srv.sinks[0]?.packets.length ?? 0) > 30, 'publisher flowing', 15_000);
  const sink = srv.sinks[0]!;

  collectGarbage();
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const framesBefore = sink.packets.filter((p) => p.kind === 'video').length;
  let handshakes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all([
      garbage(srv.port, randomFlood),
      garbage(srv.port, truncatedHandshake),
      garbage(srv.port, (s) => {
        handshakes++;
        garbageAfterHandshake(s);
      }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
  }
  const ended = Date.now();
  const elapsed = (ended - started) / 1000;
  t.equal(handshakes, ROUNDS);

  // The real publisher kept flowing at about real time throughout, with no long gap.
  const during = sink.packets.filter((p) => p.kind === 'video' && p.at >= started && p.at <= ended);
  const frames = sink.packets.filter((p) => p.kind === 'video').length - framesBefore;
  t.ok(frames >= elapsed * 30 * 0.8, `publisher undisturbed: ${frames} frames in ${elapsed.toFixed(1)} s`);
  const maxGap = Math.max(...during.map((p, i) => (i ? p.at - during[i - 1]!.at : 0)));
  t.ok(maxGap < 1000, `longest gap between frames ${maxGap} ms`);
  t.same(sink.closes, [], 'the publisher was never closed');

  // Every garbage connection was refused and counted; the log stayed small.
  await waitUntil(() => srv.server.stats().connections === 1, 'only the publisher left', 5000);
  const { refusals } = srv.server.stats();
  const total = Object.values(refusals).reduce((a, b) => a + b, 0);
  t.ok(total >= 3 * ROUNDS * 0.95, `refusals ${JSON.stringify(refusals)}`);
  t.ok((refusals['bad-handshake'] ?? 0) >= ROUNDS * 0.9, 'random bytes: bad handshake');
  t.ok((refusals['handshake-aborted'] ?? 0) >= ROUNDS, 'truncated handshakes counted');
  t.ok(srv.logs.length < 3 * ROUNDS, `refusal logging throttled (${srv.logs.length} lines)`);

  // The server still takes a well-behaved client.
  const c = await RtmpTestClient.connect(srv.port);
  t.equal((await c.connectApp('live')).values![0], '_result', 'still serving');
  c.destroy();

  collectGarbage();
  await new Promise((r) => setTimeout(r, 300));
  collectGarbage();
  const rssAfter = process.memoryUsage().rss;
  t.ok(rssAfter - rssBefore < 100 * 1024 * 1024, `RSS ${(rssBefore / 1e6).toFixed(1)} MB -> ${(rssAfter / 1e6).toFixed(1)} MB`);
  t.comment(`garbage: ${3 * ROUNDS} connections in ${elapsed.toFixed(1)} s; RSS ${(rssBefore / 1e6).toFixed(1)} -> ${(rssAfter / 1e6).toFixed(1)} MB; refusals ${JSON.stringify(refusals)}`);
  pub.kill();
  t.equal(await sink.closed, 'socket closed');
});
