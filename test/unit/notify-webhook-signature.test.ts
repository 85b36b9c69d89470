import t from 'tap';
import { decodeSecret, generateSecret, sign, signedHeaders, verify } from '../../src/journey/notify/webhook-signature.js';

// The worked example from the Standard Webhooks / Svix documentation, so we match other receivers.
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SPEC_TS = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

t.test('matches the published example signature', async (t) => {
  t.equal(sign(decodeSecret(SPEC_SECRET), SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
});

t.test('verify accepts its own headers and rejects tampering, old timestamps and wrong keys', async (t) => {
  const key = decodeSecret(generateSecret());
  const now = 1_700_000_000_000;
  const body = '{"type":"stream.live"}';
  const h = signedHeaders(key, 'evt_1', body, now);
  t.ok(verify(key, h, body, now));
  t.notOk(verify(key, h, body + ' ', now), 'body changed');
  t.notOk(verify(key, { ...h, 'webhook-id': 'evt_2' }, body, now), 'id changed');
  t.notOk(verify(key, h, body, now + 301_000), 'outside the tolerance');
  t.notOk(verify(decodeSecret(generateSecret()), h, body, now), 'other key');
  t.ok(verify(key, { ...h, 'webhook-signature': `v1,AAAA ${h['webhook-signature']}` }, body, now), 'one of several matches');
  t.notOk(verify(key, { 'webhook-id': 'evt_1' }, body, now), 'headers missing');
});

t.test('a retry keeps the id and signs the new timestamp', async (t) => {
  const key = decodeSecret(generateSecret());
  const a = signedHeaders(key, 'evt_9', 'x', 1_000_000_000);
  const b = signedHeaders(key, 'evt_9', 'x', 1_000_060_000);
  t.equal(a['webhook-id'], b['webhook-id']);
  t.not(a['webhook-signature'], b['webhook-signature']);
});

t.test('bad secrets are refused', async (t) => {
  t.throws(() => decodeSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), /whsec_/);
  t.throws(() => decodeSecret('whsec_not*base64'), /base64/);
  t.throws(() => decodeSecret('whsec_AAAA'), /24\.\.64/);
});
