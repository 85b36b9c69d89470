import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { HandshakeError, ServerHandshake, serverHandshakeReply } from '../../src/ingest/rtmp/rtmp-handshake.js';

// Written out here (not imported) so the test checks the server against the published algorithm.
const CRUD = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
const FP_KEY = Buffer.from('Genuine Adobe Flash Player 001', 'latin1');
const FMS_KEY = Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1');
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
const offsetOf = (sig: Buffer, scheme: 0 | 1) => {
  const base = scheme === 0 ? 8 : 772;
  return ((sig[base]! + sig[base + 1]! + sig[base + 2]! + sig[base + 3]!) % 728) + base + 4;
};
const withoutDigest = (sig: Buffer, off: number) => Buffer.concat([sig.subarray(0, off), sig.subarray(off + 32)]);

/** A C1 as Flash Player / librtmp's FP9 handshake writes it. */
function digestC1(scheme: 0 | 1): Buffer {
  const c1 = randomBytes(1536);
  c1.writeUInt32BE(0, 0);
  Buffer.from([9, 0, 124, 2]).copy(c1, 4);
  const off = offsetOf(c1, scheme);
  hmac(FP_KEY, withoutDigest(c1, off)).copy(c1, off);
  return c1;
}

t.test('simple handshake: S0 is 3, S2 echoes C1', async (t) => {
  const c1 = randomBytes(1536);
  c1.writeUInt32BE(0, 4);
  const r = serverHandshakeReply(c1);
  t.equal(r.length, 1 + 1536 * 2);
  t.equal(r[0], 3);
  t.equal(r.readUInt32BE(1 + 4), 0, 'S1 zero field');
  t.ok(r.subarray(1 + 1536).equals(c1), 'S2 = C1');
  // A non-zero version without a valid digest (ffmpeg's C1, random garbage) also gets the echo.
  const c1b = randomBytes(1536);
  t.ok(serverHandshakeReply(c1b).subarray(1 + 1536).equals(c1b));
});

for (const scheme of [0, 1] as const) {
  t.test(`digest handshake, scheme ${scheme}: S1 digest and S2 signature verify as a Flash client checks them`, async (t) => {
    const c1 = digestC1(scheme);
    const r = serverHandshakeReply(c1);
    const s1 = r.subarray(1, 1537);
    const s2 = r.subarray(1537);
    t.not(s1.readUInt32BE(4), 0, 'S1 announces a version');
    const s1Off = offsetOf(s1, scheme);
    t.ok(hmac(FMS_KEY, withoutDigest(s1, s1Off)).equals(s1.subarray(s1Off, s1Off + 32)), 'S1 digest with the FMS key');
    const c1Off = offsetOf(c1, scheme);
    const key = hmac(Buffer.concat([FMS_KEY, CRUD]), c1.subarray(c1Off, c1Off + 32));
    t.ok(hmac(key, s2.subarray(0, 1504)).equals(s2.subarray(1504)), 'S2 signed over the C1 digest');
    t.notOk(s2.equals(c1), 'not an echo');
  });
}

t.test('the handshake reader: any split gives the same reply and the same remainder', async (t) => {
  const c0c1 = Buffer.concat([Buffer.from([3]), randomBytes(1536)]);
  c0c1.writeUInt32BE(0, 5);
  const c2 = randomBytes(1536);
  const after = Buffer.from('first chunk bytes');
  const all = Buffer.concat([c0c1, c2, after]);
  for (const slice of [1, 100, 1536, 1537, 3073, all.length]) {
    const hs = new ServerHandshake();
    const replies: Buffer[] = [];
    const rests: Buffer[] = [];
    for (let i = 0; i < all.length; i += slice) {
      const { reply, rest } = hs.push(all.subarray(i, i + slice));
      if (reply) replies.push(reply);
      if (rest) rests.push(rest);
      if (hs.done) {
        rests.push(all.subarray(i + slice)); // later reads are the chunk stream
        break;
      }
    }
    t.equal(replies.length, 1, `one reply (slice ${slice})`);
    t.ok(replies[0]!.subarray(1537).equals(c0c1.subarray(1)), 'S2 echoes C1');
    t.ok(hs.done, 'done after C2');
    t.ok(Buffer.concat(rests).equals(after), `remainder is what followed C2 (slice ${slice})`);
  }
  t.throws(() => new ServerHandshake().push(Buffer.from([0x16, 3, 1])), HandshakeError, 'a TLS ClientHello is not RTMP');
  t.throws(() => new ServerHandshake().push(Buffer.from('GET / HTTP/1.1\r\n')), HandshakeError, 'neither is HTTP');
});
