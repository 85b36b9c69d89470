// A non-browser WHIP publisher (Debian's python3-aiortc, test/clients/aiortc-client.py) against the
// whole app with the default WebRTC network settings (listenIp 0.0.0.0, no announcedAddress). Before
// the listen plan, the answer announced `0.0.0.0 <port> typ host`: Chromium on the same machine got
// through, but aioice pairs with exactly the announced address and drops a response whose source is
// not the address it sent to, so ICE failed. Now the answer lists this host's own addresses, ICE
// connects over one of them, and the stream goes live into the LL-HLS ladder.
import t from 'tap';
import { interfaceAddresses } from '../../src/webrtc/listen-plan.js';
import { startServer, waitFor, getText, logsOnFailure } from '../helpers/server.js';
import { aiortcSkip, runAiortcClient } from '../helpers/aiortc.js';

const own = interfaceAddresses();
// aioice never gathers loopback candidates: on a host with no other address there is nothing to pair.
const skip = aiortcSkip() || (own.length === 0 ? 'this host has no non-loopback address (aioice does not use loopback)' : false);

t.test('aiortc publishes over WHIP with the default announcement (no 0.0.0.0 candidate)', { skip }, async (t) => {
  const srv = await startServer({
    webrtc: { enabled: true, workers: 1, rtcMinPort: 48000, rtcMaxPort: 48499, bridgeMinPort: 35000, bridgeMaxPort: 35499, iceConsentTimeoutSeconds: 6 },
    transcode: { stallTimeoutMs: 4000 },
  });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  // Other tests may add or remove addresses meanwhile (the namespace test's veth): compare with
  // what the host had just before and just after the server started.
  const ownNow = new Set([...own, ...interfaceAddresses()]);
  const announcedLog = srv.logs.find((l) => l.msg === 'WebRTC announces these addresses in ICE candidates');
  const announced = (announcedLog?.announced ?? []) as string[];
  t.ok(announced.length > 0 && announced.every((a) => ownNow.has(a)), `start-up logs the host's own addresses as announced (${announced.join(', ')})`);
  t.equal(announcedLog?.source, 'interfaces');
  t.notOk(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_WEBRTC_LOOPBACK_ONLY'), 'no loopback-only warning on a host with an address');

  const { id, streamKey } = await srv.createStream('aiortc live');
  const client = runAiortcClient(['whip', `${srv.base}/whip`, streamKey, '--codec', 'h264', '--seconds', '90']);
  t.teardown(() => client.stop());
  const answer = await client.next('answer', 30_000);
  t.equal(answer.status, 201, 'WHIP 201');
  const cands = (await client.next('candidates', 5000)).lines as string[];
  // a=candidate:<foundation> <component> <protocol> <priority> <address> <port> typ host
  const candAddresses = new Set(cands.map((c) => c.split(' ')[4]!));
  t.notOk(candAddresses.has('0.0.0.0'), 'no candidate announces 0.0.0.0');
  t.ok([...candAddresses].every((a) => ownNow.has(a) || interfaceAddresses().includes(a)), `every candidate is an own address (${[...candAddresses].join(', ')})`);
  const connected = await client.next('connected', 30_000);
  t.ok(candAddresses.has(connected.remote?.host), `ICE connected to an announced address (${connected.remote?.host}:${connected.remote?.port})`);
  t.equal(connected.remote?.protocol, 'udp', 'over UDP (preferred)');

  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'the stream live', 30_000);
  const pl = await waitFor(async () => {
    const x = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return x.status === 200 && /#EXT-X-PART:DURATION=[\d.]+,URI="p\d+\.\d+\.m4s"/.test(x.text) ? x.text : undefined;
  }, 'LL-HLS parts from the aiortc publish', 45_000);
  t.match(pl, /#EXT-X-PART:/, 'the ladder has parts');
  t.equal(await client.stop(), 0, 'the client stops cleanly');
  t.ok(client.events.some((e) => e.event === 'deleted' && e.status >= 200 && e.status < 300), 'its DELETE ended the session');
});
