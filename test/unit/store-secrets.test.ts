import t from 'tap';
import { createHash } from 'node:crypto';
import { generateSecret, hashSecret, secretsEqual } from '../../src/core/secrets.js';

t.test('generateSecret: prefix + base64url of at least 128 random bits', async (t) => {
  const key = generateSecret('sk_');
  t.match(key, /^sk_[A-Za-z0-9_-]{43}$/, '32 bytes encode to 43 base64url characters');
  t.equal(Buffer.from(key.slice(3), 'base64url').length, 32);
  t.match(generateSecret('ct_'), /^ct_[A-Za-z0-9_-]{43}$/);
  t.match(generateSecret('x_', 16), /^x_[A-Za-z0-9_-]{22}$/, '16 bytes is the minimum');
  t.throws(() => generateSecret('x_', 15), RangeError, 'below 128 bits is refused');
  t.throws(() => generateSecret('x_', 20.5), RangeError);

  // Entropy, roughly: 1000 keys are all different and their characters cover the alphabet.
  const many = Array.from({ length: 1000 }, () => generateSecret('sk_'));
  t.equal(new Set(many).size, many.length, 'no repeats');
  const chars = new Set(many.join('').replaceAll('sk_', ''));
  t.ok(chars.size >= 60, `characters used: ${chars.size} of 64`);
  const bytes = Buffer.concat(many.map((k) => Buffer.from(k.slice(3), 'base64url')));
  const ones = [...bytes].reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0);
  const ratio = ones / (bytes.length * 8);
  t.ok(ratio > 0.48 && ratio < 0.52, `bit balance ${ratio.toFixed(4)}`);
});

t.test('hashSecret: stable sha256 hex', async (t) => {
  const key = generateSecret('sk_');
  t.equal(hashSecret(key), hashSecret(key), 'same input, same hash');
  t.match(hashSecret(key), /^[0-9a-f]{64}$/);
  t.not(hashSecret(key), hashSecret(key + 'x'));
  t.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'known sha256 vector');
  t.equal(hashSecret('sk_é'), createHash('sha256').update(Buffer.from('sk_é', 'utf8')).digest('hex'), 'utf8');
});

t.test('secretsEqual: constant-time comparison of any lengths', async (t) => {
  const a = generateSecret('sk_');
  t.equal(secretsEqual(a, a), true);
  t.equal(secretsEqual(a, `${a}`), true);
  t.equal(secretsEqual(a, generateSecret('sk_')), false);
  t.equal(secretsEqual(a, a.slice(0, -1)), false, 'different lengths do not throw');
  t.equal(secretsEqual('', ''), true);
  t.equal(secretsEqual('', a), false);
  t.equal(secretsEqual(hashSecret(a), hashSecret(a)), true, 'works on stored hashes too');
  t.equal(secretsEqual(hashSecret(a), a), false);
});
