// Which push subscriptions POST /v1/shoppers/me/push-subscriptions accepts (issue 15): https
// endpoints on public hosts only (unless push.allowLocalEndpoints), a P-256 point and a 16-byte auth.
import t from 'tap';
import { createECDH, randomBytes } from 'node:crypto';
import { subscriptionProblem } from '../../src/journey/notify/push-subscription-policy.js';

const e = createECDH('prime256v1');
e.generateKeys();
const keys = { p256dh: e.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
const sub = (endpoint: string, k = keys) => ({ endpoint, keys: k });

t.test('public https endpoints pass; http, credentials and local or private hosts do not', async (t) => {
  t.equal(subscriptionProblem(sub('https://fcm.googleapis.com/fcm/send/abc'), false), null);
  t.equal(subscriptionProblem(sub('https://updates.push.services.mozilla.com/wpush/v2/x'), false), null);
  t.equal(subscriptionProblem(sub('https://93.184.216.34/push'), false), null, 'a public address literal');
  for (const bad of ['http://push.example/x', 'https://user:pw@push.example/x', 'https://localhost/x', 'https://a.localhost/x', 'https://printer.local/x',
    'https://127.0.0.1/x', 'https://10.1.2.3/x', 'https://172.20.0.1/x', 'https://192.168.1.1/x', 'https://169.254.169.254/latest', 'https://100.64.0.1/x',
    'https://[::1]/x', 'https://[fd00::1]/x', 'https://[fe80::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://0.0.0.0/x', 'not a url', 'ftp://push.example/x']) {
    t.equal(subscriptionProblem(sub(bad), false)?.field, '/endpoint', `refused: ${bad}`);
  }
  t.equal(subscriptionProblem(sub('http://127.0.0.1:9000/push/1'), true), null, 'allowed with allowLocalEndpoints');
  t.equal(subscriptionProblem(sub('ftp://127.0.0.1/x'), true)?.field, '/endpoint', 'still http(s) only');
});

t.test('keys: an uncompressed P-256 point on the curve and 16 bytes of auth', async (t) => {
  const url = 'https://push.example/x';
  const compressed = createECDH('prime256v1');
  compressed.generateKeys();
  t.equal(subscriptionProblem(sub(url, { ...keys, p256dh: compressed.getPublicKey(undefined, 'compressed').toString('base64url') }), false)?.field, '/keys/p256dh', 'compressed');
  const off = Buffer.from(e.getPublicKey());
  off[64] = off[64]! ^ 1;
  t.equal(subscriptionProblem(sub(url, { ...keys, p256dh: off.toString('base64url') }), false)?.field, '/keys/p256dh', 'off the curve');
  t.equal(subscriptionProblem(sub(url, { ...keys, p256dh: 'not*base64' }), false)?.field, '/keys/p256dh');
  t.equal(subscriptionProblem(sub(url, { ...keys, auth: randomBytes(15).toString('base64url') }), false)?.field, '/keys/auth');
  t.equal(subscriptionProblem(sub(url, { ...keys, auth: `${keys.auth}==` }), false), null, 'padding tolerated');
});
