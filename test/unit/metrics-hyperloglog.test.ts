import t from 'tap';
import { HyperLogLog } from '../../src/metrics/hyperloglog.js';

/** splitmix32: a deterministic stream of well-mixed 32-bit words (so error figures are reproducible). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function fill(hll: HyperLogLog, n: number, seed: number): void {
  const next = prng(seed);
  for (let i = 0; i < n; i++) hll.add(next(), next());
}

t.test('the documented error bound', async (t) => {
  t.equal(HyperLogLog.relativeStandardError(14).toFixed(4), '0.0081');
  t.equal(HyperLogLog.relativeStandardError(12).toFixed(4), '0.0163');
});

for (const precision of [12, 14]) {
  const bound = 3 * HyperLogLog.relativeStandardError(precision);
  for (const n of [10_000, 100_000]) {
    t.test(`precision ${precision}: ${n} uniques within 3 sigma (${(bound * 100).toFixed(2)} %)`, async (t) => {
      for (const seed of [1, 2, 3]) {
        const hll = new HyperLogLog(precision);
        fill(hll, n, seed);
        const error = hll.estimate() / n - 1;
        t.ok(Math.abs(error) < bound, `seed ${seed}: ${(error * 100).toFixed(2)} %`);
      }
    });
  }
}

t.test('no bias bump across ranges (Ertl estimator)', async (t) => {
  for (const n of [0, 1, 10, 100, 1000, 20_000, 40_000, 60_000, 80_000]) {
    const hll = new HyperLogLog(14);
    fill(hll, n, 7);
    const est = hll.estimate();
    if (n === 0) t.equal(est, 0);
    else t.ok(Math.abs(est / n - 1) < 0.025, `${n}: ${est.toFixed(1)}`);
  }
});

t.test('duplicates do not count; merge is the union; registers round-trip', async (t) => {
  const a = new HyperLogLog();
  fill(a, 10_000, 11);
  const once = a.estimate();
  fill(a, 10_000, 11);
  t.equal(a.estimate(), once, 'the same items again change nothing');

  const b = new HyperLogLog();
  fill(b, 10_000, 12);
  const union = new HyperLogLog();
  fill(union, 10_000, 11);
  fill(union, 10_000, 12);
  a.merge(b);
  t.equal(a.estimate(), union.estimate());
  t.ok(Math.abs(a.estimate() / 20_000 - 1) < 0.025);

  const copy = HyperLogLog.fromRegisters(a.registers.slice());
  t.equal(copy.estimate(), a.estimate());
  t.throws(() => a.merge(new HyperLogLog(12)), RangeError);
  t.throws(() => new HyperLogLog(3), RangeError);
  t.throws(() => new HyperLogLog(17), RangeError);
});
