import t from 'tap';
import { ChunkParser, ChunkStreamError, type ChunkParserLimits, type RtmpMessage } from '../../src/ingest/rtmp/chunk-parser.js';
import { encodeMessage } from '../../src/ingest/rtmp/chunk-writer.js';
import { ChunkStreamBuilder, interleave, seededBytes, type BuiltMessage } from '../helpers/rtmp-chunks.js';

const limits: ChunkParserLimits = { maxChunkSize: 65536, maxMessageSize: 1024 * 1024, maxBufferedBytes: 4 * 1024 * 1024, maxChunkStreams: 16 };

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/** A chunk stream that exercises every header type, interleaving, extended timestamps, big csids, Set Chunk Size and Abort. */
function synthesize(): { bytes: Buffer; expected: BuiltMessage[] } {
  const b = new ChunkStreamBuilder();
  const parts: Buffer[] = [];
  const expected: BuiltMessage[] = [];
  const put = (m: BuiltMessage, fmt: 0 | 1 | 2 | 3) => {
    parts.push(...b.chunks(m, fmt));
    expected.push(m);
  };
  const msg = (csid: number, type: number, timestamp: number, size: number, seed: number, streamId = 1): BuiltMessage =>
    ({ csid, type, streamId, timestamp, payload: seededBytes(size, seed) });

  put({ csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.from('connect-ish') }, 0);
  // Audio on csid 4: type 0, then type 2 (same length), type 3 (same delta), type 1 (new length).
  put(msg(4, 8, 0, 10, 1), 0);
  put(msg(4, 8, 21, 10, 2), 2);
  put(msg(4, 8, 42, 10, 3), 3);
  put(msg(4, 8, 64, 15, 4), 1);
  // ffmpeg's rule: a type-3 header right after type 0 repeats the type-0 timestamp as the delta.
  put(msg(5, 8, 7, 5, 5), 0);
  put(msg(5, 8, 14, 5, 6), 3);
  // Video (multi-chunk) interleaved chunk by chunk with audio on another csid.
  const v1 = msg(6, 9, 1000, 300, 7);
  const a1 = msg(4, 8, 1000, 200, 8);
  parts.push(...interleave([b.chunks(v1, 0), b.chunks(a1, 1)]));
  expected.push(a1, v1); // the shorter message completes first
  const v2 = msg(6, 9, 1033, 300, 9);
  const a2 = msg(4, 8, 1021, 200, 10);
  parts.push(...interleave([b.chunks(v2, 2), b.chunks(a2, 2)]));
  expected.push(a2, v2);
  // 2-byte and 3-byte basic headers.
  put(msg(100, 9, 2000, 260, 11), 0);
  put(msg(100, 9, 2040, 260, 12), 2);
  put(msg(1000, 8, 2000, 129, 13), 0);
  put(msg(65599, 8, 2001, 1, 14), 0);
  // Extended timestamps: a type-0 absolute one (continuation chunks carry it too), an extended delta, and type 3 after it.
  put(msg(7, 9, 0x1000000, 400, 15), 0);
  put(msg(7, 9, 0x1000000 + 0xffffff, 400, 16), 2);
  put(msg(7, 9, 0x1000000 + 2 * 0xffffff, 400, 17), 3);
  put(msg(7, 9, 0x1000000 + 2 * 0xffffff + 40, 400, 18), 1);
  // Set Chunk Size (applied by the receiver's handler), then a big message in few chunks.
  put({ csid: 2, type: 1, streamId: 0, timestamp: 0, payload: u32(4096) }, 0);
  b.chunkSize = 4096;
  put(msg(6, 9, 0x1000000 + 2 * 0xffffff + 80, 20_000, 19), 0);
  // Abort: the first chunk of a message on csid 11, an Abort for csid 11, then a whole new message there.
  const aborted = b.chunks(msg(11, 9, 0x3000000, 9000, 20), 0);
  parts.push(aborted[0]!);
  put({ csid: 2, type: 2, streamId: 0, timestamp: 0, payload: u32(11) }, 0);
  put(msg(11, 9, 0x3000000 + 33, 100, 21), 0);
  // An empty message.
  put({ csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.alloc(0) }, 0);
  return { bytes: Buffer.concat(parts), expected };
}

/** Parses bytes in the given slice sizes, applying Set Chunk Size and Abort as the connection does. */
function parse(bytes: Buffer, sliceOf: (i: number) => number, lim = limits): { got: RtmpMessage[]; parser: ChunkParser } {
  const got: RtmpMessage[] = [];
  const parser: ChunkParser = new ChunkParser(lim, (m) => {
    got.push(m);
    if (m.type === 1) parser.setChunkSize(m.payload.readUInt32BE(0));
    if (m.type === 2) parser.abort(m.payload.readUInt32BE(0));
  });
  for (let i = 0, n = 0; i < bytes.length; n++) {
    const s = Math.max(1, sliceOf(n));
    parser.push(bytes.subarray(i, i + s));
    i += s;
  }
  return { got, parser };
}

function summary(ms: Array<{ type: number; streamId: number; timestamp: number; payload: Buffer }>): string[] {
  return ms.map((m) => `${m.type}/${m.streamId}@${m.timestamp}:${m.payload.length}:${m.payload.subarray(0, 4).toString('hex')}${m.payload.subarray(-4).toString('hex')}`);
}

t.test('the same messages byte by byte, in odd slices and in one piece', async (t) => {
  const { bytes, expected } = synthesize();
  const want = summary(expected);
  const runs: Array<[string, (i: number) => number]> = [
    ['byte by byte', () => 1],
    ['7-byte slices', () => 7],
    ['128-byte slices', () => 128],
    ['4096-byte slices', () => 4096],
    ['irregular slices', (i) => [1, 2, 3, 5, 11, 13, 127, 129, 3000, 17][i % 10]!],
    ['one piece', () => bytes.length],
  ];
  for (const [name, slice] of runs) {
    const { got, parser } = parse(bytes, slice);
    t.same(summary(got), want, `${name}: all ${want.length} messages, same headers and payloads`);
    t.ok(got.every((m, i) => m.payload.equals(expected[i]!.payload)), `${name}: payloads byte-identical`);
    t.equal(parser.bufferedBytes, 0, `${name}: nothing held after whole messages`);
  }
});

t.test('timestamps: deltas accumulate, 32-bit wraps keep counting up', async (t) => {
  const b = new ChunkStreamBuilder();
  const stream = Buffer.concat([
    ...b.chunks({ csid: 4, type: 8, streamId: 1, timestamp: 0xfffffff0, payload: Buffer.alloc(4) }, 0),
    ...b.chunks({ csid: 4, type: 8, streamId: 1, timestamp: 0x1_0000_0010, payload: Buffer.alloc(4) }, 2),
    // An absolute (type 0) timestamp after the wrap, on another csid.
    ...b.chunks({ csid: 6, type: 9, streamId: 1, timestamp: 0x30, payload: Buffer.alloc(4) }, 0),
    // A small step back across the wrap point stays before it.
    ...b.chunks({ csid: 4, type: 8, streamId: 1, timestamp: 0xfffffffa, payload: Buffer.alloc(4) }, 0),
  ]);
  const { got } = parse(stream, () => 5);
  t.same(got.map((m) => m.timestamp), [0xfffffff0, 0x1_0000_0010, 0x1_0000_0030, 0xfffffffa]);
});

t.test('a header declaring a message over the limit fails before anything is allocated', async (t) => {
  const sizes: number[] = [];
  const realUnsafe = Buffer.allocUnsafe;
  const realAlloc = Buffer.alloc;
  Buffer.allocUnsafe = ((n: number) => (sizes.push(n), realUnsafe(n))) as typeof Buffer.allocUnsafe;
  Buffer.alloc = ((n: number, ...rest: never[]) => (sizes.push(n), realAlloc(n, ...rest))) as typeof Buffer.alloc;
  try {
    for (const allocateDeclared of [false, true]) {
      const p = new ChunkParser({ ...limits, maxMessageSize: 8 * 1024 * 1024 }, () => t.fail('no message'));
      p.allocateDeclared = allocateDeclared;
      sizes.length = 0;
      // Type-0 header on csid 4: timestamp 0, length 0xffffff (16 MiB), type 9, stream 1; no payload yet.
      t.throws(() => p.push(Buffer.from([0x04, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0])), { name: 'ChunkStreamError', reason: 'message-too-large' });
      t.same(sizes.filter((n) => n > 64), [], `no buffer allocated (allocateDeclared=${allocateDeclared})`);
      t.equal(p.bufferedBytes, 0);
    }
    // The connection's lower pre-publish limit is enforced the same way.
    const q = new ChunkParser(limits, () => {});
    q.messageSizeLimit = 64 * 1024;
    t.throws(() => q.push(encodeMessage(3, 20, 0, 0, Buffer.alloc(70_000), 128).subarray(0, 12)), { name: 'ChunkStreamError', reason: 'message-too-large' });

    // Within the limit and trusted: one allocation of exactly the declared size, so each byte is copied once.
    const big = Buffer.alloc(300_000, 7);
    const bytes = encodeMessage(6, 9, 1, 0, big, 4096);
    const got: RtmpMessage[] = [];
    const r = new ChunkParser(limits, (m) => got.push(m));
    r.setChunkSize(4096);
    r.allocateDeclared = true;
    sizes.length = 0;
    r.push(bytes);
    t.equal(sizes.filter((n) => n === big.length).length, 1, 'one allocation at the declared length');
    t.ok(got[0]?.payload.equals(big));
    // Untrusted: memory grows with what arrives, not with what the header claims.
    const u = new ChunkParser(limits, () => {});
    sizes.length = 0;
    u.push(bytes.subarray(0, 12 + 100));
    t.ok(sizes.every((n) => n <= 16 * 1024) && u.bufferedBytes <= 16 * 1024, `claimed 300 KB, holds ${u.bufferedBytes} bytes`);
  } finally {
    Buffer.allocUnsafe = realUnsafe;
    Buffer.alloc = realAlloc;
  }
});

t.test('buffered bytes, chunk streams, chunk size and header sequence are bounded', async (t) => {
  // Trusted peer, 64 KiB budget: the fifth 16 KiB message in assembly is refused from its header.
  const p = new ChunkParser({ ...limits, maxBufferedBytes: 64 * 1024 }, () => {});
  p.allocateDeclared = true;
  t.throws(() => {
    for (let cs = 3; cs < 10; cs++) p.push(encodeMessage(cs, 9, 1, 0, Buffer.alloc(16 * 1024), 128).subarray(0, 12 + 128));
  }, { name: 'ChunkStreamError', reason: 'buffer-overflow' });
  t.ok(p.bufferedBytes <= 64 * 1024, `holds ${p.bufferedBytes}`);
  // Untrusted peer: two whole chunks of a 20 KB message on each csid, bytes actually sent, stop at the budget.
  const g = new ChunkParser({ ...limits, maxBufferedBytes: 64 * 1024 }, () => {});
  g.setChunkSize(8192);
  t.throws(() => {
    for (let cs = 3; cs < 16; cs++) g.push(encodeMessage(cs, 9, 1, 0, Buffer.alloc(20_000), 8192).subarray(0, 12 + 8192 + 1 + 8192));
  }, { name: 'ChunkStreamError', reason: 'buffer-overflow' });

  const r = new ChunkParser({ ...limits, maxChunkStreams: 2 }, () => {});
  t.throws(() => {
    for (let cs = 3; cs < 10; cs++) r.push(encodeMessage(cs, 8, 1, 0, Buffer.alloc(10), 128));
  }, { name: 'ChunkStreamError', reason: 'too-many-chunk-streams' });
  t.throws(() => new ChunkParser(limits, () => {}).setChunkSize(65537), { name: 'ChunkStreamError', reason: 'protocol-error' }, 'Set Chunk Size above the max');
  t.throws(() => new ChunkParser(limits, () => {}).setChunkSize(0), { name: 'ChunkStreamError', reason: 'protocol-error' });
  t.throws(() => new ChunkParser(limits, () => {}).push(Buffer.from([0xc5, 1, 2, 3])), { name: 'ChunkStreamError', reason: 'protocol-error' }, 'type-3 header on an unknown chunk stream');
  t.throws(() => new ChunkParser(limits, () => {}).push(Buffer.from([0x45, 0, 0, 0, 0, 0, 1, 8])), { name: 'ChunkStreamError', reason: 'protocol-error' }, 'type-1 header on an unknown chunk stream');
  // A type-1 header changing the length in the middle of a message.
  const mid = encodeMessage(4, 9, 1, 0, Buffer.alloc(300), 128).subarray(0, 12 + 128);
  t.throws(() => new ChunkParser(limits, () => {}).push(Buffer.concat([mid, Buffer.from([0x44, 0, 0, 0, 0, 0, 9, 9]), Buffer.alloc(9)])), { name: 'ChunkStreamError', reason: 'protocol-error' });
});

t.test('random bytes only ever end in ChunkStreamError, within the buffer budget', async (t) => {
  const lim = { ...limits, maxBufferedBytes: 256 * 1024 };
  let errors = 0;
  let other = 0;
  let maxHeld = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const p = new ChunkParser(lim, (m) => {
      if (m.type === 1 && m.payload.length >= 4) p.setChunkSize(m.payload.readUInt32BE(0));
    });
    const bytes = seededBytes(16 * 1024, seed);
    try {
      for (let i = 0; i < bytes.length; i += 1000) {
        p.push(bytes.subarray(i, i + 1000));
        maxHeld = Math.max(maxHeld, p.bufferedBytes);
      }
    } catch (err) {
      if (err instanceof ChunkStreamError) errors++;
      else other++;
    }
  }
  t.equal(other, 0, 'no other exception type');
  t.ok(errors > 250, `${errors} of 300 random streams rejected`);
  t.ok(maxHeld <= 256 * 1024, `at most ${maxHeld} bytes held`);
});
