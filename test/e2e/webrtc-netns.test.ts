// WebRTC from another host, as a phone on the LAN would be: the test makes a network namespace of its
// own joined to this host by a veth pair on a fresh 10.99.x.y/30 (the namespace's loopback stays
// down, so nothing can take a loopback shortcut), then runs the whole server in the root namespace
// with the default WebRTC network settings and the aiortc client inside the namespace: it publishes
// over WHIP, the stream goes live and the LL-HLS ladder gets parts, then a second aiortc client in
// the namespace plays it over WHEP and decodes frames. Both ICE sessions must run over the veth
// addresses: the only way in from the namespace.
import t from 'tap';
import { startServer, waitFor, getText, logsOnFailure } from '../helpers/server.js';
import { aiortcSkip, runAiortcClient } from '../helpers/aiortc.js';
import { createTestNetns, netnsSkip, type TestNetns } from '../helpers/netns.js';

let skip: string | false = netnsSkip() || aiortcSkip();
let ns: TestNetns | undefined;
if (!skip) {
  try {
    ns = createTestNetns();
  } catch (err) {
    skip = `cannot create a network namespace here: ${(err as Error).message}`;
  }
}
// Always removed, whatever happens below (the namespace and veth outlive the process otherwise).
t.teardown(() => ns?.remove());
process.once('exit', () => ns?.remove());

t.test('a client in another network namespace publishes over WHIP and plays over WHEP', { skip }, async (t) => {
  const net = ns!;
  const inNs = ['ip', 'netns', 'exec', net.name];
  // HTTP on the veth address only; WebRTC on its defaults (every own address, the veth's included).
  const srv = await startServer({
    http: { host: net.hostAddress },
    webrtc: { enabled: true, workers: 1, rtcMinPort: 48500, rtcMaxPort: 48999, bridgeMinPort: 35500, bridgeMaxPort: 35999, iceConsentTimeoutSeconds: 6 },
    transcode: { stallTimeoutMs: 4000 },
  });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const announced = srv.logs.find((l) => l.msg === 'WebRTC announces these addresses in ICE candidates')?.announced as string[] | undefined;
  t.ok(announced?.includes(net.hostAddress), `the veth address is announced (${JSON.stringify(announced)})`);

  const { id, streamKey } = await srv.createStream('phone on another network');
  const pub = runAiortcClient(['whip', `${srv.base}/whip`, streamKey, '--codec', 'h264', '--seconds', '120', '--connect-timeout', '30'], inNs);
  t.teardown(() => pub.stop());
  t.equal((await pub.next('answer', 30_000)).status, 201, 'WHIP 201 from inside the namespace');
  const cands = (await pub.next('candidates', 5000)).lines as string[];
  t.ok(cands.some((c) => c.includes(` ${net.hostAddress} `)), 'the answer has a candidate on the veth address');
  t.notOk(cands.some((c) => / 0\.0\.0\.0 /.test(c)), 'and none on 0.0.0.0');
  const pubIce = await pub.next('connected', 40_000);
  t.same([pubIce.local?.host, pubIce.remote?.host], [net.peerAddress, net.hostAddress], 'publisher ICE runs namespace -> veth address');

  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'the stream live', 30_000);
  await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return x.status === 200 && /#EXT-X-PART:DURATION=[\d.]+,URI="p\d+\.\d+\.m4s"/.test(x.text);
  }, 'LL-HLS parts from the namespace publisher', 60_000);
  t.pass('the LL-HLS playlist has parts');

  const viewer = runAiortcClient(['whep', `${srv.base}/whep/${id}`, '--frames', '30', '--seconds', '45', '--connect-timeout', '30'], inNs);
  t.teardown(() => viewer.stop());
  t.equal((await viewer.next('answer', 30_000)).status, 201, 'WHEP 201 from inside the namespace');
  const viewIce = await viewer.next('connected', 40_000);
  t.same([viewIce.local?.host, viewIce.remote?.host], [net.peerAddress, net.hostAddress], 'viewer ICE runs namespace -> veth address');
  const first = await viewer.next('frames', 45_000);
  t.same([first.width, first.height], [320, 180], 'the viewer decodes the publisher\'s 320x180 frames');
  const done = await viewer.next('done', 50_000);
  t.ok(done.frames >= 30, `the viewer decoded ${done.frames} frames`);
  t.equal(await viewer.exited(10_000), 0, 'the viewer ends its session and exits by itself');
  t.equal(await pub.stop(), 0, 'the publisher exits cleanly');
});
