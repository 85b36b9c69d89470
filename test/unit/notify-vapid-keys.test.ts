import t from 'tap';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateVapidKeys } from '../../src/journey/notify/vapid-keys.js';

t.test('made on first start as a 0600 file, the same keys on the next', async (t) => {
  const dir = t.testdir({});
  const a = loadOrCreateVapidKeys(dir);
  t.equal(Buffer.from(a.publicKey, 'base64url').length, 65, 'uncompressed P-256 point');
  t.equal(Buffer.from(a.privateKey, 'base64url').length, 32);
  t.equal(statSync(join(dir, 'vapid-keys.json')).mode & 0o777, 0o600);
  t.same(loadOrCreateVapidKeys(dir), a);
});

t.test('a corrupt key file is refused, not silently replaced', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'vapid-keys.json'), '{"publicKey":1}');
  t.throws(() => loadOrCreateVapidKeys(dir), /VAPID/);
});
