import t from 'tap';
import { decodeAmf0All, encodeAmf0, decodeAmf0 } from '../../src/ingest/rtmp/amf0.js';
import { ChunkParser, type RtmpMessage } from '../../src/ingest/rtmp/chunk-parser.js';
import { encodeMessage } from '../../src/ingest/rtmp/chunk-writer.js';

const limits = { maxChunkSize: 65536, maxMessageSize: 1024 * 1024, maxBufferedBytes: 4 * 1024 * 1024, maxChunkStreams: 8 };

t.test('AMF0 round trips what publishers send', async (t) => {
  const values = ['connect', 1, { app: 'live', tcUrl: 'rtmp://x/live', flashVer: 'FMLE/3.0', nested: { a: [1, 'b', null] } }, null, true, undefined];
  t.same(decodeAmf0All(encodeAmf0(...values)), values);
  t.throws(() => decodeAmf0All(encodeAmf0('connect').subarray(0, 4)), { name: 'AmfError' }, 'truncated');
  let deep: Buffer = Buffer.from([0x05]);
  for (let i = 0; i < 40; i++) deep = Buffer.concat([Buffer.from([0x0a, 0, 0, 0, 1]), deep]);
  t.throws(() => decodeAmf0(deep, 0), { name: 'AmfError' }, 'too deep');
  t.throws(() => decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]), 0), { name: 'AmfError' }, 'huge strict array refused before allocation');
  t.throws(() => decodeAmf0(Buffer.from([0x11]), 0), { name: 'AmfError' }, 'unknown marker');
});

function messages(chunkSize: number): { bytes: Buffer; sent: RtmpMessage[] } {
  const sent: RtmpMessage[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < 30; i++) {
    const payload = Buffer.alloc(100 + i * 97, i);
    const m = { type: i % 2 ? 9 : 8, streamId: 1, timestamp: i * 33 + (i === 29 ? 0x1000000 : 0), payload };
    sent.push(m);
    parts.push(encodeMessage(i % 2 ? 6 : 4, m.type, m.streamId, m.timestamp, payload, chunkSize));
  }
  return { bytes: Buffer.concat(parts), sent };
}

t.test('the chunk parser gives the same messages byte by byte and in big slices', async (t) => {
  const { bytes, sent } = messages(128);
  for (const slice of [1, 7, 128, 4096, bytes.length]) {
    const got: RtmpMessage[] = [];
    const p = new ChunkParser(limits, (m) => got.push(m));
    for (let i = 0; i < bytes.length; i += slice) p.push(bytes.subarray(i, i + slice));
    t.equal(got.length, sent.length, `all messages (slice ${slice})`);
    t.ok(got.every((m, i) => m.payload.equals(sent[i]!.payload) && m.timestamp === sent[i]!.timestamp && m.type === sent[i]!.type), `same payloads and timestamps (slice ${slice}, extended timestamp included)`);
    t.equal(p.bufferedBytes, 0, 'nothing held after whole messages');
  }
});

t.test('limits hold before allocation', async (t) => {
  const p = new ChunkParser(limits, () => {});
  // A type-0 header declaring a 16 MB message: refused from the header alone.
  const h = Buffer.from([0x04, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]);
  t.throws(() => p.push(h), { name: 'ChunkStreamError', reason: 'message-too-large' });
  const q = new ChunkParser(limits, () => {});
  t.throws(() => q.setChunkSize(10_000_000), { name: 'ChunkStreamError' });
  const r = new ChunkParser({ ...limits, maxChunkStreams: 2 }, () => {});
  t.throws(() => {
    for (let cs = 3; cs < 10; cs++) r.push(encodeMessage(cs, 8, 1, 0, Buffer.alloc(10), 128));
  }, { name: 'ChunkStreamError', reason: 'too-many-chunk-streams' });
  const s = new ChunkParser(limits, () => {});
  t.throws(() => s.push(Buffer.from([0xc5, 1, 2, 3])), { name: 'ChunkStreamError', reason: 'protocol-error' }, 'type-3 header on an unknown chunk stream');
  // Memory grows with what arrives, not with what the header claims.
  const u = new ChunkParser(limits, () => {});
  u.push(Buffer.from([0x04, 0, 0, 0, 0x0f, 0xff, 0xff, 9, 1, 0, 0, 0, 1, 2, 3]));
  t.ok(u.bufferedBytes <= 16 * 1024, `claimed ~1 MB, holds ${u.bufferedBytes} bytes`);
});
