// The WebSocket signaling (/v1/signal) with raw messages from Node: bad frames get coded errors and
// the socket stays usable; bad keys are refused the way WHIP refuses them; what a socket holds
// (its router and transport) is closed when it goes, and the server's caps and join timeout hold.
import t from 'tap';
import WebSocket from 'ws';
import { startServer, waitFor } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';

const skip = !resolveWorkerBinary() ? 'mediasoup-worker not found (bash native/mediasoup/build.sh)' : false;

/** A signaling client that matches replies to requests and keeps notices. */
class Client {
  readonly ws: WebSocket;
  readonly notices: any[] = [];
  readonly #waiting = new Map<number | null, Array<(m: any) => void>>();
  #seq = 1;
  closed?: { code: number; reason: string };

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.notice) return void this.notices.push(m);
      const q = this.#waiting.get(m.id);
      q?.shift()?.(m);
    });
    this.ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; });
  }

  static async open(url: string): Promise<Client> {
    const c = new Client(url);
    await new Promise<void>((resolve, reject) => { c.ws.once('open', () => resolve()); c.ws.once('error', reject); });
    return c;
  }

  /** Sends a raw frame and waits for the reply carrying `id` (null: a frame with no usable id). */
  raw(frame: string | Buffer, id: number | null, binary = false): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${String(frame).slice(0, 80)}`)), 5000);
      const q = this.#waiting.get(id) ?? [];
      q.push((m) => { clearTimeout(timer); resolve(m); });
      this.#waiting.set(id, q);
      this.ws.send(frame, { binary });
    });
  }

  req(type: string, fields: Record<string, unknown> = {}): Promise<any> {
    const id = this.#seq++;
    return this.raw(JSON.stringify({ id, type, ...fields }), id);
  }
}

t.test('signaling: coded errors, key refusal, ownership, limits', { skip }, async (t) => {
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 47000, rtcMaxPort: 47499, bridgeMinPort: 34000, bridgeMaxPort: 34499,
    signalingMaxConnectionsPerIp: 4, signalingJoinTimeoutMs: 1500, signalingMaxMessageBytes: 8192 } });
  t.teardown(() => srv.close());
  const url = `${srv.base.replace('http', 'ws')}/v1/signal`;
  const { id: streamId, streamKey } = await srv.createStream('Signal test');
  const c = await Client.open(url);
  t.teardown(() => c.ws.terminate());

  // Bad frames: each answered with a code, the socket stays open and usable.
  const notJson = await c.raw('{not json', null);
  t.equal(notJson.error.code, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'not JSON');
  const unknown = await c.raw(JSON.stringify({ id: 7, type: 'dance' }), 7);
  t.equal(unknown.error.code, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'unknown type');
  t.same(unknown.error.details.type, 'dance');
  const schema = await c.raw(JSON.stringify({ id: 8, type: 'join', role: 'publisher', streamKey: 42 }), 8);
  t.equal(schema.error.code, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'schema violation');
  t.match(schema.error.message, /invalid join message/);
  const extra = await c.raw(JSON.stringify({ id: 9, type: 'createTransport', sneaky: true }), 9);
  t.equal(extra.error.code, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'unknown fields are refused');
  const big = await c.raw(JSON.stringify({ id: 10, type: 'join', role: 'publisher', streamKey: 'x'.repeat(9000) }), 10);
  t.equal(big.error.code, 'SHOWCASE_ERR_SIGNAL_TOO_LARGE', 'over the soft limit: coded, socket kept');
  const binary = await c.raw(Buffer.from([1, 2, 3]), null, true);
  t.equal(binary.error.code, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'binary frames');
  const early = await c.req('getRouterRtpCapabilities');
  t.equal(early.error.code, 'SHOWCASE_ERR_SIGNAL_STATE', 'before join: a state error');

  // Keys: the same refusals as WHIP (unknown key), and the socket can try again.
  const bad = await c.req('join', { role: 'publisher', streamKey: 'sk_not_a_key' });
  t.equal(bad.error.code, 'SHOWCASE_ERR_RTMP_BAD_KEY', 'an invalid key is refused');
  t.equal(srv.app.webrtcPool!.load()[0]!.routers, 0, 'no router made for a bad key');
  const noStream = await c.req('join', { role: 'viewer', streamId: 'nosuchstream' });
  t.equal(noStream.error.code, 'SHOWCASE_ERR_NOT_FOUND', 'viewer of an unknown stream');
  const notLive = await c.req('join', { role: 'viewer', streamId });
  t.equal(notLive.error.code, 'SHOWCASE_ERR_WHEP_NOT_LIVE', 'viewer of a stream that is not live');

  // A good key: a router, capabilities and a transport, owned by the socket.
  const join = await c.req('join', { role: 'publisher', streamKey });
  t.ok(join.ok, `join ok ${JSON.stringify(join.error ?? '')}`);
  t.same(join.data, { role: 'publisher', streamId, kinds: ['audio', 'video'] });
  const again = await c.req('join', { role: 'viewer', streamId });
  t.equal(again.error.code, 'SHOWCASE_ERR_SIGNAL_STATE', 'one role per socket');
  const caps = await c.req('getRouterRtpCapabilities');
  t.ok(caps.data.rtpCapabilities.codecs.some((x: any) => x.mimeType === 'video/H264'), 'router capabilities');
  const tr = await c.req('createTransport');
  t.ok(tr.data.id && tr.data.iceCandidates.length && tr.data.dtlsParameters.fingerprints.length, 'transport params');
  const tr2 = await c.req('createTransport');
  t.equal(tr2.error.code, 'SHOWCASE_ERR_SIGNAL_STATE', 'one send transport');
  const wrongT = await c.req('connectTransport', { transportId: 'nope', dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } });
  t.equal(wrongT.error.code, 'SHOWCASE_ERR_SIGNAL_STATE', 'unknown transport');
  const badRtp = await c.req('produce', { transportId: tr.data.id, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/NOPE', payloadType: 96, clockRate: 90000 }] } });
  t.equal(badRtp.error.code, 'SHOWCASE_ERR_VALIDATION', 'mediasoup refuses the parameters: a coded 400');
  const consume = await c.req('consume', { transportId: tr.data.id, kind: 'video', rtpCapabilities: {} });
  t.equal(consume.error.code, 'SHOWCASE_ERR_SIGNAL_STATE', 'publishers do not consume');
  const load = srv.app.webrtcPool!.load()[0]!;
  t.equal(load.routers, 1);
  t.equal(load.transports, 1);

  // Going away releases the router and transport.
  c.ws.close();
  await waitFor(() => srv.app.webrtcPool!.load()[0]!.routers === 0 && srv.app.signaling!.size === 0, 'router closed with its socket', 5000);

  // leave on a live socket: the router goes, the socket stays and can join again.
  const d = await Client.open(url);
  t.teardown(() => d.ws.terminate());
  t.ok((await d.req('join', { role: 'publisher', streamKey })).ok);
  t.equal(srv.app.webrtcPool!.load()[0]!.routers, 1);
  t.ok((await d.req('leave')).ok, 'leave');
  t.equal(srv.app.webrtcPool!.load()[0]!.routers, 0, 'leave closes the router');
  t.ok((await d.req('join', { role: 'publisher', streamKey })).ok, 'the socket joins again');

  // Per-address cap: d plus three more are four; the fifth is refused at the upgrade.
  const more = await Promise.all([1, 2, 3].map(() => Client.open(url)));
  t.teardown(() => more.forEach((m) => m.ws.terminate()));
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('error', () => {});
  });
  t.equal(refused, 429, 'past signalingMaxConnectionsPerIp: 429');

  // Sockets that never join are closed after the join timeout, with a notice first.
  await waitFor(() => more.every((m) => m.closed), 'unjoined sockets closed', 5000);
  t.equal(more[0]!.closed!.code, 4408);
  t.equal(more[0]!.notices[0]?.code, 'SHOWCASE_ERR_SIGNAL_TIMEOUT');
  t.notOk(d.closed, 'the joined socket stays');

  // Server shutdown closes the joined socket (1001) and its router.
  await srv.app.signaling!.close();
  await waitFor(() => d.closed, 'closed at shutdown', 3000);
  t.equal(d.closed!.code, 1001);
  t.equal(srv.app.webrtcPool!.load()[0]!.routers, 0);
});

t.test('signaling viewers of an RTMP stream start and stop its on-demand WebRTC feed', { skip }, async (t) => {
  const srv = await startServer({ webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 47000, rtcMaxPort: 47499, bridgeMinPort: 34000, bridgeMaxPort: 34499,
    rtmpPlayback: { idleStopMs: 500, x264Preset: 'ultrafast' } as never } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream('RTMP via signaling');
  const ff = publishRtmp(`${srv.rtmp}/${streamKey}`, 30);
  t.teardown(() => { ff.kill('SIGKILL'); });
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'RTMP live', 15000);
  // The feed starts from the publisher's H.264 configuration (its first video tag).
  await waitFor(() => srv.app.registry.get(id)?.videoConfig, 'RTMP video configuration', 15000);
  const c = await Client.open(`${srv.base.replace('http', 'ws')}/v1/signal`);
  t.teardown(() => c.ws.terminate());
  const join = await c.req('join', { role: 'viewer', streamId: id });
  t.ok(join.ok, `viewer join of an RTMP stream ${JSON.stringify(join.error ?? '')}`);
  t.same([...join.data.kinds].sort(), ['audio', 'video']);
  t.ok(srv.app.rtmpFeeds!.feed(id), 'the join started the stream\'s WebRTC feed');
  const caps = await c.req('getRouterRtpCapabilities');
  t.ok(caps.data.rtpCapabilities.codecs.some((x: any) => x.mimeType === 'video/H264'), 'edge capabilities carry the feed\'s H.264');
  t.equal(srv.app.whep!.viewers(id), 1);
  t.ok((await c.req('leave')).ok);
  t.equal(srv.app.whep!.viewers(id), 0, 'leave gives the place back');
  await waitFor(() => !srv.app.rtmpFeeds!.feed(id), 'feed stopped after the last signaling viewer left', 10000);
});
