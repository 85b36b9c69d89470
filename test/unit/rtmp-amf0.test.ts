import t from 'tap';
import { randomBytes } from 'node:crypto';
import { AmfEcmaArray, AmfError, decodeAmf0, decodeAmf0All, encodeAmf0, type AmfValue } from '../../src/ingest/rtmp/amf0.js';
import { findMetadata, mediaInfoFromMetadata } from '../../src/ingest/rtmp/rtmp-metadata.js';

t.test('AMF0 round trips every type publishers send', async (t) => {
  const long = 'x'.repeat(70_000);
  const date = new Date(1_700_000_000_123);
  const values: AmfValue[] = [
    'connect', 1, 0, -2.5, 1e300, true, false, null, undefined, '', 'héllo ✓', long, date,
    { app: 'live', tcUrl: 'rtmp://x/live', flashVer: 'FMLE/3.0', nested: { a: [1, 'b', null, { deep: true }] } },
    [], [1, [2, [3]]],
  ];
  const back = decodeAmf0All(encodeAmf0(...values));
  t.equal(back.length, values.length);
  t.same(back, values);
  t.equal(back[11], long, 'a string over 65535 bytes goes as a long string');
  t.ok(back[12] instanceof Date && (back[12] as Date).getTime() === date.getTime(), 'date');
  t.ok(Number.isNaN(decodeAmf0All(encodeAmf0(NaN))[0] as number), 'NaN survives');

  // ECMA array (what onMetaData is): encoded with its count, decoded as an object.
  const meta = { width: 320, height: 180, encoder: 'Lavf59.27.100', stereo: true };
  const ecma = encodeAmf0('onMetaData', new AmfEcmaArray(meta));
  t.equal(ecma[1 + 2 + 'onMetaData'.length], 0x08, 'ECMA array marker');
  t.same(decodeAmf0All(ecma), ['onMetaData', meta]);
  // Encoders that omit the end marker of an ECMA array at the end of a message are tolerated.
  t.same(decodeAmf0All(ecma.subarray(0, ecma.length - 3)), ['onMetaData', meta]);
  // Keys that would touch a prototype stay plain data.
  const proto = decodeAmf0All(encodeAmf0({ __proto__x: 1, constructor: 2 } as Record<string, AmfValue>))[0] as Record<string, AmfValue>;
  t.equal(proto.constructor, 2);
});

t.test('malformed AMF0 throws AmfError, never anything else', async (t) => {
  const valid = encodeAmf0('connect', 1, { app: 'live', list: [1, 'two', { three: 3 }], when: new Date(0) }, null, 'a'.repeat(300));
  let prefixesThatThrew = 0;
  const wrongErrors: string[] = [];
  for (let n = 1; n < valid.length; n++) {
    try {
      decodeAmf0All(valid.subarray(0, n));
    } catch (err) {
      if (!(err instanceof AmfError)) wrongErrors.push(`prefix ${n}: ${String(err)}`);
      prefixesThatThrew++;
    }
  }
  t.same(wrongErrors, [], 'every truncation fails with AmfError');
  t.ok(prefixesThatThrew > valid.length * 0.9, `truncations are errors (${prefixesThatThrew} of ${valid.length - 1})`);

  let deep: Buffer = Buffer.from([0x05]);
  for (let i = 0; i < 40; i++) deep = Buffer.concat([Buffer.from([0x0a, 0, 0, 0, 1]), deep]);
  t.throws(() => decodeAmf0(deep, 0), AmfError, 'strict arrays nested too deep');
  let deepObj: Buffer = Buffer.from([0x05]);
  for (let i = 0; i < 40; i++) deepObj = Buffer.concat([Buffer.from([0x03, 0, 1, 0x61]), deepObj, Buffer.from([0, 0, 9])]);
  t.throws(() => decodeAmf0(deepObj, 0), AmfError, 'objects nested too deep');
  t.throws(() => decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]), 0), AmfError, 'huge strict array count refused before work');
  t.throws(() => decodeAmf0(Buffer.from([0x0a, 0, 0, 0x0f, 0xff, 0x05, 0x05]), 0), AmfError, 'count beyond the bytes present refused');
  t.throws(() => decodeAmf0(Buffer.from([0x0c, 0x7f, 0xff, 0xff, 0xff, 0x41]), 0), AmfError, 'long string longer than the buffer');
  t.throws(() => decodeAmf0(Buffer.from([0x02, 0x00, 0x10, 0x41]), 0), AmfError, 'string longer than the buffer');
  t.throws(() => decodeAmf0(Buffer.from([0x11]), 0), AmfError, 'AMF3 switch marker unsupported');
  t.throws(() => decodeAmf0(Buffer.from([0x07, 0, 1]), 0), AmfError, 'reference unsupported');
  t.throws(() => decodeAmf0(Buffer.from([0x03, 0, 1, 0x61, 0x05]), 0), AmfError, 'object without end marker');
  // Many tiny values in one message: the element budget applies across the whole message.
  t.throws(() => decodeAmf0All(Buffer.alloc(10_000, 0x05)), AmfError, 'too many values');
  const wide = encodeAmf0(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])));
  t.throws(() => decodeAmf0All(wide), AmfError, 'too many properties');

  // Random input: every failure is an AmfError.
  let other = 0;
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(1 + (i % 64));
    b[0] = b[0]! % 0x12; // mostly valid markers, so decoding goes somewhere
    try {
      decodeAmf0All(b);
    } catch (err) {
      if (!(err instanceof AmfError)) other++;
    }
  }
  t.equal(other, 0, 'no non-AMF errors on 3000 random inputs');
});

t.test('onMetaData becomes MediaInfo with checked values', async (t) => {
  const raw = decodeAmf0All(encodeAmf0('@setDataFrame', 'onMetaData', new AmfEcmaArray({
    width: 1280, height: 720, framerate: 29.97, videocodecid: 7, audiocodecid: 10, videodatarate: 2500, audiodatarate: 160, encoder: 'obs-output module (libobs version 30.0.0)',
  })));
  const meta = findMetadata(raw);
  t.ok(meta, 'found behind @setDataFrame');
  t.same(mediaInfoFromMetadata(meta!), { width: 1280, height: 720, frameRate: 29.97, videoCodec: 'h264', audioCodec: 'aac', videoBitrateKbps: 2500, audioBitrateKbps: 160, encoder: 'obs-output module (libobs version 30.0.0)' });
  t.same(mediaInfoFromMetadata({ width: -1, height: 1e9, framerate: 'abc', videocodecid: 'hvc1', audiocodecid: 99 }), { videoCodec: 'hevc', audioCodec: '99' }, 'nonsense left out');
  t.equal(findMetadata(['onMetaData', 3]), undefined);
  t.equal(findMetadata(['onTextData', {}]), undefined);
  t.ok(findMetadata(['onMetaData', {}]), 'without @setDataFrame');
});
