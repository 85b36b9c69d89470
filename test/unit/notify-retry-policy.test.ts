import t from 'tap';
import { DEFAULT_RETRY, nextAttemptAt } from '../../src/journey/notify/retry-policy.js';

t.test('delays grow exponentially within the jitter band and stop at the cap', async (t) => {
  const p = { baseMs: 1_000, maxDelayMs: 16_000, lifetimeMs: 1e9 };
  for (const r of [0, 0.5, 0.999]) {
    const d = [1, 2, 3, 4, 5, 6, 7].map((a) => (nextAttemptAt(p, 0, a, 0, () => r) ?? -1));
    t.same(d.map((x) => x >= 0), Array(7).fill(true));
    for (let i = 1; i < d.length; i++) t.ok(d[i]! >= d[i - 1]!, `attempt ${i + 1} not sooner than ${i} (r=${r})`);
    t.ok(d[6]! <= 16_000 && d[6]! >= 8_000, 'capped at maxDelayMs');
  }
  t.equal(nextAttemptAt(p, 0, 1, 0, () => 0), 500, 'lower edge: half the base');
  t.equal(nextAttemptAt(p, 0, 1, 0, () => 1), 1_000, 'upper edge: the full base');
});

t.test('a row past its lifetime is dead', async (t) => {
  const created = 0;
  const justBefore = DEFAULT_RETRY.lifetimeMs - DEFAULT_RETRY.maxDelayMs;
  t.type(nextAttemptAt(DEFAULT_RETRY, created, 3, 0), 'number');
  t.equal(nextAttemptAt(DEFAULT_RETRY, created, 40, justBefore + 1, () => 1), null);
  t.equal(nextAttemptAt(DEFAULT_RETRY, created, 1, DEFAULT_RETRY.lifetimeMs, () => 0), null);
});

t.test('huge attempt counts do not overflow', async (t) => {
  t.type(nextAttemptAt({ baseMs: 1, maxDelayMs: 10, lifetimeMs: 1e9 }, 0, 10_000, 0), 'number');
});
