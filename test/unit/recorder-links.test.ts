import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkSigner, loadLinkSecret, SECRET_FILE } from '../../src/recorder/signed-links.js';

t.test('a signed link verifies until it expires; any change to id, expiry or signature is refused', async (t) => {
  let now = 1_700_000_000_000;
  const signer = new LinkSigner(Buffer.alloc(32, 7), 3600, () => now);
  const { exp, sig, expiresAt } = signer.sign('stream1');
  t.equal(exp, 1_700_000_000 + 3600);
  t.equal(expiresAt, exp * 1000);
  t.equal(signer.verify('stream1', String(exp), sig), 'ok');
  t.equal(signer.verify('stream2', String(exp), sig), 'invalid', 'another stream');
  t.equal(signer.verify('stream1', String(exp + 1), sig), 'invalid', 'a longer expiry');
  const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  t.equal(signer.verify('stream1', String(exp), flipped), 'invalid', 'a changed signature');
  t.equal(signer.verify('stream1', String(exp), sig.slice(1)), 'invalid', 'a truncated signature');
  t.equal(signer.verify('stream1', undefined, sig), 'invalid', 'no expiry');
  t.equal(signer.verify('stream1', String(exp), undefined), 'invalid', 'no signature');
  t.equal(signer.verify('stream1', `${exp}.5`, sig), 'invalid', 'a malformed expiry');
  t.equal(signer.verify('stream1', String(exp), `${sig.slice(0, -1)}=`), 'invalid', 'a malformed signature');
  now = exp * 1000 - 1;
  t.equal(signer.verify('stream1', String(exp), sig), 'ok', 'valid until the last millisecond');
  now = exp * 1000;
  t.equal(signer.verify('stream1', String(exp), sig), 'expired');
  t.equal(new LinkSigner(Buffer.alloc(32, 8), 3600, () => 0).verify('stream1', String(exp), sig), 'invalid', 'another server secret');
});

t.test('the link secret is generated once, kept 0600 in the data dir, and a configured one wins', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-secret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = loadLinkSecret(dir, '');
  t.equal(a.length, 32);
  t.equal(statSync(join(dir, SECRET_FILE)).mode & 0o777, 0o600);
  t.same(loadLinkSecret(dir, ''), a, 'the same secret after a restart');
  t.match(readFileSync(join(dir, SECRET_FILE), 'utf8'), /^[0-9a-f]{64}\n$/);
  t.same(loadLinkSecret(dir, 'configured-secret'), Buffer.from('configured-secret'));
});
