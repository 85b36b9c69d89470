// Web Push (issue 15): the VAPID public key is made on first start, kept in the data dir (0600)
// and served unchanged, as a P-256 uncompressed point in base64url.
import t from 'tap';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';

const srv = await startServer();
t.teardown(() => srv.close());

t.test('GET /v1/push/vapid-public-key serves the key kept in the data dir', async (t) => {
  const r = await srv.api('GET', '/v1/push/vapid-public-key', undefined, null);
  t.equal(r.status, 200);
  const key = Buffer.from(r.json.publicKey as string, 'base64url');
  t.equal(key.length, 65, 'an uncompressed P-256 point');
  t.equal(key[0], 4);
  const file = join(srv.dataDir, 'vapid-keys.json');
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(JSON.parse(readFileSync(file, 'utf8')).publicKey, r.json.publicKey);
});
