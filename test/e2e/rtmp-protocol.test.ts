import t from 'tap';
import { encodeAmf0, AmfEcmaArray } from '../../src/ingest/rtmp/amf0.js';
import { RecordingSink, startTestServer, waitUntil } from '../helpers/rtmp-harness.js';
import { RtmpTestClient } from '../helpers/rtmp-client.js';

const KEY = 'sk_live_protocol_0123';

/** An AVC sequence header, a keyframe of `size` bytes, and an AAC sequence header as FLV tag bodies. */
const avcSequenceHeader = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xeb, 0xe3, 0xcb]);
const aacSequenceHeader = Buffer.from([0xaf, 0, 0x11, 0x90]);
function keyframe(size: number): Buffer {
  const b = Buffer.alloc(size, 0x42);
  Buffer.from([0x17, 1, 0, 0, 0]).copy(b);
  return b;
}

t.test('connect, publish, media, ping, acks and FCUnpublish as a client sees them', async (t) => {
  const srv = await startTestServer({ keys: [KEY] });
  t.teardown(() => srv.close());
  const c = await RtmpTestClient.connect(srv.port);
  t.teardown(() => c.destroy());
  const reply = await c.connectApp('live');
  t.equal(reply.values![0], '_result');
  t.match(reply.values![3], { level: 'status', code: 'NetConnection.Connect.Success' });
  const types = c.messages.map((m) => m.type);
  t.same(types.slice(0, 3), [5, 6, 1], 'Window Ack Size, Set Peer Bandwidth, Set Chunk Size before _result');
  t.equal(c.messages[2]!.payload.readUInt32BE(0), 4096, 'server chunk size 4096');

  const status = await c.publish(`${KEY}?token=abc`);
  t.match(status.values![3], { level: 'status', code: 'NetStream.Publish.Start' });
  t.ok(c.messages.some((m) => m.values?.[0] === 'onFCPublish'), 'onFCPublish');
  const begin = c.messages.find((m) => m.type === 4 && m.payload.readUInt16BE(0) === 0);
  t.equal(begin?.payload.readUInt32BE(2), 1, 'StreamBegin for stream 1');
  const sink = srv.sinks[0]!;
  t.equal(sink.request.streamKey, KEY, 'query string stripped from the key');
  t.equal(srv.server.stats().publishing, 1);

  c.setChunkSize(4096);
  c.send(4, 18, 1, 0, encodeAmf0('@setDataFrame', 'onMetaData', new AmfEcmaArray({ width: 1920, height: 1080, framerate: 30, videocodecid: 7, audiocodecid: 10, encoder: 'test' })));
  c.send(6, 9, 1, 0, avcSequenceHeader);
  c.send(4, 8, 1, 0, aacSequenceHeader);
  c.send(6, 9, 1, 0, keyframe(300_000));
  c.send(6, 9, 1, 33, Buffer.from([0x27, 1, 0, 0, 0, 1, 2, 3]));
  await waitUntil(() => sink.packets.length === 4, 'four packets');
  t.match(sink.metadata[0]!.info, { width: 1920, height: 1080, frameRate: 30, videoCodec: 'h264', audioCodec: 'aac', encoder: 'test' });
  t.same(sink.packets.map((p) => [p.kind, p.timestamp, p.keyframe, p.sequenceHeader, p.size]), [
    ['video', 0, true, true, avcSequenceHeader.length],
    ['audio', 0, false, true, 4],
    ['video', 0, true, false, 300_000],
    ['video', 33, false, false, 8],
  ]);

  // Ping: the response echoes the timestamp.
  const ping = Buffer.alloc(6);
  ping.writeUInt16BE(6, 0);
  ping.writeUInt32BE(123456, 2);
  c.send(2, 4, 0, 0, ping);
  const pong = await c.waitFor((m) => m.type === 4 && m.payload.readUInt16BE(0) === 7, 'ping response');
  t.equal(pong.payload.readUInt32BE(2), 123456);
  // Our window: the server acknowledges once we have sent more than it.
  const win = Buffer.alloc(4);
  win.writeUInt32BE(100_000);
  c.send(2, 5, 0, 0, win);
  c.send(6, 9, 1, 66, keyframe(120_000));
  const ack = await c.waitFor((m) => m.type === 3, 'acknowledgement');
  // The window was set after ~370 KB had arrived, so the first ack counts at least those.
  t.ok(ack.payload.readUInt32BE(0) > 300_000 && ack.payload.readUInt32BE(0) <= srv.server.stats().bytesReceived, `acknowledged ${ack.payload.readUInt32BE(0)} bytes`);

  c.command(0, 'FCUnpublish', 6, null, KEY);
  await sink.closed;
  t.same(sink.closes, ['unpublish']);
  await c.waitForCommand('onStatus', 'NetStream.Unpublish.Success');
  c.command(0, 'deleteStream', 7, null, 1);
  c.destroy();
  await waitUntil(() => srv.server.stats().connections === 0, 'connection closed');
  t.same(sink.closes, ['unpublish'], 'still exactly one onClose after deleteStream and socket close');
  t.equal(srv.server.stats().publishing, 0);
});

t.test('AMF3 command messages (type 17) are understood', async (t) => {
  const srv = await startTestServer({ keys: [KEY] });
  t.teardown(() => srv.close());
  const c = await RtmpTestClient.connect(srv.port);
  t.teardown(() => c.destroy());
  await c.handshake();
  c.send(3, 17, 0, 0, Buffer.concat([Buffer.from([0]), encodeAmf0('connect', 1, { app: 'live', objectEncoding: 3 })]));
  const r = await c.waitForCommand('_result', 'NetConnection.Connect.Success');
  t.ok(r);
});

t.test('refusals: bad key, already publishing, play; each closes the socket', async (t) => {
  const srv = await startTestServer({ keys: [KEY] });
  t.teardown(() => srv.close());
  const a = await RtmpTestClient.connect(srv.port);
  await a.connectApp('live');
  const bad = await a.publish('nope-nope-nope');
  t.match(bad.values![3], { level: 'error', code: 'NetStream.Publish.BadName' });
  await a.closed;
  t.pass('closed after a bad key');

  const b = await RtmpTestClient.connect(srv.port);
  await b.connectApp('live');
  t.match((await b.publish(KEY)).values![3], { code: 'NetStream.Publish.Start' });
  const c = await RtmpTestClient.connect(srv.port);
  await c.connectApp('live');
  t.match((await c.publish(KEY)).values![3], { level: 'error', code: 'NetStream.Publish.BadName' });
  await c.closed;
  t.notOk(b.isClosed, 'the first publisher stays');

  const d = await RtmpTestClient.connect(srv.port);
  await d.connectApp('live');
  d.command(0, 'createStream', 2, null);
  d.command(1, 'play', 3, null, KEY);
  await d.waitForCommand('onStatus', 'NetStream.Play.Failed');
  await d.closed;

  const e = await RtmpTestClient.connect(srv.port);
  const wrong = await e.connectApp('vod');
  t.match(wrong.values, ['_error', 1, null, { code: 'NetConnection.Connect.Rejected' }]);
  await e.closed;
  t.same(srv.server.stats().refusals, { 'bad-key': 1, 'already-publishing': 1, 'play-unsupported': 1, 'bad-app': 1 });
  b.destroy();
});

t.test('the sink hears onClose once whatever ends the publish', async (t) => {
  let decide: ((v: boolean) => void) | undefined;
  const sinks: RecordingSink[] = [];
  const srv = await startTestServer({
    onPublish: async (req) => {
      if (req.streamKey === 'explode') throw new Error('store down');
      if (req.streamKey === 'slow') await new Promise<boolean>((r) => (decide = r));
      const sink = new RecordingSink(req);
      sinks.push(sink);
      return { ok: true, sink };
    },
  });
  t.teardown(() => srv.close());

  // A socket that drops while publishing.
  const a = await RtmpTestClient.connect(srv.port);
  await a.connectApp('live');
  await a.publish('drop');
  a.destroy();
  t.equal(await sinks[0]!.closed, 'socket closed');

  // The application closes a publisher (takeover by a reconnecting OBS).
  const b = await RtmpTestClient.connect(srv.port);
  await b.connectApp('live');
  await b.publish('takeover');
  sinks[1]!.request.connection.close('taken over');
  t.equal(await sinks[1]!.closed, 'taken over');
  await b.closed;
  t.ok(sinks[1]!.request.connection.isClosed());

  // onPublish that throws: the connection is closed and counted; the server carries on.
  const c = await RtmpTestClient.connect(srv.port);
  await c.connectApp('live');
  c.command(0, 'createStream', 2, null);
  c.command(1, 'publish', 3, null, 'explode', 'live');
  await c.closed;
  t.equal(srv.server.stats().refusals['internal-error'], 1);

  // A socket closed while the decision is pending: the sink it was going to get is closed at once.
  const d = await RtmpTestClient.connect(srv.port);
  await d.connectApp('live');
  d.command(0, 'createStream', 2, null);
  d.command(1, 'publish', 3, null, 'slow', 'live');
  await waitUntil(() => decide, 'decision pending');
  d.destroy();
  await waitUntil(() => srv.server.stats().connections === 0, 'closed');
  decide!(true);
  await waitUntil(() => sinks[2], 'late decision');
  t.equal(await sinks[2]!.closed, 'socket closed');

  // Server close: every publisher's sink is closed once; close is idempotent.
  const e = await RtmpTestClient.connect(srv.port);
  await e.connectApp('live');
  await e.publish('last');
  await Promise.all([srv.close(), srv.close()]);
  t.equal(await sinks[3]!.closed, 'server stopping');
  await e.closed;
  t.same(sinks.map((s) => s.closes.length), [1, 1, 1, 1], 'exactly one onClose each');
});
